/* test_memsize.c: parsing and checking a guest memory size, the rule of kvmload -m and kvmload.conf's memory. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "memsize.h"

static void test_parse(void)
{
	uint64_t v = 0;

	CHECK_EQ(memsize_parse("256", &v), 0);
	CHECK_EQ(v, 256ULL << 20); /* bare small numbers are MiB */
	CHECK_EQ(memsize_parse("1048576", &v), 0);
	CHECK_EQ(v, 1048576); /* bare large numbers are bytes */
	CHECK_EQ(memsize_parse("512M", &v), 0);
	CHECK_EQ(v, 512ULL << 20);
	CHECK_EQ(memsize_parse("4g", &v), 0);
	CHECK_EQ(v, 4ULL << 30);
	CHECK_EQ(memsize_parse("64k", &v), 0);
	CHECK_EQ(v, 64ULL << 10);
	CHECK_EQ(memsize_parse("0x100000", &v), 0);
	CHECK_EQ(v, 0x100000);
	CHECK_EQ(memsize_parse("12X", &v), -EINVAL);
	CHECK_EQ(memsize_parse("", &v), -EINVAL);
	CHECK_EQ(memsize_parse("-5", &v), -EINVAL);
	CHECK_EQ(memsize_parse("99999999999999999999999", &v), -ERANGE);
	CHECK_EQ(memsize_parse("16777216T", &v), -ERANGE); /* 2^64 */
	CHECK_EQ(memsize_parse("16777215T", &v), 0);
	CHECK_EQ(v, 16777215ULL << 40);
	/* K, M, G and T only, as documented: no B, no P or E (those are all too large anyway). */
	CHECK_EQ(memsize_parse("2T", &v), 0);
	CHECK_EQ(v, 2ULL << 40);
	CHECK_EQ(memsize_parse("128MB", &v), -EINVAL);
	CHECK_EQ(memsize_parse("128mb", &v), -EINVAL);
	CHECK_EQ(memsize_parse("1P", &v), -EINVAL);
	CHECK_EQ(memsize_parse("1e", &v), -EINVAL);
	CHECK_EQ(memsize_parse("16E", &v), -EINVAL);
	CHECK_EQ(memsize_parse("1MM", &v), -EINVAL);
}

/* The documented limits (kvmload(8) -m: 2M to 64T, whole 4 KiB pages); too large is said first. */
static void test_check(void)
{
	CHECK_EQ(memsize_check(2ULL << 20), 0);
	CHECK_EQ(memsize_check(64ULL << 40), 0);
	CHECK_EQ(memsize_check((64ULL << 40) + 4096), -ERANGE);
	CHECK_EQ(memsize_check(UINT64_MAX), -ERANGE);
	CHECK_EQ(memsize_check((2ULL << 20) - 4096), -EINVAL);
	CHECK_EQ(memsize_check(0), -EINVAL);
	CHECK_EQ(memsize_check((2ULL << 20) + 1), -EINVAL);
}

/* What kvmload -m and kvmload.conf's memory both say. */
static void test_size_arg(void)
{
	const char *why = NULL;
	uint64_t v = 1;

	CHECK_EQ(memsize_arg("64T", &v, &why), 0);
	CHECK_EQ(v, 70368744177664ULL); /* 64 TiB */
	CHECK_EQ(memsize_arg("2M", &v, &why), 0);
	CHECK_EQ(v, 2097152);
	CHECK_EQ(memsize_arg("2097152", &v, &why), 0); /* bytes */
	CHECK_EQ(v, 2097152);
	v = 1;
	CHECK_EQ(memsize_arg("1E", &v, &why), -EINVAL);
	CHECK_STR(why, "invalid memory size (a number with an optional K, M, G or T suffix)");
	CHECK_EQ(v, 1); /* untouched on error */
	CHECK_EQ(memsize_arg("65T", &v, &why), -ERANGE);
	CHECK_STR(why, "too large (kvmload maps at most 64T)");
	CHECK_EQ(memsize_arg("18446744073709551615", &v, &why), -ERANGE);
	CHECK_STR(why, "too large (kvmload maps at most 64T)");
	CHECK_EQ(memsize_arg("99999999999999999999999", &v, &why), -ERANGE);
	CHECK_STR(why, "too large (kvmload maps at most 64T)");
	CHECK_EQ(memsize_arg("1048576", &v, &why), -EINVAL); /* 1 MiB in bytes */
	CHECK_STR(why, "too small (at least 2M)");
	CHECK_EQ(memsize_arg("2097153", &v, &why), -EINVAL);
	CHECK_STR(why, "not a whole number of 4 KiB pages");
	CHECK_EQ(v, 1);
}

int main(void)
{
	test_parse();
	test_check();
	test_size_arg();
	return check_done();
}
