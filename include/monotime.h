/* monotime.h: milliseconds on CLOCK_MONOTONIC, the one clock every deadline and run length is measured on. */
#ifndef KVMLOAD_MONOTIME_H
#define KVMLOAD_MONOTIME_H

#include <poll.h>
#include <stdint.h>

/* Now, in ms since an arbitrary start: only differences mean anything. */
int64_t monotime_ms(void);

/*
 * poll(2) until something is ready or timeout_ms (-1: no limit) has passed
 * on this clock; a signal's EINTR resumes the wait with what is left, so it
 * neither ends nor stretches it (async-signal-safe).  poll's count, 0 when
 * the time ran out, or -errno.
 */
int monotime_poll(struct pollfd *p, nfds_t n, int timeout_ms);

#endif
