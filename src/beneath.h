/* beneath.h: opening a path strictly beneath a root directory, the one resolver kvmload's host-file readers share. */
#ifndef KVMLOAD_BENEATH_H
#define KVMLOAD_BENEATH_H

/*
 * openat2(root, path, flags | O_CLOEXEC) with RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS: "..", absolute symlinks and magic links
 * (/proc/self/root) cannot leave root.  Returns the fd, or -1 with errno.
 * An attempt to leave root fails with EPERM (openat2 says EXDEV, which
 * would read as "another device" to a user or a plugin); a magic link with
 * ELOOP.
 */
int beneath_open(int root, const char *path, int flags);

#endif
