/* handoff.c: the hand-off module (the loader's registers and low pages) and the checks that the firmware, the stub and the loaded guest fit together. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "errmsg.h"
#include "freebsd_abi.h"
#include "handoff.h"
#include "i386_gdt.h"
#include "log.h"
#include "span.h"

_Static_assert(offsetof(struct handoff_hdr, rip) == HO_RIP, "HO_RIP");
_Static_assert(offsetof(struct handoff_hdr, efer) == HO_EFER, "HO_EFER");
_Static_assert(offsetof(struct handoff_hdr, gdtr) == HO_GDTR, "HO_GDTR");
_Static_assert(offsetof(struct handoff_hdr, idtr) == HO_IDTR, "HO_IDTR");
_Static_assert(offsetof(struct handoff_hdr, cs) == HO_SEL, "HO_SEL");
_Static_assert(offsetof(struct handoff_hdr, gpr) == HO_GPR, "HO_GPR");
_Static_assert(sizeof(struct handoff_hdr) == HO_HDR_SIZE, "HO_HDR_SIZE");
_Static_assert(sizeof(struct handoff_chunk) == HO_CHUNK_SIZE, "HO_CHUNK_SIZE");
/* The largest module: the header, every carried byte, a chunk header and padding for each range. */
_Static_assert(HO_HDR_SIZE + HANDOFF_CARRY_LIMIT + FOOTPRINT_MAX * (HO_CHUNK_SIZE + 7) <= HANDOFF_MODULE_MAX,
	       "HANDOFF_MODULE_MAX");

#define MODULEP_WINDOW  (64 * 1024)
#define SMAP_ENTRY      20

#define LONG_SEL_CODE 0x08
#define LONG_SEL_DATA 0x10
#define LONG_GDT_LIMIT (3 * 8 - 1)
#define RFLAGS_RESERVED 0x2
#define I386_CR0 0x21ULL /* CR0_PE | CR0_NE */

#define PG_P  0x1ULL
#define PG_PS 0x80ULL
#define PG_ADDR 0x000ffffffffff000ULL

/*
 * What qboot on QEMU's pc machine keeps for itself and the kernel reads
 * later (measured: a memory diff after a run, and the test kernel's ACPI
 * probe): the MP table in the EBDA, QEMU's ACPI tables, the BIOS segment
 * with the RSDP.  0xa0000-0xcffff is VGA and option-ROM space, no RAM.
 */
static const struct fw_range {
	uint64_t start, end;
	const char *what;
} handoff_fw[] = {
	{ 0x9fc00, 0xa0000, "the EBDA, where firmware keeps its MP table" },
	{ 0xa0000, 0xd0000, "the VGA and option-ROM hole" },
	{ 0xd0000, 0xf0000, "firmware's ACPI tables" },
	{ 0xf0000, 0x100000, "the BIOS segment (RSDP)" },
};

static const struct fw_range *handoff_fw_meets(uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < sizeof(handoff_fw) / sizeof(handoff_fw[0]); i++)
		if (handoff_fw[i].start < end && start < handoff_fw[i].end)
			return &handoff_fw[i];
	return NULL;
}

/* Nothing the loader wrote may sit where firmware keeps data, the stub runs or the module lands. */
static int handoff_check_footprint(const struct footprint *fp, uint64_t mod_start, uint64_t mod_end,
				   char *err, size_t errlen)
{
	for (uint32_t i = 0; i < fp->n; i++) {
		const struct footprint_range *r = &fp->r[i];
		const struct fw_range *fw = handoff_fw_meets(r->start, r->end);

		if (fw)
			return errmsg_set(err, errlen, EINVAL, "the loader wrote guest memory [0x%llx, 0x%llx), "
					   "which meets %s [0x%llx, 0x%llx)",
					   (unsigned long long)r->start, (unsigned long long)r->end, fw->what,
					   (unsigned long long)fw->start, (unsigned long long)fw->end);
		if (r->start < HANDOFF_STUB_LIMIT && HANDOFF_STUB_BASE < r->end)
			return errmsg_set(err, errlen, EINVAL, "the loader placed data at [0x%llx, 0x%llx), where "
					   "kvmload's entry stub is loaded [0x%llx, 0x%llx)",
					   (unsigned long long)r->start, (unsigned long long)r->end,
					   (unsigned long long)HANDOFF_STUB_BASE, (unsigned long long)HANDOFF_STUB_LIMIT);
		if (r->start < mod_end && mod_start < r->end)
			return errmsg_set(err, errlen, EINVAL, "the loader placed data at [0x%llx, 0x%llx), where "
					   "kvmload puts the hand-off module [0x%llx, 0x%llx)",
					   (unsigned long long)r->start, (unsigned long long)r->end,
					   (unsigned long long)mod_start, (unsigned long long)mod_end);
	}
	return 0;
}

/* The loader's metadata (at modulep, from the entry stack) as a span, or an empty one. */
static struct span handoff_metadata(const struct boot_regs *r, const struct gmem *g)
{
	/* amd64: 0, modulep, kernend; i386 (elf32_exec): ret, howto, bootdev, 0, 0, 0, bootinfo, modulep. */
	uint64_t at = boot_regs_long_mode(r) ? 4 : 28;
	const uint8_t *p = gmem_ptr(g, (r->rsp & GMEM_ADDR_MASK) + at, 4);
	uint32_t modulep;
	uint64_t n = MODULEP_WINDOW;

	if (!p)
		return span_make(NULL, 0);
	memcpy(&modulep, p, 4);
	modulep &= GMEM_ADDR_MASK;
	if (modulep >= g->lowmem)
		return span_make(NULL, 0);
	if (n > g->lowmem - modulep)
		n = g->lowmem - modulep;
	return span_make(gmem_ptr(g, modulep, n), (size_t)n);
}

/* The SMAP record's data in the metadata records at md, or -ENOENT. */
static int handoff_find_smap(struct span md, struct span *smap)
{
	uint64_t off = 0;

	for (int n = 0; n < 4096; n++) {
		uint32_t type, size;

		if (span_le32(md, off, &type) < 0 || span_le32(md, off + 4, &size) < 0)
			return -ENOENT;
		if (type == MODINFO_END)
			return -ENOENT;
		if (type == (MODINFO_METADATA | MODINFOMD_SMAP))
			return span_sub(md, off + 8, size, smap) < 0 ? -ENOENT : 0;
		off += 8 + (((uint64_t)size + 7) & ~7ULL);
	}
	return -ENOENT;
}

/*
 * RAM the kernel is told about must not hold firmware data.  userboot's
 * base-memory entry (0-640 KiB) is cut at the EBDA, as QEMU's own map does;
 * anything else that meets firmware data is refused.
 */
static int handoff_check_smap(struct handoff *h, const struct boot_regs *r, const struct gmem *g,
			      char *err, size_t errlen)
{
	struct span md = handoff_metadata(r, g), smap;
	const struct fw_range *ebda = &handoff_fw[0];

	if (handoff_find_smap(md, &smap) < 0) {
		log_warnx("no FreeBSD memory map (SMAP) in the loader's metadata: not checked against "
			  "the firmware's");
		return 0;
	}
	for (uint64_t off = 0; off + SMAP_ENTRY <= smap.len; off += SMAP_ENTRY) {
		uint64_t base = 0, len = 0, end;
		uint32_t type = 0;
		const struct fw_range *fw;

		span_le64(smap, off, &base);
		span_le64(smap, off + 8, &len);
		span_le32(smap, off + 16, &type);
		if (type != FBSD_SMAP_TYPE_MEMORY || len == 0 || __builtin_add_overflow(base, len, &end))
			continue;
		if (base < ebda->start && end > ebda->start && end <= ebda->end) {
			uint64_t cut = ebda->start - base;

			memcpy((uint8_t *)(uintptr_t)smap.p + off + 8, &cut, 8);
			h->smap_trimmed = 1;
			log_debug("SMAP [0x%llx, 0x%llx) cut at 0x%llx: %s", (unsigned long long)base,
				  (unsigned long long)end, (unsigned long long)ebda->start, ebda->what);
			end = ebda->start;
		}
		fw = handoff_fw_meets(base, end);
		if (fw)
			return errmsg_set(err, errlen, EINVAL, "the loader's memory map gives the kernel [0x%llx, "
					  "0x%llx) as RAM, which holds %s [0x%llx, 0x%llx)",
					   (unsigned long long)base, (unsigned long long)end, fw->what,
					   (unsigned long long)fw->start, (unsigned long long)fw->end);
	}
	return 0;
}

/* The physical address the loader's page tables give va, or UINT64_MAX. */
static uint64_t handoff_walk(const struct gmem *g, uint64_t cr3, uint64_t va)
{
	uint64_t table = cr3 & PG_ADDR;

	for (int level = 3; level >= 0; level--) {
		const uint8_t *p = gmem_ptr(g, table + ((va >> (12 + 9 * level)) & 511) * 8, 8);
		uint64_t e, page = 1ULL << (12 + 9 * level);

		if (!p)
			return UINT64_MAX;
		memcpy(&e, p, 8);
		if (!(e & PG_P))
			return UINT64_MAX;
		/* PS in a PML4 entry is reserved: the CPU would fault, so it maps nothing. */
		if (level == 3 && (e & PG_PS))
			return UINT64_MAX;
		if (level == 0 || (e & PG_PS))
			return (e & PG_ADDR & ~(page - 1)) | (va & (page - 1));
		table = e & PG_ADDR;
	}
	return UINT64_MAX;
}

/* The stub turns paging on with the loader's tables while it runs at its own address. */
static int handoff_check_paging(const struct boot_regs *r, const struct gmem *g, char *err, size_t errlen)
{
	if (r->cr3 > UINT32_MAX)
		return errmsg_set(err, errlen, EINVAL, "the loader's page tables (cr3 0x%llx) are above 4 GiB, "
				  "out of the 32-bit entry stub's reach", (unsigned long long)r->cr3);
	for (uint64_t va = HANDOFF_STUB_BASE; va < HANDOFF_STUB_LIMIT; va += 4096)
		if (handoff_walk(g, r->cr3, va) != va)
			return errmsg_set(err, errlen, EINVAL, "the loader's page tables (cr3 0x%llx) do not map "
					  "0x%llx to itself, where kvmload's entry stub runs",
					  (unsigned long long)r->cr3, (unsigned long long)va);
	return 0;
}

static void handoff_header(struct handoff_hdr *hd, const struct boot_regs *r)
{
	bool lm = boot_regs_long_mode(r);
	uint16_t data = lm ? LONG_SEL_DATA : I386_SEL_DATA;

	memset(hd, 0, sizeof(*hd));
	hd->magic = HANDOFF_MAGIC;
	hd->version = HANDOFF_VERSION;
	hd->mode = lm ? HANDOFF_MODE_LONG : HANDOFF_MODE_I386;
	hd->rip = r->rip;
	hd->rsp = r->rsp;
	hd->rflags = RFLAGS_RESERVED;
	/* i386: libvmmapi's vm_setup_freebsd_registers_i386 sets CR0 PE|NE and CR4 0, whatever the loader set. */
	hd->cr0 = lm ? r->cr0 : I386_CR0;
	hd->cr3 = r->cr3;
	hd->cr4 = lm ? r->cr4 : 0;
	hd->efer = r->efer;
	/* The GDTR as libvmmapi loads it: amd64 from setgdt's size, i386 over kvmload's four descriptors. */
	hd->gdtr.base = r->gdt_base;
	if (lm)
		hd->gdtr.limit = (uint16_t)(r->gdt_set && r->gdt_size ? r->gdt_size - 1 : LONG_GDT_LIMIT);
	else
		hd->gdtr.limit = I386_GDT_SIZE - 1;
	hd->cs = lm ? LONG_SEL_CODE : I386_SEL_CODE;
	hd->ds = hd->es = hd->fs = hd->gs = hd->ss = data;
	hd->tr = lm ? 0 : I386_SEL_TSS;
	for (unsigned i = 0; i < 15; i++)
		if (r->gpr_set & (1u << i))
			hd->gpr[i] = r->gpr[i];
}

/* Bytes of the module that carries each footprint range below HANDOFF_CARRY_LIMIT as a chunk. */
static uint64_t handoff_size(const struct footprint *carry)
{
	uint64_t len = sizeof(struct handoff_hdr);

	for (uint32_t i = 0; i < carry->n && carry->r[i].start < HANDOFF_CARRY_LIMIT; i++) {
		uint64_t end = carry->r[i].end < HANDOFF_CARRY_LIMIT ? carry->r[i].end : HANDOFF_CARRY_LIMIT;

		len += sizeof(struct handoff_chunk) + (((end - carry->r[i].start) + 7) & ~7ULL);
	}
	return len;
}

/* The module into mod[0..h->size): header, then each carried range as a chunk (below the module, so no overlap). */
static void handoff_write(struct handoff *h, uint8_t *mod, const struct boot_regs *r,
			  const struct footprint *carry, const struct gmem *g)
{
	struct handoff_hdr hd;
	uint64_t at = sizeof(hd);

	for (uint32_t i = 0; i < carry->n && carry->r[i].start < HANDOFF_CARRY_LIMIT; i++) {
		uint64_t end = carry->r[i].end < HANDOFF_CARRY_LIMIT ? carry->r[i].end : HANDOFF_CARRY_LIMIT;
		struct handoff_chunk c = { .gpa = carry->r[i].start, .len = (uint32_t)(end - carry->r[i].start) };
		uint64_t padded = (c.len + 7) & ~7ULL;

		memcpy(mod + at, &c, sizeof(c));
		/* Below HANDOFF_CARRY_LIMIT, which handoff_build checked lies in guest memory. */
		memcpy(mod + at + sizeof(c), gmem_ptr(g, c.gpa, c.len), c.len);
		memset(mod + at + sizeof(c) + c.len, 0, padded - c.len);
		at += sizeof(c) + padded;
		h->nchunks++;
		h->carried += c.len;
	}
	handoff_header(&hd, r);
	hd.nchunks = h->nchunks;
	hd.size = (uint32_t)at;
	memcpy(mod, &hd, sizeof(hd));
}

int handoff_build(struct handoff *h, const struct boot_regs *r, const struct footprint *fp,
		  const struct handoff_stub *stub, struct gmem *g, char *err, size_t errlen)
{
	struct footprint carry = *fp;
	uint8_t *mod, *image;
	int e;

	memset(h, 0, sizeof(*h));
	image = gmem_ptr(g, HANDOFF_STUB_BASE, sizeof(stub->image));
	if (!image || !gmem_ptr(g, 0, HANDOFF_CARRY_LIMIT))
		return errmsg_set(err, errlen, EINVAL, "guest memory of %llu KiB below 4 GiB cannot hold kvmload's "
				  "entry stub and hand-off module", (unsigned long long)(g->lowmem >> 10));
	if (!boot_regs_long_mode(r)) {
		/* The descriptors libvmmapi would write go into guest memory like the loader's own bytes. */
		if (i386_gdt_write(g, r->gdt_base) < 0)
			return errmsg_set(err, errlen, EINVAL, "i386 entry: GDT base 0x%llx is not in guest memory",
					  (unsigned long long)r->gdt_base);
		footprint_add(&carry, r->gdt_base, I386_GDT_SIZE);
	} else {
		e = handoff_check_paging(r, g, err, errlen);
		if (e < 0)
			return e;
	}
	h->size = handoff_size(&carry);
	mod = gmem_ptr(g, HANDOFF_MODULE_BASE, h->size);
	if (!mod)
		return errmsg_set(err, errlen, EINVAL, "guest memory of %llu KiB below 4 GiB cannot hold the "
				  "hand-off module of %llu bytes at 0x%llx", (unsigned long long)(g->lowmem >> 10),
				  (unsigned long long)h->size, (unsigned long long)HANDOFF_MODULE_BASE);
	e = handoff_check_footprint(&carry, HANDOFF_MODULE_BASE, HANDOFF_MODULE_BASE + h->size, err, errlen);
	if (e < 0)
		return e;
	e = handoff_check_smap(h, r, g, err, errlen);
	if (e < 0)
		return e;
	handoff_write(h, mod, r, &carry, g);
	/*
	 * The very bytes QEMU writes there at its reset, which may come after
	 * this (QEMU still building its machine): never anything else here.
	 */
	memcpy(image, stub->image, sizeof(stub->image));
	return 0;
}
