/* fdpass.h: bytes with a descriptor riding on them (SCM_RIGHTS) on a unix socket: the one builder of that message. */
#ifndef KVMLOAD_FDPASS_H
#define KVMLOAD_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * sendmsg of p[0..n) on sock, with fd riding on the first byte when fd >= 0;
 * flags as sendmsg's, MSG_NOSIGNAL always added (a closed peer is EPIPE,
 * never SIGPIPE).  sendmsg's count, or -1 with errno set.
 */
ssize_t fdpass_send(int sock, const void *p, size_t n, int fd, int flags);

#endif
