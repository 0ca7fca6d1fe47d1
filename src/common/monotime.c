/* monotime.c: CLOCK_MONOTONIC in milliseconds, and poll(2) against a deadline on it. */
#include <errno.h>
#include <time.h>

#include "monotime.h"

int64_t monotime_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int monotime_poll(struct pollfd *p, nfds_t n, int timeout_ms)
{
	int64_t deadline = monotime_ms() + timeout_ms;

	for (;;) {
		int64_t left = deadline - monotime_ms();
		int r = poll(p, n, timeout_ms < 0 ? -1 : left > 0 ? (int)left : 0);

		if (r >= 0)
			return r;
		if (errno != EINTR)
			return -errno;
	}
}
