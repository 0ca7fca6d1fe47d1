/* test_handoff.c: the hand-off module's bytes, the footprint list, and every refusal of a guest that would not survive firmware. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "footprint.h"
#include "handoff.h"

#define LOWMEM (256ULL << 20)
#define MODULEP 0x20c000ULL

static struct gmem g;
static char err[512];

static void put_le32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A memfd holding bytes, as the stub's file. */
static int stub_file(const void *bytes, size_t len)
{
	int fd = memfd_create("stub", MFD_CLOEXEC);

	CHECK(fd >= 0 && write(fd, bytes, len) == (ssize_t)len);
	return fd;
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(gmem_ptr(&g, gpa, 8), &v, 8);
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(gmem_ptr(&g, gpa, 4), &v, 4);
}

/* A metadata block at MODULEP whose only record is a SMAP of the given entries, then MODINFO_END. */
static void put_smap(const uint64_t (*e)[3], int n)
{
	uint64_t at = MODULEP + 8;

	put32(MODULEP, 0x9001); /* MODINFO_METADATA | MODINFOMD_SMAP */
	put32(MODULEP + 4, (uint32_t)(20 * n));
	for (int i = 0; i < n; i++, at += 20) {
		put64(at, e[i][0]);
		put64(at + 8, e[i][1]);
		put32(at + 16, (uint32_t)e[i][2]);
	}
	at = MODULEP + 8 + ((20ULL * (uint64_t)n + 7) & ~7ULL);
	put32(at, 0);
	put32(at + 4, 0);
}

/* What userboot's elf64_exec leaves: stack, identity 1 GiB in 2 MiB pages, GDT; regs to match. */
static struct boot_regs userboot_long(struct footprint *fp)
{
	static const uint64_t smap[2][3] = { { 0, 0xa0000, 1 }, { 0x100000, LOWMEM - 0x100000, 1 } };

	gmem_reset(&g);
	put32(0x1004, (uint32_t)MODULEP);
	for (uint64_t i = 0; i < 512; i++) {
		put64(0x2000 + 8 * i, 0x3000 | 3);
		put64(0x3000 + 8 * i, 0x4000 | 3);
		put64(0x4000 + 8 * i, (i << 21) | 0x83);
	}
	put64(0x5008, 0x0020980000000000ULL);
	put_smap(smap, 2);
	memset(fp, 0, sizeof(*fp));
	footprint_add(fp, 0x1000, 0x1000);
	footprint_add(fp, 0x2000, 0x3000);
	footprint_add(fp, 0x5000, 24);
	footprint_add(fp, 0x200000, 0x10000);
	return (struct boot_regs){
		.rip = 0xffffffff80200120ULL, .rsp = 0x1000, .cr0 = 0x80000021, .cr3 = 0x2000,
		.cr4 = 0x2020, .efer = 0x500, .gdt_base = 0x5000, .gdt_size = 24, .gdt_set = true,
		.gpr = { [1] = 0xb0b }, .gpr_set = 1u << 1,
	};
}

static struct handoff_stub stub;

/* off bytes into the module, where handoff_build wrote it: guest memory at HANDOFF_MODULE_BASE. */
static void read_module(const struct handoff *h, uint64_t off, void *buf, size_t len)
{
	CHECK(off + len <= h->size);
	memcpy(buf, gmem_ptr(&g, HANDOFF_MODULE_BASE + off, len), len);
}

static void test_footprint(void)
{
	struct footprint f = { 0 };

	footprint_add(&f, 0x3000, 0x10);
	footprint_add(&f, 0x1000, 0x10);
	footprint_add(&f, 0x1010, 0x10); /* touching: one range */
	footprint_add(&f, 0x2000, 0);    /* nothing */
	CHECK_EQ(f.n, 2);
	CHECK_EQ(f.r[0].start, 0x1000);
	CHECK_EQ(f.r[0].end, 0x1020);
	CHECK_EQ(f.r[1].start, 0x3000);
	footprint_add(&f, 0x1018, 0x2000); /* bridges both */
	CHECK_EQ(f.n, 1);
	CHECK_EQ(f.r[0].end, 0x3018);
	CHECK(footprint_overlaps(&f, 0x3017, 0x4000));
	CHECK(!footprint_overlaps(&f, 0x3018, 0x4000));
	CHECK_EQ(footprint_check(&f), 0);
	/* Full: the closest neighbours are joined, so nothing written is ever lost. */
	memset(&f, 0, sizeof(f));
	for (uint64_t i = 0; i < FOOTPRINT_MAX; i++)
		footprint_add(&f, i * 0x10000, 0x100);
	footprint_add(&f, 0x5000, 0x10);
	CHECK(f.n <= FOOTPRINT_MAX);
	CHECK(footprint_overlaps(&f, 0, 0x100));
	CHECK(footprint_overlaps(&f, 0x5000, 0x5010));
	CHECK(footprint_overlaps(&f, (FOOTPRINT_MAX - 1) * 0x10000, (FOOTPRINT_MAX - 1) * 0x10000 + 1));
	CHECK_EQ(footprint_check(&f), 0);
	f.r[1].start = f.r[0].end;
	CHECK_EQ(footprint_check(&f), -EINVAL);
}

static void test_long(void)
{
	struct footprint fp;
	struct boot_regs r = userboot_long(&fp);
	struct handoff h;
	struct handoff_hdr hd;
	struct handoff_chunk c;
	uint8_t bytes[0x4018];
	uint64_t len0;

	CHECK_EQ(handoff_build(&h, &r, &fp, &stub, &g, err, sizeof(err)), 0);
	/* Header, then one chunk: the loader's 0x1000-0x5018 (the kernel at 2 MiB is not carried). */
	CHECK_EQ(h.nchunks, 1);
	CHECK_EQ(h.carried, 0x4018);
	CHECK_EQ(h.size, 248 + 16 + 0x4018);
	read_module(&h, 0, &hd, sizeof(hd));
	CHECK_EQ(hd.magic, 0x6b766d68);
	CHECK_EQ(hd.version, 2);
	CHECK_EQ(hd.size, h.size);
	CHECK_EQ(hd.mode, HANDOFF_MODE_LONG);
	CHECK_EQ(hd.nchunks, 1);
	CHECK_EQ(hd.rip, 0xffffffff80200120ULL);
	CHECK_EQ(hd.rsp, 0x1000);
	CHECK_EQ(hd.rflags, 0x2);
	CHECK_EQ(hd.cr0, 0x80000021);
	CHECK_EQ(hd.cr3, 0x2000);
	CHECK_EQ(hd.cr4, 0x2020); /* as the loader asked; the stub drops VMXE */
	CHECK_EQ(hd.efer, 0x500);
	CHECK_EQ(hd.gdtr.base, 0x5000);
	CHECK_EQ(hd.gdtr.limit, 23);
	CHECK_EQ(hd.idtr.base, 0);
	CHECK_EQ(hd.idtr.limit, 0);
	CHECK_EQ(hd.cs, 0x08);
	CHECK_EQ(hd.ss, 0x10);
	CHECK_EQ(hd.ds, 0x10);
	CHECK_EQ(hd.tr, 0);
	CHECK_EQ(hd.gpr[1], 0xb0b);
	CHECK_EQ(hd.gpr[0], 0);
	read_module(&h, 248, &c, sizeof(c));
	CHECK_EQ(c.gpa, 0x1000);
	CHECK_EQ(c.len, 0x4018);
	read_module(&h, 248 + 16, bytes, sizeof(bytes));
	CHECK(memcmp(bytes, gmem_ptr(&g, 0x1000, sizeof(bytes)), sizeof(bytes)) == 0);
	/* The stub's image, put back at its place whatever was there. */
	CHECK(memcmp(gmem_ptr(&g, HANDOFF_STUB_BASE, sizeof(stub.image)), stub.image, sizeof(stub.image)) == 0);
	/* The base-memory entry ends where firmware's EBDA begins; the rest is untouched. */
	CHECK_EQ(h.smap_trimmed, 1);
	memcpy(&len0, gmem_ptr(&g, MODULEP + 8 + 8, 8), 8);
	CHECK_EQ(len0, 0x9fc00);
	memcpy(&len0, gmem_ptr(&g, MODULEP + 8 + 28, 8), 8);
	CHECK_EQ(len0, LOWMEM - 0x100000);
}

/* The stub as QEMU loads it: kvmload's own, and every malformed one refused with why. */
static void test_stub(void)
{
	static const char *const built = "src/pvh/kvmload-pvh.elf";
	struct handoff_stub st;
	uint8_t elf[0x2000] = { 0 };
	int fd;

	/* The build tree's stub, when the test runs from the build directory (meson's workdir). */
	fd = open(built, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ(handoff_stub_read(&st, fd, err, sizeof(err)), 0);
		/* Its first instructions: cli; cld (pvh_entry.S). */
		CHECK_EQ(st.image[0], 0xfa);
		CHECK_EQ(st.image[1], 0xfc);
		close(fd);
	}
	/* A hand-made ELF32: one PT_LOAD of 16 bytes at 0x100010, memsz 32. */
	memcpy(elf, "\177ELF\1\1\1", 7);
	elf[18] = 3;                     /* EM_386 */
	elf[28] = 52;                    /* e_phoff */
	elf[42] = 32;                    /* e_phentsize */
	elf[44] = 1;                     /* e_phnum */
	put_le32(elf + 52, 1);           /* PT_LOAD */
	put_le32(elf + 56, 0x100);       /* p_offset */
	put_le32(elf + 64, 0x100010);    /* p_paddr */
	put_le32(elf + 68, 16);          /* p_filesz */
	put_le32(elf + 72, 32);          /* p_memsz */
	memset(elf + 0x100, 0x5a, 16);
	fd = stub_file(elf, sizeof(elf));
	CHECK_EQ(handoff_stub_read(&st, fd, err, sizeof(err)), 0);
	CHECK_EQ(st.image[0x10], 0x5a);
	CHECK_EQ(st.image[0x1f], 0x5a);
	CHECK_EQ(st.image[0x20], 0);
	close(fd);
	/* A segment reaching past the stub's place. */
	put_le32(elf + 64, 0x101ff0);
	fd = stub_file(elf, sizeof(elf));
	CHECK_EQ(handoff_stub_read(&st, fd, err, sizeof(err)), -ENOEXEC);
	CHECK_STR(err, "the entry stub's segment at 0x101ff0 (32 bytes) is not within its file and "
		  "[0x100000, 0x102000)");
	close(fd);
	/* Bytes past the file's end. */
	put_le32(elf + 64, 0x100010);
	put_le32(elf + 56, 0x1ff8);
	fd = stub_file(elf, sizeof(elf));
	CHECK_EQ(handoff_stub_read(&st, fd, err, sizeof(err)), -ENOEXEC);
	close(fd);
	/* Not i386. */
	put_le32(elf + 56, 0x100);
	elf[18] = 62;
	fd = stub_file(elf, sizeof(elf));
	CHECK_EQ(handoff_stub_read(&st, fd, err, sizeof(err)), -ENOEXEC);
	CHECK_STR(err, "the entry stub is not kvmload's (an i386 ELF32 of at most 64 KiB)");
	close(fd);
}

/* userboot's guest plus loader data at [gpa, gpa + len): refused, with exactly the message want. */
static void placed_refused(uint64_t gpa, uint64_t len, const char *want)
{
	struct footprint fp;
	struct boot_regs r = userboot_long(&fp);
	struct handoff h;

	footprint_add(&fp, gpa, len);
	CHECK_EQ(handoff_build(&h, &r, &fp, &stub, &g, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, want);
}

static void test_refusals(void)
{
	static const uint64_t acpi_ram[2][3] = { { 0, 0x9fc00, 1 }, { 0xd0000, 0x10000, 1 } };
	struct footprint fp;
	struct boot_regs r;
	struct handoff h;

	placed_refused(0x9fd00, 16, "the loader wrote guest memory [0x9fd00, 0x9fd10), which meets the EBDA, "
		       "where firmware keeps its MP table [0x9fc00, 0xa0000)");
	placed_refused(0xe0000, 16, "the loader wrote guest memory [0xe0000, 0xe0010), which meets firmware's "
		       "ACPI tables [0xd0000, 0xf0000)");
	placed_refused(0x101000, 0x100, "the loader placed data at [0x101000, 0x101100), where kvmload's entry "
		       "stub is loaded [0x100000, 0x102000)");
	placed_refused(0x106000, 0x100, "the loader placed data at [0x106000, 0x106100), where kvmload puts the "
		       "hand-off module [0x102000, 0x106120)");
	/* Just above the module it needs: allowed (the kernel's place is the loader's to choose). */
	r = userboot_long(&fp);
	footprint_add(&fp, 0x106120, 0x100);
	CHECK_EQ(handoff_build(&h, &r, &fp, &stub, &g, err, sizeof(err)), 0);
	/* A memory map that gives the kernel ACPI tables as RAM. */
	r = userboot_long(&fp);
	put_smap(acpi_ram, 2);
	CHECK_EQ(handoff_build(&h, &r, &fp, &stub, &g, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "the loader's memory map gives the kernel [0xd0000, 0xe0000) as RAM, which holds "
		  "firmware's ACPI tables [0xd0000, 0xf0000)");
	/* A zero-length RAM entry covers nothing, wherever it starts. */
	{
		static const uint64_t empty_in_acpi[2][3] = { { 0, 0x9fc00, 1 }, { 0xd0000, 0, 1 } };

		r = userboot_long(&fp);
		put_smap(empty_in_acpi, 2);
		CHECK_EQ(handoff_build(&h, &r, &fp, &stub, &g, err, sizeof(err)), 0);
	}
	/* PS in a PML4 entry is reserved: such tables map nothing. */
	r = userboot_long(&fp);
	put64(0x2000, 0x3000 | 0x83);
	CHECK_EQ(handoff_build(&h, &r, &fp, &stub, &g, err, sizeof(err)), -EINVAL);
	/* Page tables that leave the stub unmapped. */
	r = userboot_long(&fp);
	put64(0x4000, 0);
	CHECK_EQ(handoff_build(&h, &r, &fp, &stub, &g, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "the loader's page tables (cr3 0x2000) do not map 0x100000 to itself, where "
		  "kvmload's entry stub runs");
	/* Or map it elsewhere (2 MiB page 0 pointing at 2 MiB). */
	r = userboot_long(&fp);
	put64(0x4000, 0x200000 | 0x83);
	CHECK_EQ(handoff_build(&h, &r, &fp, &stub, &g, err, sizeof(err)), -EINVAL);
	r = userboot_long(&fp);
	r.cr3 = 0x100000000ULL;
	CHECK_EQ(handoff_build(&h, &r, &fp, &stub, &g, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "the loader's page tables (cr3 0x100000000) are above 4 GiB, out of the 32-bit "
		  "entry stub's reach");
	/* No metadata at all (not a FreeBSD kernel's): built, nothing checked or cut. */
	r = userboot_long(&fp);
	put32(0x1004, 0);
	put32(0, 0);
	CHECK_EQ(handoff_build(&h, &r, &fp, &stub, &g, err, sizeof(err)), 0);
	CHECK_EQ(h.smap_trimmed, 0);
}

/* userboot's elf32_exec: stack at 0x1000 (sp 0x1fdc), GDT at 0x3000, paging off. */
static void test_i386(void)
{
	static const uint64_t smap[1][3] = { { 0, 0xa0000, 1 } };
	struct footprint fp = { 0 };
	struct boot_regs r = { .rip = 0x400100, .rsp = 0x1fdc, .gdt_base = 0x3000, .gdt_size = 31,
			       .gdt_set = true };
	struct handoff h;
	struct handoff_hdr hd;
	struct handoff_chunk c;
	uint64_t gdt[4];

	gmem_reset(&g);
	put32(0x1fdc + 28, (uint32_t)MODULEP);
	put_smap(smap, 1);
	footprint_add(&fp, 0x1000, 0x1000);
	CHECK_EQ(handoff_build(&h, &r, &fp, &stub, &g, err, sizeof(err)), 0);
	read_module(&h, 0, &hd, sizeof(hd));
	CHECK_EQ(hd.mode, HANDOFF_MODE_I386);
	CHECK_EQ(hd.rip, 0x400100);
	CHECK_EQ(hd.rsp, 0x1fdc);
	CHECK_EQ(hd.cr0, 0x21); /* libvmmapi's PE|NE, not the loader's (unset) cr0 */
	CHECK_EQ(hd.cr3, 0);
	CHECK_EQ(hd.cr4, 0);
	CHECK_EQ(hd.gdtr.base, 0x3000);
	CHECK_EQ(hd.gdtr.limit, 31);
	CHECK_EQ(hd.cs, 0x08);
	CHECK_EQ(hd.ss, 0x10);
	CHECK_EQ(hd.tr, 0x18);
	/* The stack page and libvmmapi's GDT, two chunks. */
	CHECK_EQ(hd.nchunks, 2);
	read_module(&h, 248 + 16 + 0x1000, &c, sizeof(c));
	CHECK_EQ(c.gpa, 0x3000);
	CHECK_EQ(c.len, 32);
	read_module(&h, 248 + 16 + 0x1000 + 16, gdt, sizeof(gdt));
	/* Flat 4 GiB code (0x9a) and data (0x92), G and D set; a 104-byte TSS at 0x4000 (type 9). */
	CHECK_EQ(gdt[0], 0);
	CHECK_EQ(gdt[1], 0x00cf9a000000ffffULL);
	CHECK_EQ(gdt[2], 0x00cf92000000ffffULL);
	CHECK_EQ(gdt[3], 0x0000890040000067ULL);
	CHECK_EQ(h.smap_trimmed, 1);
	r.gdt_base = LOWMEM;
	CHECK_EQ(handoff_build(&h, &r, &fp, &stub, &g, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "i386 entry: GDT base 0x10000000 is not in guest memory");
}

int main(void)
{
	if (gmem_init(&g, LOWMEM, 0) < 0) {
		perror("gmem_init");
		return 1;
	}
	memset(stub.image, 0xc3, sizeof(stub.image));
	test_footprint();
	test_stub();
	test_long();
	test_refusals();
	test_i386();
	gmem_fini(&g);
	return check_done();
}
