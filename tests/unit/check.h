/* check.h: a minimal assertion harness for the unit tests (prints failures, exits 1 if any). */
#ifndef KVMLOAD_CHECK_H
#define KVMLOAD_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failed;
static int check_passed;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (cond) {                                                            \
			check_passed++;                                                \
		} else {                                                               \
			check_failed++;                                                \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                      \
	} while (0)

#define CHECK_EQ(a, b)                                                                 \
	do {                                                                           \
		long long check_a = (long long)(a), check_b = (long long)(b);          \
		if (check_a == check_b) {                                              \
			check_passed++;                                                \
		} else {                                                               \
			check_failed++;                                                \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = %lld, %s = %lld\n", \
				__FILE__, __LINE__, #a, check_a, #b, check_b);         \
		}                                                                      \
	} while (0)

#define CHECK_STR(a, b)                                                                \
	do {                                                                           \
		const char *check_a = (a), *check_b = (b);                             \
		if (check_a && check_b && strcmp(check_a, check_b) == 0) {             \
			check_passed++;                                                \
		} else {                                                               \
			check_failed++;                                                \
			fprintf(stderr, "%s:%d: CHECK_STR failed: %s = \"%s\", %s = \"%s\"\n", \
				__FILE__, __LINE__, #a, check_a ? check_a : "(null)", #b, \
				check_b ? check_b : "(null)");                         \
		}                                                                      \
	} while (0)

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
