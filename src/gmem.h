/* gmem.h: guest-physical memory (bhyve's lowmem/highmem split) and its one checked accessor. */
#ifndef KVMLOAD_GMEM_H
#define KVMLOAD_GMEM_H

#include <stdbool.h>
#include <stdint.h>

#define GMEM_LOWMEM_LIMIT (3ULL << 30) /* lowmem ends here; 3-4 GiB is MMIO */
#define GMEM_HIGHMEM_BASE (4ULL << 30) /* highmem starts here */
#define GMEM_DEFAULT_SIZE (256ULL << 20) /* bhyveload's default */
#define GMEM_MIN_SIZE (2ULL << 20)
/* The most guest RAM kvmload maps: 64 TiB, well inside the 47-bit user address space of x86-64. */
#define GMEM_MAX_SIZE (1ULL << 46)
/* x86-64 hosts, the only ones kvmload runs on, have 4 KiB base pages; KVM memory slots need them. */
#define GMEM_PAGE_SIZE 4096ULL

#define GMEM_F_WIRED  0x1 /* -S: lock guest memory into RAM */
#define GMEM_F_INCORE 0x2 /* -C: include guest memory in core dumps */

struct gmem {
	int memfd;        /* the backing memfd: lowmem bytes, then highmem bytes */
	uint8_t *base;    /* host mapping of the whole memfd */
	uint64_t lowmem;  /* bytes mapped at guest-physical 0 */
	uint64_t highmem; /* bytes mapped at guest-physical 4 GiB */
	unsigned flags;
};

/*
 * Parse a memory size the way bhyveload's vm_parse_memsize does: a bare
 * number below 1 MiB means MiB, a bare larger number means bytes, and a
 * K, M, G or T suffix (either case) scales by powers of 1024.  bhyveload's
 * P and E are not taken: 1P is beyond GMEM_MAX_SIZE already.  Syntax only;
 * see gmem_check_size.  Returns 0, or -EINVAL (not a size) / -ERANGE (does
 * not fit 64 bits).
 */
int gmem_parse_size(const char *s, uint64_t *out);

/*
 * Whether gmem_init can create memsize bytes: at least GMEM_MIN_SIZE, whole
 * GMEM_PAGE_SIZE pages, at most GMEM_MAX_SIZE.  Returns 0, -EINVAL (too small
 * or not whole pages) or -ERANGE (too large).
 */
int gmem_check_size(uint64_t memsize);

/*
 * The memory-size rule of kvmload -m and of kvmload.conf's memory, so that
 * both programs accept the same values and reject the rest in the same
 * words: gmem_parse_size, then gmem_check_size.  Returns 0 with *out set,
 * or -EINVAL / -ERANGE with *why set to a static message naming the problem.
 */
int gmem_size_arg(const char *s, uint64_t *out, const char **why);

/* Create memsize bytes of zeroed guest memory (gmem_check_size's rule).  Returns 0 or -errno. */
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
