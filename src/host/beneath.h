/* beneath.h: opening and reading a file strictly beneath a root directory, the one resolver and reader kvmload's host-file readers share. */
#ifndef KVMLOAD_BENEATH_H
#define KVMLOAD_BENEATH_H

#include <stddef.h>
#include <stdint.h>

/*
 * openat2(root, path, flags | O_CLOEXEC) with RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS: "..", absolute symlinks and magic links
 * (/proc/self/root) cannot leave root.  Returns the fd, or -1 with errno.
 * An attempt to leave root fails with EPERM (openat2 says EXDEV, which
 * would read as "another device" to a user or a plugin); a magic link with
 * ELOOP.
 */
int beneath_open(int root, const char *path, int flags);

/*
 * The regular file at path beneath root, opened read-only (O_NONBLOCK, so
 * that a FIFO cannot hang the open).  Returns the fd, or -errno: as
 * beneath_open, or -EISDIR for a directory, -EINVAL for another type.
 */
int beneath_open_file(int root, const char *path);

/*
 * Read the regular file open at fd whole (from byte 0, whatever the fd's
 * offset) into a malloc'd buffer of *len bytes (*buf, the caller's to free).
 * Files larger than max are not read.  Returns 0, or -errno: -EINVAL (not a
 * regular file), -EFBIG (larger than max), -ENOMEM, -EIO (also when the file
 * ends before the size it had when the read began), or what fstat or read
 * said.  On -EFBIG and -ENOMEM *len is the file's size, for the message.
 * The bytes read are exactly those of the file fd was opened on, whatever
 * happens to its path meanwhile.
 */
int beneath_read_fd(int fd, size_t max, uint8_t **buf, size_t *len);

/* beneath_open_file, then beneath_read_fd: 0 with *buf and *len, or -errno of either. */
int beneath_read_all(int root, const char *path, size_t max, uint8_t **buf, size_t *len);

#endif
