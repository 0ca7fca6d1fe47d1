/* errmsg.h: the one way a library function hands back a message with its -errno. */
#ifndef KVMLOAD_ERRMSG_H
#define KVMLOAD_ERRMSG_H

#include <stddef.h>

/*
 * Format the message into err (errlen bytes; nothing when err is NULL or
 * errlen 0) and return -e, so a failing path reads
 * `return errmsg_set(err, errlen, ENOENT, "%s: ...", path);`.
 */
int errmsg_set(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
