/* fs_confine.h: the confinement of the kvmload-fs process that reads the disks: the server, or --list's reader. */
#ifndef KVMLOAD_FS_CONFINE_H
#define KVMLOAD_FS_CONFINE_H

#include <stdbool.h>
#include <sys/types.h>

#include "confine.h"

/*
 * In a forked child, single-threaded, before it reads a disk's contents:
 * die with owner (our parent, which opened the disks: the mount owner, or
 * --list's parent), become u (no supplementary groups, no capabilities,
 * no_new_privs, no core file), reach files only beneath host_fd (read; -1:
 * no host tree) and, when it serves a mount, /dev/fuse (each worker thread
 * opens its own clone), and make only the system calls of the allowlist:
 * any other kills the process with SIGSYS.  0, or -errno with err saying
 * which step failed.
 */
int fs_confine_enter(const struct confine_user *u, pid_t owner, int host_fd, bool serve, char *err, size_t errlen);

#endif
