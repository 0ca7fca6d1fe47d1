/* test_gmem.c: guest memory layout and the checked accessor's edges. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "gmem.h"
#include "memsize.h"

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
	test_lowmem_only();
	test_highmem();
	test_bad_sizes();
	return check_done();
}
