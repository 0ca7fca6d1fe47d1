/* monotime.h: milliseconds on CLOCK_MONOTONIC, the one clock every deadline and run length is measured on. */
#ifndef KVMLOAD_MONOTIME_H
#define KVMLOAD_MONOTIME_H

#include <stdint.h>

/* Now, in ms since an arbitrary start: only differences mean anything. */
int64_t monotime_ms(void);

#endif
