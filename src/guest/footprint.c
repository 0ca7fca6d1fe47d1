/* footprint.c: recording the byte ranges the loader's copyin calls wrote, merged into a bounded sorted list. */
#include <errno.h>
#include <string.h>

#include "footprint.h"

static void footprint_remove(struct footprint *f, uint32_t i)
{
	memmove(&f->r[i], &f->r[i + 1], (f->n - i - 1) * sizeof(f->r[0]));
	f->n--;
}

/* Join range i with any later ones it now meets (ranges that touch are one range). */
static void footprint_absorb(struct footprint *f, uint32_t i)
{
	while (i + 1 < f->n && f->r[i + 1].start <= f->r[i].end) {
		if (f->r[i + 1].end > f->r[i].end)
			f->r[i].end = f->r[i + 1].end;
		footprint_remove(f, i + 1);
	}
}

/* The list is full: join the closest neighbours, so one slot frees and coverage only grows. */
static void footprint_squeeze(struct footprint *f)
{
	uint32_t best = 0;
	uint64_t gap = UINT64_MAX;

	for (uint32_t i = 0; i + 1 < f->n; i++) {
		if (f->r[i + 1].start - f->r[i].end < gap) {
			gap = f->r[i + 1].start - f->r[i].end;
			best = i;
		}
	}
	f->r[best].end = f->r[best + 1].end;
	footprint_remove(f, best + 1);
}

void footprint_add(struct footprint *f, uint64_t gpa, uint64_t len)
{
	uint64_t start, end;
	uint32_t i;

	if (len == 0)
		return;
	start = gpa;
	end = gpa + len;
	/* The first range that ends at or after start may meet the new one. */
	for (i = 0; i < f->n && f->r[i].end < start; i++)
		;
	if (i < f->n && f->r[i].start <= end) {
		if (start < f->r[i].start)
			f->r[i].start = start;
		if (end > f->r[i].end)
			f->r[i].end = end;
		footprint_absorb(f, i);
		return;
	}
	if (f->n == FOOTPRINT_MAX) {
		footprint_squeeze(f);
		footprint_add(f, gpa, len);
		return;
	}
	memmove(&f->r[i + 1], &f->r[i], (f->n - i) * sizeof(f->r[0]));
	f->r[i] = (struct footprint_range){ start, end };
	f->n++;
}

bool footprint_overlaps(const struct footprint *f, uint64_t start, uint64_t end)
{
	for (uint32_t i = 0; i < f->n; i++)
		if (f->r[i].start < end && start < f->r[i].end)
			return true;
	return false;
}

int footprint_check(const struct footprint *f)
{
	if (f->n > FOOTPRINT_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < f->n; i++) {
		const struct footprint_range *r = &f->r[i];

		if (r->start >= r->end)
			return -EINVAL;
		if (i > 0 && r->start <= f->r[i - 1].end)
			return -EINVAL;
	}
	return 0;
}
