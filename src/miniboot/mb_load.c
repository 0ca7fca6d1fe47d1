/* mb_load.c: load the kernel ELF like FreeBSD's load_elf, modules as raw blobs, env and preload metadata. */
#include "mb.h"

#define ELF_PT_LOAD 1
#define ELF_PF_X 1
#define ELF_EHDR_SIZE 64
#define ELF_PHDR_SIZE 56
#define ELF_MAX_PHDRS 64
#define COPY_CHUNK 65536u
#define MD_MAX (256u << 10)
#define GUEST_MAPPED (1ull << 30) /* what exec's page tables map */
#define LOW_RESERVED 0x6000ull    /* stack, page tables and GDT pages */

struct boot {
	struct mb *mb;
	uint64_t limit;   /* end of usable guest-physical memory */
	uint64_t lowmem, highmem;
	uint8_t *chunk;   /* COPY_CHUNK bytes of scratch */
	uint64_t entry;
	struct mb_loaded kernel;
	struct mb_loaded mods[16];
	int nmods;
};

static uint64_t roundup_page(uint64_t v)
{
	return (v + MB_PAGE - 1) & ~(uint64_t)(MB_PAGE - 1);
}

static void guest_copyin(struct boot *b, const void *src, uint64_t to, size_t n)
{
	int err = b->mb->cb->copyin(b->mb->arg, src, to, n);

	if (err)
		mb_fatal(b->mb, "copyin of %lu bytes to guest 0x%lx failed: %s", (uint64_t)n, to,
			 mb_strerror(err));
}

static void check_room(struct boot *b, const char *what, uint64_t dest, uint64_t size)
{
	if (dest < LOW_RESERVED || dest > b->limit || size > b->limit - dest)
		mb_fatal(b->mb, "%s: [0x%lx, +0x%lx) does not fit in guest memory (0x%lx bytes usable)",
			 what, dest, size, b->limit);
}

/* Copy file bytes [off, off + n) to guest dest, then zero `zero` more bytes. */
static void copy_file(struct boot *b, struct mb_file *f, const char *path, uint64_t off, uint64_t n,
		      uint64_t dest, uint64_t zero)
{
	for (uint64_t done = 0; done < n;) {
		size_t c = n - done < COPY_CHUNK ? (size_t)(n - done) : COPY_CHUNK;
		int err = mb_pread(f, b->chunk, c, off + done);

		if (err)
			mb_fatal(b->mb, "%s: read at 0x%lx: %s", path, off + done, mb_strerror(err));
		guest_copyin(b, b->chunk, dest + done, c);
		done += c;
	}
	memset(b->chunk, 0, COPY_CHUNK);
	for (uint64_t done = 0; done < zero;) {
		size_t c = zero - done < COPY_CHUNK ? (size_t)(zero - done) : COPY_CHUNK;

		guest_copyin(b, b->chunk, dest + n + done, c);
		done += c;
	}
}

static void load_kernel(struct boot *b, const char *path)
{
	struct mb *mb = b->mb;
	uint8_t eh[ELF_EHDR_SIZE], ph[ELF_MAX_PHDRS * ELF_PHDR_SIZE];
	uint64_t off, first = ~0ull, last = 0, text = 0, data = 0, bss = 0;
	uint16_t phnum;
	struct mb_file *f;
	int err;

	f = mb_open(mb, path, &err);
	if (!f)
		mb_fatal(mb, "can't load kernel %s: %s", path, mb_strerror(err));
	if ((err = mb_pread(f, eh, sizeof(eh), 0)))
		mb_fatal(mb, "%s: reading the ELF header: %s", path, mb_strerror(err));
	if (memcmp(eh, "\177ELF", 4) != 0 || eh[4] != 2 || eh[5] != 1 || eh[6] != 1 ||
	    mb_le32(eh + 20) != 1)
		mb_fatal(mb, "%s: not an ELF64 little-endian file", path);
	if (mb_le16(eh + 18) != 62)
		mb_fatal(mb, "%s: e_machine %u is not x86-64", path, mb_le16(eh + 18));
	if (mb_le16(eh + 16) != 2)
		mb_fatal(mb, "%s: e_type %u is not ET_EXEC (a kernel)", path, mb_le16(eh + 16));
	b->entry = mb_le64(eh + 24);
	if ((b->entry & ~(uint64_t)(MB_PAGE - 1)) == 0)
		mb_fatal(mb, "%s: bad entry point 0x%lx", path, b->entry);
	phnum = mb_le16(eh + 56);
	if (mb_le16(eh + 54) != ELF_PHDR_SIZE || phnum == 0 || phnum > ELF_MAX_PHDRS)
		mb_fatal(mb, "%s: bad program headers (%u of %u bytes)", path, phnum, mb_le16(eh + 54));
	if ((err = mb_pread(f, ph, (size_t)phnum * ELF_PHDR_SIZE, mb_le64(eh + 32))))
		mb_fatal(mb, "%s: reading program headers: %s", path, mb_strerror(err));
	/* amd64 kernels are linked high; FreeBSD loads them at their low physical alias. */
	off = 0 - (b->entry & 0xffffffffff000000ull);
	for (uint16_t i = 0; i < phnum; i++) {
		const uint8_t *p = ph + (size_t)i * ELF_PHDR_SIZE;
		uint64_t foff = mb_le64(p + 8), vaddr = mb_le64(p + 16);
		uint64_t filesz = mb_le64(p + 32), memsz = mb_le64(p + 40), dest = vaddr + off;

		if (mb_le32(p) != ELF_PT_LOAD)
			continue;
		if (filesz > memsz)
			mb_fatal(mb, "%s: segment %u has p_filesz > p_memsz", path, i);
		check_room(b, path, dest, memsz);
		copy_file(b, f, path, foff, filesz, dest, memsz - filesz);
		if (mb_le32(p + 4) & ELF_PF_X) {
			text += filesz;
		} else {
			data += filesz;
			bss += memsz - filesz;
		}
		if (dest < first)
			first = dest;
		if (dest + memsz > last)
			last = dest + memsz;
	}
	mb_close(f);
	if (last == 0)
		mb_fatal(mb, "%s: no PT_LOAD segment", path);
	mb_printf(mb, "%s text=0x%lx data=0x%lx+0x%lx\n", path, text, data, bss);
	mb_strlcpy(b->kernel.path, path, sizeof(b->kernel.path));
	b->kernel.addr = first;
	b->kernel.size = last - first;
}

/* The module file for m: *_name or <prefix>.ko, in the kernel's directory, then module_path. */
static struct mb_file *find_module(struct boot *b, const struct mb_module *m, const char *kdir,
				   char *path, size_t psz)
{
	struct mb *mb = b->mb;
	const char *mp = mb_getenv(mb, "module_path");
	char name[256], dirs[MB_PATH_MAX];
	struct mb_file *f;
	char *d, *next;
	int err;

	if (m->name[0])
		mb_strlcpy(name, m->name, sizeof(name));
	else
		mb_snprintf(name, sizeof(name), "%s.ko", m->prefix);
	if (mb_strchr(name, '/')) {
		mb_strlcpy(path, name, psz);
		return mb_open(mb, path, &err);
	}
	mb_snprintf(dirs, sizeof(dirs), "%s;%s", kdir, mp ? mp : "");
	for (d = dirs; d && *d; d = next) {
		next = mb_strchr(d, ';');
		if (next)
			*next++ = '\0';
		if (!*d)
			continue;
		if ((size_t)mb_snprintf(path, psz, "%s/%s", d, name) >= psz)
			continue;
		if ((f = mb_open(mb, path, &err)))
			return f;
	}
	return NULL;
}

static uint64_t load_modules(struct boot *b, const char *kdir, uint64_t addr)
{
	struct mb *mb = b->mb;

	for (int i = 0; i < mb->nmods; i++) {
		const struct mb_module *m = &mb->mods[i];
		struct mb_loaded *l = &b->mods[b->nmods];
		struct mb_stat st;
		struct mb_file *f;
		int err;

		if (!m->load)
			continue;
		if (b->nmods == (int)(sizeof(b->mods) / sizeof(b->mods[0]))) {
			mb_printf(mb, "miniboot: warning: too many modules, skipping %s\n", m->prefix);
			continue;
		}
		f = find_module(b, m, kdir, l->path, sizeof(l->path));
		if (!f) {
			mb_printf(mb, "miniboot: warning: can't find '%s'\n",
				  m->name[0] ? m->name : m->prefix);
			continue;
		}
		if ((err = mb_fstat(f, &st)))
			mb_fatal(mb, "%s: %s", l->path, mb_strerror(err));
		addr = roundup_page(addr);
		check_room(b, l->path, addr, st.size);
		copy_file(b, f, l->path, 0, st.size, addr, 0);
		mb_close(f);
		mb_printf(mb, "%s size=0x%lx at 0x%lx\n", l->path, st.size, addr);
		l->addr = addr;
		l->size = st.size;
		addr += st.size;
		b->nmods++;
	}
	return addr;
}

struct md {
	struct mb *mb;
	uint8_t *buf;
	size_t len;
};

/* One record: uint32 type, uint32 size, data padded to 8 bytes; returns the data's offset. */
static size_t md_add(struct md *md, uint32_t type, const void *data, uint32_t size)
{
	size_t padded = ((size_t)size + 7) & ~(size_t)7, at = md->len + 8;

	if (padded + 8 > MD_MAX - md->len)
		mb_fatal(md->mb, "module metadata exceeds %u bytes", MD_MAX);
	memcpy(md->buf + md->len, &type, 4);
	memcpy(md->buf + md->len + 4, &size, 4);
	memset(md->buf + at, 0, padded);
	memcpy(md->buf + at, data, size);
	md->len = at + padded;
	return at;
}

static void md_file(struct md *md, const struct mb_loaded *l, const char *type)
{
	md_add(md, MODINFO_NAME, l->path, (uint32_t)mb_strlen(l->path) + 1);
	md_add(md, MODINFO_TYPE, type, (uint32_t)mb_strlen(type) + 1);
	md_add(md, MODINFO_ADDR, &l->addr, 8);
	md_add(md, MODINFO_SIZE, &l->size, 8);
}

void mb_boot(struct mb *mb)
{
	struct boot b;
	struct md md = { mb, NULL, 0 };
	struct fbsd_bios_smap smap[3];
	const char *k = mb_getenv(mb, "kernel"), *bf = mb_getenv(mb, "bootfile");
	char kdir[MB_PATH_MAX], kpath[MB_PATH_MAX];
	uint64_t addr, envp, modulep, kernend, zero = 0;
	uint32_t howto, nsmap = 0;
	size_t kernend_at;

	memset(&b, 0, sizeof(b));
	b.mb = mb;
	b.chunk = mb_alloc(mb, COPY_CHUNK);
	md.buf = mb_alloc(mb, MD_MAX);
	if (!b.chunk || !md.buf)
		mb_fatal(mb, "out of memory");
	mb->cb->getmem(mb->arg, &b.lowmem, &b.highmem);
	b.limit = b.lowmem < GUEST_MAPPED ? b.lowmem : GUEST_MAPPED;

	if (!k || !*k)
		k = "kernel";
	if (!bf || !*bf)
		bf = "kernel";
	mb_snprintf(kdir, sizeof(kdir), k[0] == '/' ? "%s" : "/boot/%s", k);
	if (bf[0] == '/')
		mb_strlcpy(kpath, bf, sizeof(kpath));
	else
		mb_snprintf(kpath, sizeof(kpath), "%s/%s", kdir, bf);
	mb_setenv(mb, "kernelname", kpath);
	load_kernel(&b, kpath);
	addr = load_modules(&b, kdir, b.kernel.addr + b.kernel.size);

	/* The environment block, "name=value\0...\0\0", on the next page. */
	envp = roundup_page(addr);
	check_room(&b, "environment", envp, mb->env_used + 1);
	guest_copyin(&b, mb->env, envp, mb->env_used);
	guest_copyin(&b, &zero, envp + mb->env_used, 1);
	modulep = roundup_page(envp + mb->env_used + 1);

	smap[nsmap++] = (struct fbsd_bios_smap){ 0, 640 << 10, FBSD_SMAP_TYPE_MEMORY };
	if (b.lowmem > (1u << 20))
		smap[nsmap++] = (struct fbsd_bios_smap){ 1u << 20, b.lowmem - (1u << 20),
							 FBSD_SMAP_TYPE_MEMORY };
	if (b.highmem)
		smap[nsmap++] = (struct fbsd_bios_smap){ 1ull << 32, b.highmem,
							 FBSD_SMAP_TYPE_MEMORY };
	howto = mb_env_howto(mb);
	md_file(&md, &b.kernel, "elf kernel");
	md_add(&md, MODINFO_METADATA | MODINFOMD_HOWTO, &howto, 4);
	md_add(&md, MODINFO_METADATA | MODINFOMD_ENVP, &envp, 8);
	kernend_at = md_add(&md, MODINFO_METADATA | MODINFOMD_KERNEND, &zero, 8);
	md_add(&md, MODINFO_METADATA | MODINFOMD_SMAP, smap, nsmap * (uint32_t)sizeof(smap[0]));
	for (int i = 0; i < b.nmods; i++)
		md_file(&md, &b.mods[i], "elf obj module");
	md_add(&md, MODINFO_END, NULL, 0);
	kernend = roundup_page(modulep + md.len);
	memcpy(md.buf + kernend_at, &kernend, 8);
	check_room(&b, "module metadata", modulep, kernend - modulep);
	guest_copyin(&b, md.buf, modulep, md.len);

	mb_printf(mb, "Booting [%s]...\n", kpath);
	mb_exec(mb, b.entry, modulep, kernend);
}
