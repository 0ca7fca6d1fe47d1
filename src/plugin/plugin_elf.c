/* plugin_elf.c: validating and mapping an ELF64 x86-64 userboot plugin from memory, W^X, without dlopen. */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "plugin_elf.h"

#define ELF_SYM_SIZE 24
#define ELF_RELA_SIZE 24
#define ELF_DYN_SIZE 16
#define ELF_MAX_ALIGN 0x200000 /* 10.x links with 2 MiB max-page-size */
#define ELF_MAX_PHNUM 64
#define ELF_GUARD_BYTES 64

/* What the parse pass learns from the file before anything is mapped. */
struct elf_parse {
	struct span file;
	struct plugin_elf *img;
	uint64_t dyn_off, dyn_size;
	bool has_relro;
	uint64_t relro_vaddr, relro_memsz;
	uint64_t rela, relasz, jmprel, pltrelsz;
	bool has_rela, has_jmprel;
	uint64_t hash, gnu_hash;
	bool has_hash, has_gnu_hash;
	struct span symtab, strtab; /* file bytes */
};

/*
 * The only names a plugin may leave undefined.  Every userboot build is
 * linked -nostdlib against libsa, so what remains undefined is what
 * FreeBSD's libc would have supplied to bhyveload's process.
 */
struct elf_import {
	const char *name;
	uintptr_t addr; /* 0: the image's own stack guard, in its host page */
};

static const struct elf_import elf_imports[] = {
	/* FreeBSD's stack protector reads this global (not %fs:0x28); libc declares it long[8]. */
	{ "__stack_chk_guard", 0 },
	/* A smashed canary must not return into the plugin: leave through the recovery point. */
	{ "__stack_chk_fail", (uintptr_t)plugin_import_stack_chk_fail },
	/* loader_main aborts on a version it refuses (10.x: anything but 3); same exit path. */
	{ "abort", (uintptr_t)plugin_import_abort },
	/* getsecs() and the autoboot countdown; time_t is 64-bit on both systems. */
	{ "time", (uintptr_t)time },
	/* 10.2 imports it from libc (LP64 on both sides, same signature). */
	{ "strtoul", (uintptr_t)strtoul },
	/* 14.x check_interpreter() searches /boot/loader for "$Interpreter:" with it. */
	{ "memmem", (uintptr_t)memmem },
};

#define REJECT(...) errmsg_set(err, errlen, ENOEXEC, __VA_ARGS__)

static uint64_t elf_page(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t elf_page_down(uint64_t v)
{
	return v & ~(elf_page() - 1);
}

static uint64_t elf_page_up(uint64_t v)
{
	return (v + elf_page() - 1) & ~(elf_page() - 1);
}

/* The PT_LOAD whose memory holds [vaddr, vaddr + len) with all of flags, or NULL. */
static const struct plugin_elf_seg *elf_seg_mem(const struct plugin_elf *img, uint64_t vaddr,
						 uint64_t len, uint32_t flags)
{
	for (unsigned i = 0; i < img->nseg; i++) {
		const struct plugin_elf_seg *s = &img->seg[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr <= s->memsz &&
		    len <= s->memsz - (vaddr - s->vaddr) && (s->flags & flags) == flags)
			return s;
	}
	return NULL;
}

/*
 * File bytes behind [vaddr, vaddr + len) of a readable PT_LOAD, up to the
 * end of that segment's file part (so tables of unknown length can be
 * walked with checked reads).
 */
static int elf_file_at(const struct elf_parse *ps, uint64_t vaddr, uint64_t len, struct span *out)
{
	const struct plugin_elf *img = ps->img;

	for (unsigned i = 0; i < img->nseg; i++) {
		const struct plugin_elf_seg *s = &img->seg[i];
		uint64_t rel = vaddr - s->vaddr;

		if (vaddr < s->vaddr || rel > s->filesz || len > s->filesz - rel || !(s->flags & PF_R))
			continue;
		return span_sub(ps->file, s->offset + rel, s->filesz - rel, out);
	}
	return -ERANGE;
}

static int elf_check_ident(struct span f, char *err, size_t errlen)
{
	uint8_t id[EI_NIDENT];

	if (span_copy(f, 0, id, sizeof(id)) != 0 || f.len < sizeof(Elf64_Ehdr))
		return REJECT("file: %zu bytes is shorter than the 64-byte ELF header", f.len);
	if (memcmp(id, ELFMAG, SELFMAG) != 0)
		return REJECT("e_ident: no ELF magic (7f 45 4c 46) at the start of the file");
	if (id[EI_CLASS] != ELFCLASS64)
		return REJECT("e_ident[EI_CLASS]: class %u is not ELFCLASS64 (2)", id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB)
		return REJECT("e_ident[EI_DATA]: encoding %u is not little-endian ELFDATA2LSB (1)",
			      id[EI_DATA]);
	if (id[EI_VERSION] != EV_CURRENT)
		return REJECT("e_ident[EI_VERSION]: version %u is not EV_CURRENT (1)", id[EI_VERSION]);
	if (id[EI_OSABI] != ELFOSABI_FREEBSD && id[EI_OSABI] != ELFOSABI_SYSV)
		return REJECT("e_ident[EI_OSABI]: %u is neither FreeBSD (9) nor System V (0)",
			      id[EI_OSABI]);
	return 0;
}

static int elf_check_ehdr(struct span f, uint64_t *phoff, uint16_t *phnum, char *err, size_t errlen)
{
	uint16_t type = 0, machine = 0, ehsize = 0, phentsize = 0;
	uint32_t version = 0;
	int r;

	if ((r = elf_check_ident(f, err, errlen)) != 0)
		return r;
	span_le16(f, offsetof(Elf64_Ehdr, e_type), &type);
	span_le16(f, offsetof(Elf64_Ehdr, e_machine), &machine);
	span_le32(f, offsetof(Elf64_Ehdr, e_version), &version);
	span_le64(f, offsetof(Elf64_Ehdr, e_phoff), phoff);
	span_le16(f, offsetof(Elf64_Ehdr, e_ehsize), &ehsize);
	span_le16(f, offsetof(Elf64_Ehdr, e_phentsize), &phentsize);
	span_le16(f, offsetof(Elf64_Ehdr, e_phnum), phnum);
	if (type != ET_DYN)
		return REJECT("e_type: %u is not a shared object (ET_DYN, 3)", type);
	if (machine != EM_X86_64)
		return REJECT("e_machine: %u is not x86-64 (EM_X86_64, 62)", machine);
	if (version != EV_CURRENT)
		return REJECT("e_version: %u is not EV_CURRENT (1)", version);
	if (ehsize != sizeof(Elf64_Ehdr))
		return REJECT("e_ehsize: %u is not the 64-byte ELF64 header size", ehsize);
	if (phentsize != sizeof(Elf64_Phdr))
		return REJECT("e_phentsize: %u is not the 56-byte ELF64 program header size",
			      phentsize);
	if (*phnum == 0 || *phnum > ELF_MAX_PHNUM)
		return REJECT("e_phnum: %u program headers (a plugin has 1 to %d)", *phnum,
			      ELF_MAX_PHNUM);
	if (!span_has(f, *phoff, (uint64_t)*phnum * sizeof(Elf64_Phdr)))
		return REJECT("e_phoff: program headers (0x%llx + 56*%u) lie outside the %zu-byte file",
			      (unsigned long long)*phoff, *phnum, f.len);
	return 0;
}

static int elf_check_load(struct elf_parse *ps, unsigned i, const Elf64_Phdr *ph, char *err,
			  size_t errlen)
{
	struct plugin_elf *img = ps->img;
	struct plugin_elf_seg *s;

	if (img->nseg == PLUGIN_ELF_MAX_LOADS)
		return REJECT("e_phnum: more than %d PT_LOAD segments", PLUGIN_ELF_MAX_LOADS);
	if (!span_has(ps->file, ph->p_offset, ph->p_filesz))
		return REJECT("PT_LOAD[%u]: p_offset+p_filesz 0x%llx+0x%llx beyond end of file (%zu bytes)",
			      i, (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz,
			      ps->file.len);
	if (ph->p_filesz > ph->p_memsz)
		return REJECT("PT_LOAD[%u]: p_filesz 0x%llx is larger than p_memsz 0x%llx", i,
			      (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
	if (ph->p_memsz == 0)
		return REJECT("PT_LOAD[%u]: p_memsz is 0", i);
	if (ph->p_vaddr > PLUGIN_ELF_MAX_SPAN || ph->p_memsz > PLUGIN_ELF_MAX_SPAN - ph->p_vaddr)
		return REJECT("PT_LOAD[%u]: p_vaddr+p_memsz 0x%llx+0x%llx exceeds the %llu MiB image limit",
			      i, (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_memsz,
			      PLUGIN_ELF_MAX_SPAN >> 20);
	if (ph->p_align > ELF_MAX_ALIGN || (ph->p_align & (ph->p_align - 1)) != 0)
		return REJECT("PT_LOAD[%u]: p_align 0x%llx is not a power of two up to 0x%x", i,
			      (unsigned long long)ph->p_align, ELF_MAX_ALIGN);
	if (ph->p_align > 1 && ph->p_vaddr % ph->p_align != ph->p_offset % ph->p_align)
		return REJECT("PT_LOAD[%u]: p_vaddr 0x%llx and p_offset 0x%llx differ modulo p_align 0x%llx",
			      i, (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_offset,
			      (unsigned long long)ph->p_align);
	/*
	 * W^X: no userboot build has such a segment, and dropping either
	 * permission would only turn a clear refusal now into a fault later.
	 */
	if ((ph->p_flags & PF_W) && (ph->p_flags & PF_X))
		return REJECT("PT_LOAD[%u]: p_flags asks for write and execute at once (W^X)", i);
	/* Segments get their own page permissions, so they may not share a page. */
	if (img->nseg > 0) {
		const struct plugin_elf_seg *prev = &img->seg[img->nseg - 1];
		uint64_t prev_end = elf_page_up(prev->vaddr + prev->memsz);

		if (elf_page_down(ph->p_vaddr) < prev_end)
			return REJECT("PT_LOAD[%u]: p_vaddr 0x%llx overlaps the previous PT_LOAD (its pages end at 0x%llx)",
				      i, (unsigned long long)ph->p_vaddr, (unsigned long long)prev_end);
	}
	s = &img->seg[img->nseg++];
	s->vaddr = ph->p_vaddr;
	s->memsz = ph->p_memsz;
	s->filesz = ph->p_filesz;
	s->offset = ph->p_offset;
	s->flags = ph->p_flags & (PF_R | PF_W | PF_X);
	img->span = elf_page_up(ph->p_vaddr + ph->p_memsz);
	return 0;
}

static int elf_read_phdr(struct span f, uint64_t off, Elf64_Phdr *ph)
{
	int r = 0;

	r |= span_le32(f, off + offsetof(Elf64_Phdr, p_type), &ph->p_type);
	r |= span_le32(f, off + offsetof(Elf64_Phdr, p_flags), &ph->p_flags);
	r |= span_le64(f, off + offsetof(Elf64_Phdr, p_offset), &ph->p_offset);
	r |= span_le64(f, off + offsetof(Elf64_Phdr, p_vaddr), &ph->p_vaddr);
	r |= span_le64(f, off + offsetof(Elf64_Phdr, p_filesz), &ph->p_filesz);
	r |= span_le64(f, off + offsetof(Elf64_Phdr, p_memsz), &ph->p_memsz);
	r |= span_le64(f, off + offsetof(Elf64_Phdr, p_align), &ph->p_align);
	return r ? -ERANGE : 0;
}

/* lld pads RELRO to the end of its page, past the segment's p_memsz: compare whole pages. */
static bool elf_relro_ok(const struct plugin_elf *img, const Elf64_Phdr *ph)
{
	for (unsigned i = 0; i < img->nseg; i++) {
		const struct plugin_elf_seg *s = &img->seg[i];
		uint64_t end = elf_page_up(s->vaddr + s->memsz);

		/* p_vaddr past the pages first: end - p_vaddr would wrap and accept any p_memsz. */
		if ((s->flags & PF_W) && ph->p_vaddr >= s->vaddr && ph->p_vaddr <= end &&
		    ph->p_memsz <= end - ph->p_vaddr)
			return true;
	}
	return false;
}

static int elf_check_phdrs(struct elf_parse *ps, uint64_t phoff, uint16_t phnum, char *err,
			   size_t errlen)
{
	Elf64_Phdr dyn = { 0 }, ph = { 0 };
	unsigned ndyn = 0, nrelro = 0;
	int r;

	/* PT_LOADs first: the other headers are checked against them. */
	for (unsigned i = 0; i < phnum; i++) {
		elf_read_phdr(ps->file, phoff + (uint64_t)i * sizeof(Elf64_Phdr), &ph);
		if (ph.p_type == PT_LOAD && (r = elf_check_load(ps, i, &ph, err, errlen)) != 0)
			return r;
	}
	if (ps->img->nseg == 0)
		return REJECT("e_phnum: no PT_LOAD segment among the %u program headers", phnum);
	for (unsigned i = 0; i < phnum; i++) {
		elf_read_phdr(ps->file, phoff + (uint64_t)i * sizeof(Elf64_Phdr), &ph);
		switch (ph.p_type) {
		case PT_DYNAMIC:
			if (ndyn++)
				return REJECT("PT_DYNAMIC[%u]: a second PT_DYNAMIC header", i);
			dyn = ph;
			break;
		case PT_TLS:
			return REJECT("PT_TLS[%u]: thread-local storage is not supported", i);
		case PT_INTERP:
			return REJECT("PT_INTERP[%u]: a plugin is a shared object, not a program with an interpreter",
				      i);
		case PT_GNU_RELRO:
			if (nrelro++)
				return REJECT("PT_GNU_RELRO[%u]: a second PT_GNU_RELRO header", i);
			if (!elf_relro_ok(ps->img, &ph))
				return REJECT("PT_GNU_RELRO[%u]: 0x%llx+0x%llx is not inside the pages of a writable PT_LOAD",
					      i, (unsigned long long)ph.p_vaddr,
					      (unsigned long long)ph.p_memsz);
			ps->has_relro = true;
			ps->relro_vaddr = ph.p_vaddr;
			ps->relro_memsz = ph.p_memsz;
			break;
		default:
			/*
			 * PT_GNU_STACK is ignored on purpose: the plugin runs on
			 * our own (non-executable) stack, whatever 10.x's RWE
			 * asks for.  Notes, EH frames and PT_PHDR need nothing.
			 */
			break;
		}
	}
	if (!ndyn)
		return REJECT("PT_DYNAMIC: missing, so this is not a shared object one can relocate");
	for (unsigned i = 0; i < ps->img->nseg; i++) {
		const struct plugin_elf_seg *s = &ps->img->seg[i];
		uint64_t rel = dyn.p_vaddr - s->vaddr;

		if (dyn.p_vaddr >= s->vaddr && rel <= s->filesz && dyn.p_filesz <= s->filesz - rel &&
		    dyn.p_offset == s->offset + rel && (s->flags & PF_R)) {
			ps->dyn_off = dyn.p_offset;
			ps->dyn_size = dyn.p_filesz;
			return 0;
		}
	}
	return REJECT("PT_DYNAMIC: p_vaddr 0x%llx (p_offset 0x%llx, p_filesz 0x%llx) is not inside the file bytes of a readable PT_LOAD",
		      (unsigned long long)dyn.p_vaddr, (unsigned long long)dyn.p_offset,
		      (unsigned long long)dyn.p_filesz);
}

/* A NUL-terminated name at off inside the string table, or NULL. */
static const char *elf_str(const struct elf_parse *ps, uint64_t off)
{
	if (off >= ps->strtab.len || !memchr(ps->strtab.p + off, '\0', ps->strtab.len - off))
		return NULL;
	return (const char *)ps->strtab.p + off;
}

/* One table a dynamic tag points to: a vaddr and a byte size inside the file bytes. */
static int elf_table(struct elf_parse *ps, const char *tag, uint64_t vaddr, const char *sztag,
		     uint64_t size, struct span *out, char *err, size_t errlen)
{
	struct span tail;

	if (elf_file_at(ps, vaddr, size, &tail) != 0)
		return REJECT("%s: 0x%llx + %s 0x%llx is not inside the file bytes of a readable PT_LOAD",
			      tag, (unsigned long long)vaddr, sztag, (unsigned long long)size);
	return span_sub(tail, 0, size, out);
}

static int elf_check_dynamic(struct elf_parse *ps, char *err, size_t errlen)
{
	struct span dyn;
	uint64_t strtab = 0, strsz = 0, symtab = 0, syment = ELF_SYM_SIZE, relaent = ELF_RELA_SIZE;
	uint64_t pltrel = DT_RELA, needed = 0;
	bool has_strtab = false, has_strsz = false, has_symtab = false, has_needed = false;
	bool has_relasz = false, has_pltrelsz = false, ended = false;
	int r;

	span_sub(ps->file, ps->dyn_off, ps->dyn_size, &dyn);
	for (uint64_t off = 0; !ended && span_has(dyn, off, ELF_DYN_SIZE); off += ELF_DYN_SIZE) {
		uint64_t tag = 0, val = 0;

		span_le64(dyn, off, &tag);
		span_le64(dyn, off + 8, &val);
		switch (tag) {
		case DT_NULL: ended = true; break;
		case DT_NEEDED: if (!has_needed) needed = val; has_needed = true; break;
		case DT_STRTAB: strtab = val; has_strtab = true; break;
		case DT_STRSZ: strsz = val; has_strsz = true; break;
		case DT_SYMTAB: symtab = val; has_symtab = true; break;
		case DT_SYMENT: syment = val; break;
		case DT_HASH: ps->hash = val; ps->has_hash = true; break;
		case DT_GNU_HASH: ps->gnu_hash = val; ps->has_gnu_hash = true; break;
		case DT_RELA: ps->rela = val; ps->has_rela = true; break;
		case DT_RELASZ: ps->relasz = val; has_relasz = true; break;
		case DT_RELAENT: relaent = val; break;
		case DT_JMPREL: ps->jmprel = val; ps->has_jmprel = true; break;
		case DT_PLTRELSZ: ps->pltrelsz = val; has_pltrelsz = true; break;
		case DT_PLTREL: pltrel = val; break;
		case DT_TEXTREL:
			return REJECT("DT_TEXTREL: text relocations would need writable code (W^X)");
		case DT_FLAGS:
			if (val & DF_TEXTREL)
				return REJECT("DT_FLAGS: DF_TEXTREL, text relocations would need writable code (W^X)");
			if (val & DF_STATIC_TLS)
				return REJECT("DT_FLAGS: DF_STATIC_TLS, thread-local storage is not supported");
			break;
		case DT_REL: case DT_RELSZ: case DT_RELENT:
			return REJECT("DT_REL: REL relocations are not used on x86-64 (RELA only)");
		case DT_RELR: case DT_RELRSZ: case DT_RELRENT:
			return REJECT("DT_RELR: packed relative relocations are not supported");
		case DT_INIT: case DT_PREINIT_ARRAY:
			return REJECT("%s: the plugin has constructors, which no userboot build has and kvmload does not run",
				      tag == DT_INIT ? "DT_INIT" : "DT_PREINIT_ARRAY");
		case DT_INIT_ARRAYSZ:
			if (val)
				return REJECT("DT_INIT_ARRAYSZ: the plugin has constructors, which no userboot build has and kvmload does not run");
			break;
		default:
			/* SONAME, SYMBOLIC, FLAGS_1, RELACOUNT, PLTGOT, DEBUG, FINI*, versions: no action. */
			break;
		}
	}
	if (!ended)
		return REJECT("PT_DYNAMIC: no DT_NULL terminator within its 0x%llx bytes",
			      (unsigned long long)ps->dyn_size);
	if (!has_strtab || !has_strsz)
		return REJECT("DT_STRTAB: missing (with DT_STRSZ) from the dynamic section");
	if (!has_symtab)
		return REJECT("DT_SYMTAB: missing from the dynamic section");
	if (syment != ELF_SYM_SIZE)
		return REJECT("DT_SYMENT: %llu is not the 24-byte ELF64 symbol size",
			      (unsigned long long)syment);
	if (relaent != ELF_RELA_SIZE)
		return REJECT("DT_RELAENT: %llu is not the 24-byte Elf64_Rela size",
			      (unsigned long long)relaent);
	if (ps->has_rela && (!has_relasz || ps->relasz % ELF_RELA_SIZE))
		return REJECT("DT_RELASZ: missing or 0x%llx is not a multiple of 24",
			      (unsigned long long)ps->relasz);
	if (ps->has_jmprel && (!has_pltrelsz || ps->pltrelsz % ELF_RELA_SIZE))
		return REJECT("DT_PLTRELSZ: missing or 0x%llx is not a multiple of 24",
			      (unsigned long long)ps->pltrelsz);
	if (ps->has_jmprel && pltrel != DT_RELA)
		return REJECT("DT_PLTREL: %llu is not DT_RELA (7)", (unsigned long long)pltrel);
	if ((r = elf_table(ps, "DT_STRTAB", strtab, "DT_STRSZ", strsz, &ps->strtab, err, errlen)) != 0)
		return r;
	if (has_needed) {
		const char *name = elf_str(ps, needed);

		return REJECT("DT_NEEDED: the plugin needs the library '%s'; a plugin must be self-contained",
			      name ? name : "(bad name)");
	}
	ps->img->symtab = symtab;
	ps->img->strtab = strtab;
	ps->img->strsz = strsz;
	return 0;
}

/* Symbol count from the SysV hash table: its nchain. */
static int elf_count_hash(struct elf_parse *ps, uint32_t *n, char *err, size_t errlen)
{
	struct span h;
	uint32_t nbucket = 0, nchain = 0;

	if (elf_file_at(ps, ps->hash, 8, &h) != 0)
		return REJECT("DT_HASH: 0x%llx is not inside the file bytes of a readable PT_LOAD",
			      (unsigned long long)ps->hash);
	span_le32(h, 0, &nbucket);
	span_le32(h, 4, &nchain);
	if (!span_has(h, 8, 4 * ((uint64_t)nbucket + nchain)))
		return REJECT("DT_HASH: nbucket %u + nchain %u run past the end of their PT_LOAD",
			      nbucket, nchain);
	*n = nchain;
	return 0;
}

/* Symbol count from the GNU hash table: one past the highest index any chain reaches. */
static int elf_count_gnu_hash(struct elf_parse *ps, uint32_t *n, char *err, size_t errlen)
{
	struct span h;
	uint32_t nbuckets = 0, symoffset = 0, bloom_size = 0, maxidx = 0;
	uint64_t buckets, chains;

	if (elf_file_at(ps, ps->gnu_hash, 16, &h) != 0)
		return REJECT("DT_GNU_HASH: 0x%llx is not inside the file bytes of a readable PT_LOAD",
			      (unsigned long long)ps->gnu_hash);
	span_le32(h, 0, &nbuckets);
	span_le32(h, 4, &symoffset);
	span_le32(h, 8, &bloom_size);
	buckets = 16 + 8 * (uint64_t)bloom_size;
	chains = buckets + 4 * (uint64_t)nbuckets;
	if (nbuckets == 0)
		return REJECT("DT_GNU_HASH: nbuckets is 0");
	if (!span_has(h, buckets, 4 * (uint64_t)nbuckets))
		return REJECT("DT_GNU_HASH: %u buckets after a %u-word bloom filter do not fit in their PT_LOAD",
			      nbuckets, bloom_size);
	for (uint32_t b = 0; b < nbuckets; b++) {
		uint32_t v = 0;

		span_le32(h, buckets + 4 * (uint64_t)b, &v);
		if (v > maxidx)
			maxidx = v;
	}
	if (maxidx == 0) {
		*n = symoffset;
		return 0;
	}
	if (maxidx < symoffset)
		return REJECT("DT_GNU_HASH: bucket index %u is below symoffset %u", maxidx, symoffset);
	for (uint64_t i = maxidx;; i++) {
		uint32_t v = 0;

		if (span_le32(h, chains + 4 * (i - symoffset), &v) != 0 || i >= UINT32_MAX)
			return REJECT("DT_GNU_HASH: the chain from symbol %u runs past the end of its PT_LOAD",
				      maxidx);
		if (v & 1) {
			*n = (uint32_t)(i + 1);
			return 0;
		}
	}
}

static int elf_check_symbols(struct elf_parse *ps, char *err, size_t errlen)
{
	uint32_t nsyms = 0, ngnu = 0;
	int r;

	if (!ps->has_hash && !ps->has_gnu_hash)
		return REJECT("DT_HASH: neither DT_HASH nor DT_GNU_HASH, so the symbol count is unknown");
	if (ps->has_gnu_hash && (r = elf_count_gnu_hash(ps, &ngnu, err, errlen)) != 0)
		return r;
	if (ps->has_hash && (r = elf_count_hash(ps, &nsyms, err, errlen)) != 0)
		return r;
	if (!ps->has_hash)
		nsyms = ngnu;
	if ((r = elf_table(ps, "DT_SYMTAB", ps->img->symtab, "symbol count * 24",
			   (uint64_t)nsyms * ELF_SYM_SIZE, &ps->symtab, err, errlen)) != 0)
		return r;
	for (uint32_t i = 1; i < nsyms; i++) {
		uint64_t off = (uint64_t)i * ELF_SYM_SIZE;
		uint32_t name = 0;
		uint8_t info = 0;

		span_le32(ps->symtab, off, &name);
		span_u8(ps->symtab, off + 4, &info);
		if (!elf_str(ps, name))
			return REJECT("DT_SYMTAB[%u]: st_name 0x%x is not a NUL-terminated name inside DT_STRTAB (%zu bytes)",
				      i, name, ps->strtab.len);
		if (ELF64_ST_TYPE(info) == STT_TLS)
			return REJECT("DT_SYMTAB[%u]: '%s' is STT_TLS; thread-local storage is not supported",
				      i, elf_str(ps, name));
	}
	ps->img->nsyms = nsyms;
	return 0;
}

/*
 * The value symbol symi stands for.  Defined symbols bind to the plugin
 * itself (userboot links -Bsymbolic); undefined ones to the import table.
 * base is NULL in the validation pass.
 */
static int elf_resolve(struct elf_parse *ps, uint32_t symi, const char *what, uint64_t k,
		       uint8_t *base, uint64_t *val, char *err, size_t errlen)
{
	uint64_t off = (uint64_t)symi * ELF_SYM_SIZE, value = 0;
	uint32_t name = 0;
	uint16_t shndx = 0;
	uint8_t info = 0;
	const char *nm;

	span_le32(ps->symtab, off, &name);
	span_u8(ps->symtab, off + 4, &info);
	span_le16(ps->symtab, off + 6, &shndx);
	span_le64(ps->symtab, off + 8, &value);
	nm = elf_str(ps, name);
	if (shndx == SHN_ABS) {
		*val = value;
		return 0;
	}
	if (shndx != SHN_UNDEF) {
		if (value > ps->img->span)
			return REJECT("%s[%llu]: symbol '%s' has st_value 0x%llx outside the image",
				      what, (unsigned long long)k, nm, (unsigned long long)value);
		*val = (uint64_t)(uintptr_t)base + value;
		return 0;
	}
	for (size_t i = 0; i < sizeof(elf_imports) / sizeof(elf_imports[0]); i++) {
		if (strcmp(nm, elf_imports[i].name) != 0)
			continue;
		*val = elf_imports[i].addr ? (uint64_t)elf_imports[i].addr
					   : (uint64_t)(uintptr_t)base + ps->img->span;
		return 0;
	}
	/* 14.x lua's __start_set_Xlua_compile_set: an empty linker set reads as NULL. */
	if (ELF64_ST_BIND(info) == STB_WEAK) {
		*val = 0;
		return 0;
	}
	return REJECT("%s[%llu]: undefined symbol '%s' is not one the host provides",
		      what, (unsigned long long)k, nm);
}

/* Check (base NULL) or apply one relocation table. */
static int elf_relocs(struct elf_parse *ps, const char *what, uint64_t vaddr, uint64_t size,
		      uint8_t *base, char *err, size_t errlen)
{
	struct span t = { 0 };
	int r;

	if ((r = elf_table(ps, what, vaddr, "its size", size, &t, err, errlen)) != 0)
		return r;
	for (uint64_t k = 0; k < size / ELF_RELA_SIZE; k++) {
		uint64_t off = 0, info = 0, addend = 0, v = 0;
		uint32_t type, symi;

		span_le64(t, k * ELF_RELA_SIZE, &off);
		span_le64(t, k * ELF_RELA_SIZE + 8, &info);
		span_le64(t, k * ELF_RELA_SIZE + 16, &addend);
		type = (uint32_t)ELF64_R_TYPE(info);
		symi = (uint32_t)ELF64_R_SYM(info);
		if (type == R_X86_64_NONE)
			continue;
		if (type != R_X86_64_RELATIVE && type != R_X86_64_64 && type != R_X86_64_GLOB_DAT &&
		    type != R_X86_64_JUMP_SLOT)
			return REJECT("%s[%llu]: unknown relocation type %u", what,
				      (unsigned long long)k, type);
		if (!elf_seg_mem(ps->img, off, 8, PF_W))
			return REJECT("%s[%llu]: r_offset 0x%llx is not inside a writable PT_LOAD",
				      what, (unsigned long long)k, (unsigned long long)off);
		if (symi >= ps->img->nsyms)
			return REJECT("%s[%llu]: symbol index %u >= symbol count %u", what,
				      (unsigned long long)k, symi, ps->img->nsyms);
		if (symi == 0 && (type == R_X86_64_GLOB_DAT || type == R_X86_64_JUMP_SLOT))
			return REJECT("%s[%llu]: GLOB_DAT/JUMP_SLOT relocation without a symbol", what,
				      (unsigned long long)k);
		if (type == R_X86_64_RELATIVE)
			v = (uint64_t)(uintptr_t)base + addend;
		else if (symi != 0 && (r = elf_resolve(ps, symi, what, k, base, &v, err, errlen)) != 0)
			return r;
		if (type == R_X86_64_64)
			v += addend;
		if (base)
			memcpy(base + off, &v, sizeof(v));
	}
	return 0;
}

static int elf_all_relocs(struct elf_parse *ps, uint8_t *base, char *err, size_t errlen)
{
	int r = 0;

	if (ps->has_rela)
		r = elf_relocs(ps, "DT_RELA", ps->rela, ps->relasz, base, err, errlen);
	if (r == 0 && ps->has_jmprel)
		r = elf_relocs(ps, "DT_JMPREL", ps->jmprel, ps->pltrelsz, base, err, errlen);
	return r;
}

static int elf_prot(uint32_t flags)
{
	return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) |
	       ((flags & PF_X) ? PROT_EXEC : 0);
}

/*
 * Reserve the whole span PROT_NONE, make each segment's pages writable,
 * copy, relocate, then give each segment its final (never W+X) protection.
 * One page past the image holds the stack guard the plugin imports.
 */
static int elf_map(struct elf_parse *ps, char *err, size_t errlen)
{
	struct plugin_elf *img = ps->img;
	uint8_t *base;
	int r;

	img->map_size = img->span + elf_page();
	base = mmap(NULL, img->map_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	if (base == MAP_FAILED)
		return errmsg_set(err, errlen, ENOMEM, "mmap: cannot reserve %zu bytes for the image",
				  img->map_size);
	img->base = base;
	for (unsigned i = 0; i < img->nseg; i++) {
		const struct plugin_elf_seg *s = &img->seg[i];
		uint64_t lo = elf_page_down(s->vaddr), hi = elf_page_up(s->vaddr + s->memsz);

		if (mprotect(base + lo, hi - lo, PROT_READ | PROT_WRITE) != 0)
			goto oom;
		span_copy(ps->file, s->offset, base + s->vaddr, s->filesz);
	}
	if (mprotect(base + img->span, elf_page(), PROT_READ | PROT_WRITE) != 0)
		goto oom;
	if (getrandom(base + img->span, ELF_GUARD_BYTES, 0) != ELF_GUARD_BYTES) {
		r = errmsg_set(err, errlen, EIO, "getrandom: no bytes for __stack_chk_guard");
		goto fail;
	}
	if ((r = elf_all_relocs(ps, base, err, errlen)) != 0)
		goto fail;
	for (unsigned i = 0; i < img->nseg; i++) {
		const struct plugin_elf_seg *s = &img->seg[i];
		uint64_t lo = elf_page_down(s->vaddr), hi = elf_page_up(s->vaddr + s->memsz);

		if (mprotect(base + lo, hi - lo, elf_prot(s->flags)) != 0)
			goto oom;
	}
	if (ps->has_relro) {
		uint64_t lo = elf_page_down(ps->relro_vaddr);
		uint64_t hi = elf_page_down(ps->relro_vaddr + ps->relro_memsz);

		if (hi > lo && mprotect(base + lo, hi - lo, PROT_READ) != 0)
			goto oom;
	}
	if (mprotect(base + img->span, elf_page(), PROT_READ) != 0)
		goto oom;
	return 0;
oom:
	r = errmsg_set(err, errlen, ENOMEM, "mprotect: cannot set up the image's pages");
fail:
	plugin_elf_unload(img);
	return r;
}

int plugin_elf_load(struct plugin_elf *img, struct span buf, char *err, size_t errlen)
{
	struct elf_parse ps;
	uint64_t phoff = 0;
	uint16_t phnum = 0;
	int r;

	memset(img, 0, sizeof(*img));
	memset(&ps, 0, sizeof(ps));
	ps.file = buf;
	ps.img = img;
	if ((r = elf_check_ehdr(buf, &phoff, &phnum, err, errlen)) != 0 ||
	    (r = elf_check_phdrs(&ps, phoff, phnum, err, errlen)) != 0 ||
	    (r = elf_check_dynamic(&ps, err, errlen)) != 0 ||
	    (r = elf_check_symbols(&ps, err, errlen)) != 0 ||
	    (r = elf_all_relocs(&ps, NULL, err, errlen)) != 0)
		return r;
	return elf_map(&ps, err, errlen);
}

void plugin_elf_unload(struct plugin_elf *img)
{
	if (img->base)
		munmap(img->base, img->map_size);
	img->base = NULL;
	img->map_size = 0;
}

int plugin_elf_span(const struct plugin_elf *img, uint64_t vaddr, uint64_t len, uint32_t flags,
		    struct span *out)
{
	if (!img->base || !elf_seg_mem(img, vaddr, len, flags | PF_R))
		return -ERANGE;
	*out = span_make(img->base + vaddr, len);
	return 0;
}

int plugin_elf_sym(const struct plugin_elf *img, const char *name, struct plugin_elf_sym *out)
{
	struct span syms, strs;
	size_t nlen = strlen(name) + 1;

	if (plugin_elf_span(img, img->symtab, (uint64_t)img->nsyms * ELF_SYM_SIZE, 0, &syms) != 0 ||
	    plugin_elf_span(img, img->strtab, img->strsz, 0, &strs) != 0)
		return -ENOENT;
	for (uint32_t i = 1; i < img->nsyms; i++) {
		uint64_t off = (uint64_t)i * ELF_SYM_SIZE;
		uint32_t st_name = 0;
		uint16_t shndx = 0;
		uint8_t info = 0;

		span_le32(syms, off, &st_name);
		span_u8(syms, off + 4, &info);
		span_le16(syms, off + 6, &shndx);
		if (shndx == SHN_UNDEF || !span_has(strs, st_name, nlen) ||
		    memcmp(strs.p + st_name, name, nlen) != 0)
			continue;
		out->type = ELF64_ST_TYPE(info);
		span_le64(syms, off + 8, &out->value);
		span_le64(syms, off + 16, &out->size);
		return 0;
	}
	return -ENOENT;
}
