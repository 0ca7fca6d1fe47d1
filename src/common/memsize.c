/* memsize.c: parsing and checking a guest memory size, for kvmload -m, gmem_init and kvmload-hotplug's memory =. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "memsize.h"

int memsize_parse(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end == '\0') {
		/* bhyveload's compatibility rule: small bare numbers are MiB. */
		if (v < (1ULL << 20))
			shift = 20;
	} else {
		switch (tolower((unsigned char)*end)) {
		case 'k': shift = 10; break;
		case 'm': shift = 20; break;
		case 'g': shift = 30; break;
		case 't': shift = 40; break;
		default: return -EINVAL;
		}
		/* No "MB": kvmload(8) and kvmload.conf(5) document the bare letter only. */
		if (end[1] != '\0')
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int memsize_check(uint64_t size)
{
	/* Too large first: 2^64-1 is also not whole pages, but its size is what is wrong. */
	if (size > MEMSIZE_MAX)
		return -ERANGE;
	if (size < MEMSIZE_MIN || size % MEMSIZE_PAGE != 0)
		return -EINVAL;
	return 0;
}

int memsize_arg(const char *s, uint64_t *out, const char **why)
{
	uint64_t size = 0;
	int r = memsize_parse(s, &size);

	if (r == -EINVAL) {
		*why = "invalid memory size (a number with an optional K, M, G or T suffix)";
		return r;
	}
	if (r == 0)
		r = memsize_check(size);
	if (r == -ERANGE)
		*why = "too large (kvmload maps at most 64T)";
	else if (r < 0 && size < MEMSIZE_MIN)
		*why = "too small (at least 2M)";
	else if (r < 0)
		*why = "not a whole number of 4 KiB pages";
	if (r < 0)
		return r;
	*out = size;
	return 0;
}
