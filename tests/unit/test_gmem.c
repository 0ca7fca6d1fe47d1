/* test_gmem.c: guest memory layout, size parsing and the checked accessor's edges. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "gmem.h"

static void test_parse(void)
{
	uint64_t v = 0;

	CHECK_EQ(gmem_parse_size("256", &v), 0);
	CHECK_EQ(v, 256ULL << 20); /* bare small numbers are MiB */
	CHECK_EQ(gmem_parse_size("1048576", &v), 0);
	CHECK_EQ(v, 1048576); /* bare large numbers are bytes */
	CHECK_EQ(gmem_parse_size("512M", &v), 0);
	CHECK_EQ(v, 512ULL << 20);
	CHECK_EQ(gmem_parse_size("4g", &v), 0);
	CHECK_EQ(v, 4ULL << 30);
	CHECK_EQ(gmem_parse_size("64k", &v), 0);
	CHECK_EQ(v, 64ULL << 10);
	CHECK_EQ(gmem_parse_size("0x100000", &v), 0);
	CHECK_EQ(v, 0x100000);
	CHECK_EQ(gmem_parse_size("12X", &v), -EINVAL);
	CHECK_EQ(gmem_parse_size("", &v), -EINVAL);
	CHECK_EQ(gmem_parse_size("-5", &v), -EINVAL);
	CHECK_EQ(gmem_parse_size("99999999999999999999999", &v), -ERANGE);
	CHECK_EQ(gmem_parse_size("16777216T", &v), -ERANGE); /* 2^64 */
	CHECK_EQ(gmem_parse_size("16777215T", &v), 0);
	CHECK_EQ(v, 16777215ULL << 40);
	/* K, M, G and T only, as documented: no B, no P or E (those are all too large anyway). */
	CHECK_EQ(gmem_parse_size("2T", &v), 0);
	CHECK_EQ(v, 2ULL << 40);
	CHECK_EQ(gmem_parse_size("128MB", &v), -EINVAL);
	CHECK_EQ(gmem_parse_size("128mb", &v), -EINVAL);
	CHECK_EQ(gmem_parse_size("1P", &v), -EINVAL);
	CHECK_EQ(gmem_parse_size("1e", &v), -EINVAL);
	CHECK_EQ(gmem_parse_size("16E", &v), -EINVAL);
	CHECK_EQ(gmem_parse_size("1MM", &v), -EINVAL);
}

/* The documented limits (kvmload(8) -m: 2M to 64T, whole 4 KiB pages); too large is said first. */
static void test_check(void)
{
	CHECK_EQ(gmem_check_size(2ULL << 20), 0);
	CHECK_EQ(gmem_check_size(64ULL << 40), 0);
	CHECK_EQ(gmem_check_size((64ULL << 40) + 4096), -ERANGE);
	CHECK_EQ(gmem_check_size(UINT64_MAX), -ERANGE);
	CHECK_EQ(gmem_check_size((2ULL << 20) - 4096), -EINVAL);
	CHECK_EQ(gmem_check_size(0), -EINVAL);
	CHECK_EQ(gmem_check_size((2ULL << 20) + 1), -EINVAL);
}

/* What kvmload -m and kvmload.conf's memory both say. */
static void test_size_arg(void)
{
	const char *why = NULL;
	uint64_t v = 1;

	CHECK_EQ(gmem_size_arg("64T", &v, &why), 0);
	CHECK_EQ(v, 70368744177664ULL); /* 64 TiB */
	CHECK_EQ(gmem_size_arg("2M", &v, &why), 0);
	CHECK_EQ(v, 2097152);
	CHECK_EQ(gmem_size_arg("2097152", &v, &why), 0); /* bytes */
	CHECK_EQ(v, 2097152);
	v = 1;
	CHECK_EQ(gmem_size_arg("1E", &v, &why), -EINVAL);
	CHECK_STR(why, "invalid memory size (a number with an optional K, M, G or T suffix)");
	CHECK_EQ(v, 1); /* untouched on error */
	CHECK_EQ(gmem_size_arg("65T", &v, &why), -ERANGE);
	CHECK_STR(why, "too large (kvmload maps at most 64T)");
	CHECK_EQ(gmem_size_arg("18446744073709551615", &v, &why), -ERANGE);
	CHECK_STR(why, "too large (kvmload maps at most 64T)");
	CHECK_EQ(gmem_size_arg("99999999999999999999999", &v, &why), -ERANGE);
	CHECK_STR(why, "too large (kvmload maps at most 64T)");
	CHECK_EQ(gmem_size_arg("1048576", &v, &why), -EINVAL); /* 1 MiB in bytes */
	CHECK_STR(why, "too small (at least 2M)");
	CHECK_EQ(gmem_size_arg("2097153", &v, &why), -EINVAL);
	CHECK_STR(why, "not a whole number of 4 KiB pages");
	CHECK_EQ(v, 1);
}

static void test_lowmem_only(void)
{
	struct gmem g;
	uint64_t low = 64ULL << 20;

	CHECK_EQ(gmem_init(&g, low, 0), 0);
	CHECK_EQ(g.lowmem, low);
	CHECK_EQ(g.highmem, 0);
	CHECK(gmem_ptr(&g, 0, 1) == g.base);
	CHECK(gmem_ptr(&g, 0, 0) == g.base);
	CHECK(gmem_ptr(&g, low - 1, 1) == g.base + low - 1);
	CHECK(gmem_ptr(&g, low, 0) != NULL);
	CHECK(gmem_ptr(&g, low, 1) == NULL);
	CHECK(gmem_ptr(&g, low - 1, 2) == NULL);
	CHECK(gmem_ptr(&g, 0, low) == g.base);
	CHECK(gmem_ptr(&g, 0, low + 1) == NULL);
	CHECK(gmem_ptr(&g, UINT64_MAX, 1) == NULL);
	CHECK(gmem_ptr(&g, 1, UINT64_MAX) == NULL);
	CHECK(gmem_ptr(&g, UINT64_MAX, 0) == NULL);
	CHECK(gmem_ptr(&g, 4ULL << 30, 1) == NULL);

	/* Memory starts zeroed and reset zeroes it again. */
	uint8_t *p = gmem_ptr(&g, 4096, 16);
	CHECK(p && p[0] == 0);
	p[0] = 0xaa;
	CHECK_EQ(gmem_reset(&g), 0);
	CHECK_EQ(((uint8_t *)gmem_ptr(&g, 4096, 1))[0], 0);
	gmem_fini(&g);
}

static void test_highmem(void)
{
	struct gmem g;
	uint64_t size = (3ULL << 30) + (64ULL << 20);

	CHECK_EQ(gmem_init(&g, size, 0), 0);
	CHECK_EQ(g.lowmem, 3ULL << 30);
	CHECK_EQ(g.highmem, 64ULL << 20);
	/* The 3-4 GiB hole is not memory. */
	CHECK(gmem_ptr(&g, (3ULL << 30) - 1, 1) != NULL);
	CHECK(gmem_ptr(&g, 3ULL << 30, 1) == NULL);
	CHECK(gmem_ptr(&g, (3ULL << 30) - 1, 2) == NULL);
	CHECK(gmem_ptr(&g, (4ULL << 30) - 1, 1) == NULL);
	CHECK(gmem_ptr(&g, 4ULL << 30, 1) == g.base + (3ULL << 30));
	CHECK(gmem_ptr(&g, (4ULL << 30) + (64ULL << 20) - 1, 1) != NULL);
	CHECK(gmem_ptr(&g, (4ULL << 30) + (64ULL << 20), 1) == NULL);
	/* A range may not span the hole even if both ends are memory. */
	CHECK(gmem_ptr(&g, 0, 5ULL << 30) == NULL);
	gmem_fini(&g);
}

static void test_bad_sizes(void)
{
	struct gmem g;

	CHECK_EQ(gmem_init(&g, 0, 0), -EINVAL);
	CHECK_EQ(gmem_init(&g, 1 << 20, 0), -EINVAL);
	CHECK_EQ(gmem_init(&g, (16ULL << 20) + 1, 0), -EINVAL);
	CHECK_EQ(gmem_init(&g, (64ULL << 40) + 4096, 0), -ERANGE);
	CHECK_EQ(gmem_init(&g, UINT64_MAX, 0), -ERANGE);
}

int main(void)
{
	test_parse();
	test_check();
	test_size_arg();
	test_lowmem_only();
	test_highmem();
	test_bad_sizes();
	return check_done();
}
