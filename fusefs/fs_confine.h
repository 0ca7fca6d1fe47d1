/* fs_confine.h: the kvmload-fs server's confinement once the view is mounted. */
#ifndef KVMLOAD_FS_CONFINE_H
#define KVMLOAD_FS_CONFINE_H

#include <sys/types.h>

#include "confine.h"

/*
 * In the forked server, single-threaded, before the session loop starts:
 * die with owner (our parent, the mount owner), become u (no supplementary
 * groups, no capabilities, no_new_privs, no core file), reach files only
 * beneath host_fd (read; -1: no host tree) and /dev/fuse (each worker
 * thread opens its own clone), and make only the system calls of the
 * allowlist: any other kills the process with SIGSYS.  0, or -errno with
 * err saying which step failed.
 */
int fs_confine_enter(const struct confine_user *u, pid_t owner, int host_fd, char *err, size_t errlen);

#endif
