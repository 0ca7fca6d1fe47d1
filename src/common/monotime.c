/* monotime.c: CLOCK_MONOTONIC in milliseconds. */
#include <time.h>

#include "monotime.h"

int64_t monotime_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
