/* footprint.h: the guest-physical bytes the loader wrote, as a short sorted list of ranges. */
#ifndef KVMLOAD_FOOTPRINT_H
#define KVMLOAD_FOOTPRINT_H

#include <stdbool.h>
#include <stdint.h>

#define FOOTPRINT_MAX 32 /* ranges kept; more are merged (never dropped) */

struct footprint_range {
	uint64_t start, end; /* start < end */
};

/*
 * Every byte the loader copied into guest memory lies in one of these ranges.
 * When a new range would make FOOTPRINT_MAX + 1, the
 * two ranges with the smallest gap between them are joined, so the list may
 * cover more than was written but never less: a safe answer for "may the
 * loader have placed something here?".
 */
struct footprint {
	uint32_t n;
	struct footprint_range r[FOOTPRINT_MAX];
};

/* Record [gpa, gpa + len); len 0 records nothing.  gpa + len must not overflow. */
void footprint_add(struct footprint *f, uint64_t gpa, uint64_t len);
/* True when some recorded range meets [start, end). */
bool footprint_overlaps(const struct footprint *f, uint64_t start, uint64_t end);
/*
 * For a list that came from elsewhere: n in range, every range non-empty,
 * sorted, disjoint and not touching its neighbour.  Returns 0 or
 * -EINVAL.
 */
int footprint_check(const struct footprint *f);

#endif
