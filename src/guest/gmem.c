/* gmem.c: guest-physical memory as one memfd, bhyve's 3 GiB lowmem split, and the checked accessor. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gmem.h"
#include "memsize.h"

int gmem_init(struct gmem *g, uint64_t memsize, unsigned flags)
{
	int err;

	memset(g, 0, sizeof(*g));
	g->memfd = -1;
	err = memsize_check(memsize);
	if (err < 0)
		return err;
	g->lowmem = memsize > GMEM_LOWMEM_LIMIT ? GMEM_LOWMEM_LIMIT : memsize;
	g->highmem = memsize - g->lowmem;
	g->flags = flags;

	g->memfd = memfd_create("kvmload-guest", MFD_CLOEXEC);
	if (g->memfd < 0)
		return -errno;
	if (ftruncate(g->memfd, (off_t)memsize) < 0)
		goto err_memfd;
	g->base = mmap(NULL, memsize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       g->memfd, 0);
	if (g->base == MAP_FAILED) {
		g->base = NULL;
		goto err_memfd;
	}
	/* Guest RAM stays out of core dumps unless -C asked for it, as in bhyve. */
	if (!(flags & GMEM_F_INCORE) && madvise(g->base, memsize, MADV_DONTDUMP) < 0)
		goto err_map;
	if ((flags & GMEM_F_WIRED) && mlock(g->base, memsize) < 0)
		goto err_map;
	return 0;

err_map:
	err = -errno;
	munmap(g->base, memsize);
	g->base = NULL;
	close(g->memfd);
	g->memfd = -1;
	return err;
err_memfd:
	err = -errno;
	close(g->memfd);
	g->memfd = -1;
	return err;
}

void *gmem_ptr(const struct gmem *g, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(gpa, len, &end))
		return NULL;
	if (end <= g->lowmem)
		return g->base + gpa;
	if (gpa >= GMEM_HIGHMEM_BASE && end - GMEM_HIGHMEM_BASE <= g->highmem)
		return g->base + g->lowmem + (gpa - GMEM_HIGHMEM_BASE);
	return NULL;
}

int gmem_reset(struct gmem *g)
{
	uint64_t size = g->lowmem + g->highmem;

	/* Punching the memfd returns its pages; wired memory is cleared in place. */
	if (!(g->flags & GMEM_F_WIRED) &&
	    fallocate(g->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)size) == 0)
		return 0;
	memset(g->base, 0, size);
	return 0;
}

void gmem_fini(struct gmem *g)
{
	if (g->base)
		munmap(g->base, g->lowmem + g->highmem);
	if (g->memfd >= 0)
		close(g->memfd);
	g->base = NULL;
	g->memfd = -1;
}
