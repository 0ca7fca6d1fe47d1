/* fuzz_handoff.c: fuzz target: bytes -> a loaded guest (low memory, entry registers, footprint) -> handoff_build: the SMAP in the loader's metadata, its page tables, the module. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "handoff.h"
#include "i386_gdt.h"

#define FUZZ_HANDOFF_MEM  (8ULL << 20) /* guest memory, all of it lowmem */
#define FUZZ_HANDOFF_HDR  32
#define FUZZ_HANDOFF_LOAD 0x1000ULL    /* where the payload lands */

/*
 * The input: a 32-byte header (bytes past the input's end read as 0), then
 * the payload, copied to guest-physical 0x1000 onward.
 *   0      flags: bit 0 long mode, bit 1 cr3 above 4 GiB, bit 2 gdt_set,
 *          bits 4-5 the number of footprint ranges less one
 *   2-3    cr3 in pages, modulo 2048 (below 8 MiB; 0 is the i386 entry)
 *   4-7    rsp
 *   8-11   gdt_base, modulo 16 MiB (half of it outside guest memory)
 *   12-13  gdt_size
 *   14-15  md: the payload from offset md on is copied again to the modulep
 *          the stack holds (where handoff_build looks for the metadata)
 *   16-31  four footprint ranges: start / 128 and length / 16, 16 bits each,
 *          cut at the end of guest memory
 */
static struct gmem fuzz_handoff_g;

static uint64_t fuzz_handoff_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static bool fuzz_handoff_meets(uint64_t s1, uint64_t e1, uint64_t s2, uint64_t e2)
{
	return s1 < e2 && s2 < e1;
}

/* Guest memory, made on the first input and zeroed for every later one. */
static struct gmem *fuzz_handoff_mem(void)
{
	static bool made;

	if (!made) {
		if (gmem_init(&fuzz_handoff_g, FUZZ_HANDOFF_MEM, 0) < 0) {
			perror("fuzz_handoff: gmem_init");
			abort();
		}
		made = true;
	} else if (gmem_reset(&fuzz_handoff_g) < 0) {
		perror("fuzz_handoff: gmem_reset");
		abort();
	}
	return &fuzz_handoff_g;
}

/* Copy n bytes to gpa, cut at the end of guest memory. */
static void fuzz_handoff_put(struct gmem *g, uint64_t gpa, const uint8_t *p, size_t n)
{
	if (gpa >= g->lowmem || !n)
		return;
	if (n > g->lowmem - gpa)
		n = (size_t)(g->lowmem - gpa);
	memcpy(gmem_ptr(g, gpa, n), p, n);
}

/* True when [start, end) lies inside one of the module's chunks. */
static bool fuzz_handoff_carried(const struct handoff_chunk *c, unsigned n, uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < n; i++)
		if (c[i].gpa <= start && end <= c[i].gpa + c[i].len)
			return true;
	return false;
}

/*
 * A built hand-off: the stub's image at HANDOFF_STUB_BASE, a module of
 * h->size bytes at HANDOFF_MODULE_BASE within HANDOFF_MODULE_MAX, a header
 * that agrees with h, chunks that hold guest memory below HANDOFF_CARRY_LIMIT
 * and carry every byte of the footprint (and of the i386 GDT) below it; and
 * neither meets firmware data, the stub or the module.
 */
static void fuzz_handoff_check(const struct handoff *h, const struct boot_regs *r,
			       const struct footprint *fp, const struct handoff_stub *stub, const struct gmem *g)
{
	struct handoff_chunk c[FOOTPRINT_MAX];
	struct footprint all;
	struct handoff_hdr hd;
	uint64_t off = sizeof(hd), carried = 0;
	const uint8_t *buf, *image = gmem_ptr(g, HANDOFF_STUB_BASE, sizeof(stub->image));

	if (!image || memcmp(image, stub->image, sizeof(stub->image)))
		fuzz_violation("handoff", "the stub's image is not in guest memory");
	if (h->size < sizeof(hd) || h->size > HANDOFF_MODULE_MAX)
		fuzz_violation("handoff", "a module smaller than its header or larger than HANDOFF_MODULE_MAX");
	if (!(buf = gmem_ptr(g, HANDOFF_MODULE_BASE, h->size)))
		fuzz_violation("handoff", "the module is not in guest memory");
	memcpy(&hd, buf, sizeof(hd));
	if (hd.magic != HANDOFF_MAGIC || hd.version != HANDOFF_VERSION || hd.size != h->size ||
	    hd.nchunks != h->nchunks ||
	    hd.mode != (boot_regs_long_mode(r) ? HANDOFF_MODE_LONG : HANDOFF_MODE_I386))
		fuzz_violation("handoff", "the module's header disagrees with h or the entry mode");
	if (hd.nchunks > FOOTPRINT_MAX)
		fuzz_violation("handoff", "more chunks than a footprint has ranges");
	for (unsigned i = 0; i < hd.nchunks; i++) {
		uint64_t padded;
		const void *mem;

		if (h->size - off < sizeof(c[i]))
			fuzz_violation("handoff", "a chunk header past the module's end");
		memcpy(&c[i], buf + off, sizeof(c[i]));
		off += sizeof(c[i]);
		padded = ((uint64_t)c[i].len + 7) & ~7ULL;
		if (!c[i].len || c[i].gpa + c[i].len > HANDOFF_CARRY_LIMIT || h->size - off < padded)
			fuzz_violation("handoff", "an empty chunk, one at or above HANDOFF_CARRY_LIMIT, "
				       "or one past the module's end");
		mem = gmem_ptr(g, c[i].gpa, c[i].len);
		if (!mem || memcmp(buf + off, mem, c[i].len))
			fuzz_violation("handoff", "a chunk's bytes differ from guest memory");
		carried += c[i].len;
		off += padded;
	}
	if (off != h->size || carried != h->carried)
		fuzz_violation("handoff", "the chunks do not fill the module, or h.carried is wrong");
	/* The i386 entry's GDT is written by handoff_build and checked like the loader's bytes. */
	all = *fp;
	if (!boot_regs_long_mode(r))
		footprint_add(&all, r->gdt_base, I386_GDT_SIZE);
	for (uint32_t i = 0; i < all.n; i++) {
		uint64_t s = all.r[i].start, e = all.r[i].end;

		if (fuzz_handoff_meets(s, e, HANDOFF_CARRY_LIMIT, HANDOFF_STUB_LIMIT) ||
		    fuzz_handoff_meets(s, e, HANDOFF_MODULE_BASE, HANDOFF_MODULE_BASE + h->size))
			fuzz_violation("handoff", "built although the footprint meets firmware data, the "
				       "stub or the module");
		if (s < HANDOFF_CARRY_LIMIT &&
		    !fuzz_handoff_carried(c, hd.nchunks, s, e < HANDOFF_CARRY_LIMIT ? e : HANDOFF_CARRY_LIMIT))
			fuzz_violation("handoff", "a footprint range below HANDOFF_CARRY_LIMIT not carried");
	}
}

/* The lowest free descriptor: what any descriptor left open by an input moves. */
static int fuzz_handoff_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hd[FUZZ_HANDOFF_HDR] = { 0 };
	size_t nhd = size < sizeof(hd) ? size : sizeof(hd), plen = size - nhd;
	const uint8_t *payload = data + nhd, *sp;
	struct gmem *g = fuzz_handoff_mem();
	struct boot_regs r = { .rip = 0xffffffff80200120ULL, .gpr = { [1] = 0xb0b }, .gpr_set = 1u << 1 };
	struct footprint fp = { 0 };
	static struct handoff_stub stub;
	struct handoff h;
	char err[512] = "";
	uint32_t modulep;
	uint64_t md;
	int e, fd0 = fuzz_handoff_free_fd();

	memcpy(hd, data, nhd);
	fuzz_handoff_put(g, FUZZ_HANDOFF_LOAD, payload, plen);
	if (hd[0] & 1) {
		r.cr3 = (fuzz_handoff_le(hd + 2, 2) % 2048) * 4096 | (hd[0] & 2 ? 1ULL << 32 : 0);
		r.cr0 = 0x80000021;
		r.cr4 = 0x2020;
		r.efer = 0x500;
	}
	r.rsp = fuzz_handoff_le(hd + 4, 4);
	r.gdt_base = fuzz_handoff_le(hd + 8, 4) % (16ULL << 20);
	r.gdt_size = fuzz_handoff_le(hd + 12, 2);
	r.gdt_set = hd[0] & 4;
	/* The metadata where the stack says it is: amd64 modulep at rsp + 4, i386 at rsp + 28. */
	md = fuzz_handoff_le(hd + 14, 2);
	sp = gmem_ptr(g, (r.rsp & 0x7fffffffULL) + (boot_regs_long_mode(&r) ? 4 : 28), 4);
	if (sp && md < plen) {
		memcpy(&modulep, sp, 4);
		fuzz_handoff_put(g, modulep & 0x7fffffffULL, payload + md, plen - md);
	}
	for (unsigned i = 0; i <= (hd[0] >> 4 & 3u); i++) {
		uint64_t start = fuzz_handoff_le(hd + 16 + 4 * i, 2) * 128;
		uint64_t len = fuzz_handoff_le(hd + 18 + 4 * i, 2) * 16;

		footprint_add(&fp, start, len < g->lowmem - start ? len : g->lowmem - start);
	}

	memset(stub.image, 0xa5, sizeof(stub.image));
	e = handoff_build(&h, &r, &fp, &stub, g, err, sizeof(err));
	/* Every refusal is -EINVAL with a message (guest memory too small for the hand-off too). */
	if (e == 0) {
		fuzz_handoff_check(&h, &r, &fp, &stub, g);
	} else if (e != -EINVAL) {
		fuzz_violation("handoff", err[0] ? err : "handoff_build returned an errno other than EINVAL");
	} else if (!err[0] || !memchr(err, '\0', sizeof(err))) {
		fuzz_violation("handoff", "a refusal without a message naming why");
	}
	if (fuzz_handoff_free_fd() != fd0)
		fuzz_violation("handoff", "a descriptor left open");
	return 0;
}
