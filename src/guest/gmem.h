/* gmem.h: guest-physical memory (bhyve's lowmem/highmem split) and its one checked accessor. */
#ifndef KVMLOAD_GMEM_H
#define KVMLOAD_GMEM_H

#include <stdbool.h>
#include <stdint.h>

#define GMEM_LOWMEM_LIMIT (3ULL << 30) /* lowmem ends here; 3-4 GiB is MMIO */
#define GMEM_HIGHMEM_BASE (4ULL << 30) /* highmem starts here */
#define GMEM_DEFAULT_SIZE (256ULL << 20) /* bhyveload's default */
/* userboot hands out KERNBASE-relative addresses; bhyveload's mask makes them physical. */
#define GMEM_ADDR_MASK 0x7fffffffULL

#define GMEM_F_WIRED  0x1 /* -S: lock guest memory into RAM */
#define GMEM_F_INCORE 0x2 /* -C: include guest memory in core dumps */

struct gmem {
	int memfd;        /* the backing memfd: lowmem bytes, then highmem bytes */
	uint8_t *base;    /* host mapping of the whole memfd */
	uint64_t lowmem;  /* bytes mapped at guest-physical 0 */
	uint64_t highmem; /* bytes mapped at guest-physical 4 GiB */
	unsigned flags;
};

/* Create memsize bytes of zeroed guest memory (memsize_check's rule).  Returns 0 or -errno. */
int gmem_init(struct gmem *g, uint64_t memsize, unsigned flags);

/*
 * The only way to touch guest memory: a host pointer to [gpa, gpa + len)
 * when the whole range lies inside lowmem or inside highmem, else NULL.
 * len 0 is valid at any address up to and including a region's end.
 */
void *gmem_ptr(const struct gmem *g, uint64_t gpa, uint64_t len);

/* Zero all guest memory (used between plugin runs). Returns 0 or -errno. */
int gmem_reset(struct gmem *g);

void gmem_fini(struct gmem *g);

#endif
