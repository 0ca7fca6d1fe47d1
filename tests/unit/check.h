/* check.h: the C tests' assertion harness: counts checks and skipped cases; check_done() gives the exit status. */
#ifndef KVMLOAD_CHECK_H
#define KVMLOAD_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failed;
static int check_passed;
static int check_skipped;

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

/*
 * A case this run cannot do (a kernel feature, root, a tool): one "SKIP: why"
 * line on stdout, counted apart from the passes, never as one.
 */
static inline void check_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void check_skip(const char *fmt, ...)
{
	va_list ap;

	check_skipped++;
	fputs("SKIP: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/*
 * The summary line and main's status: 1 when a check failed or when no check
 * ran at all (a test that checked nothing has not passed), 77 (meson: skipped)
 * when every case it has was skipped, 0 otherwise.
 */
static inline int check_done(void)
{
	printf("%d passed, %d failed", check_passed, check_failed);
	if (check_skipped)
		printf(", %d skipped", check_skipped);
	printf("\n");
	if (check_failed)
		return 1;
	if (check_passed == 0 && check_skipped)
		return 77;
	if (check_passed == 0) {
		fprintf(stderr, "FAIL: no check ran\n");
		return 1;
	}
	return 0;
}

#endif
