/* procfile.h: a small text file the kernel makes (/proc, /sys), read whole. */
#ifndef KVMLOAD_PROCFILE_H
#define KVMLOAD_PROCFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * path's text into buf, NUL-terminated, in one read of up to size - 1
 * bytes (a kernel file gives all it has at once).  Its length, or -errno
 * (open, read), or -EIO when it is empty.
 */
ssize_t procfile_read(const char *path, char *buf, size_t size);

#endif
