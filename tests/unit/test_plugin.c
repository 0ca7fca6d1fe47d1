/* test_plugin.c: the plugin loader on the test plugins: runs, imports, faults, fresh state, generations, and one message per corrupted field. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "plugin.h"

static const char *tp_dir;

/* The test host: what the callbacks saw. */
struct th {
	char out[256];
	size_t nout;
	uint64_t regs[8];
	int exit_value;
	int stat_old, stat_new;
	struct plugin_recover rp;
};

static void th_putc(void *arg, int ch)
{
	struct th *t = arg;

	if (t->nout + 1 < sizeof(t->out))
		t->out[t->nout++] = (char)ch;
}

static void th_setreg(void *arg, int reg, uint64_t val)
{
	struct th *t = arg;

	if (reg >= 0 && reg < 8)
		t->regs[reg] = val;
}

static void th_exit(void *arg, int v)
{
	struct th *t = arg;

	t->exit_value = v;
	plugin_leave(&t->rp);
}

static int th_stat_old(void *arg, void *h, int *mode, int *uid, int *gid, uint64_t *size)
{
	struct th *t = arg;

	t->stat_old += h == arg;
	*mode = 0100644;
	*uid = 0;
	*gid = 0;
	*size = 1;
	return 0;
}

static int th_stat_new(void *arg, void *h, struct fbsd_stat *st)
{
	struct th *t = arg;
	uint16_t mode = 0100644;

	t->stat_new += h == arg;
	memset(st, 0, 224);
	memcpy((uint8_t *)st + 24, &mode, sizeof(mode));
	return 0;
}

static uint8_t *read_file(const char *name, size_t *len)
{
	char path[4096];
	struct stat st;
	uint8_t *b;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tp_dir, name);
	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	b = malloc((size_t)st.st_size);
	if (!b || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)st.st_size;
	return b;
}

/* Anonymous executable mappings: a plugin image's text is one, nothing else makes them. */
static int anon_exec_maps(void)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char perms[8] = "";
		unsigned long ino = 1;

		if (sscanf(line, "%*x-%*x %7s %*x %*x:%*x %lu", perms, &ino) == 2 && perms[2] == 'x' &&
		    ino == 0 && !strstr(line, "["))
			n++;
	}
	fclose(f);
	return n;
}

static bool load_ok(struct plugin *p, const char *name)
{
	char err[512] = "";
	size_t len;
	uint8_t *b = read_file(name, &len);
	int r = plugin_load_mem(p, b, len, err, sizeof(err));

	free(b);
	if (r != 0)
		fprintf(stderr, "%s: %s\n", name, err);
	CHECK_EQ(r, 0);
	return r == 0;
}

static int run(struct plugin *p, struct th *t, void *table, int ndisks)
{
	memset(t, 0, sizeof(*t));
	return plugin_run(p, table, t, ndisks, &t->rp);
}

static void table_basic(struct loader_callbacks *cb)
{
	memset(cb, 0, sizeof(*cb));
	cb->putc = th_putc;
	cb->setreg = th_setreg;
	cb->exit = th_exit;
}

static void test_run_and_fresh_bss(const char *name)
{
	struct loader_callbacks cb;
	struct plugin p;
	struct th t;

	table_basic(&cb);
	if (!load_ok(&p, name))
		return;
	CHECK_EQ(p.gen.version, 3);
	CHECK_EQ(run(&p, &t, &cb, 0), 0);
	CHECK_STR(t.out, "hello1");
	CHECK_EQ(t.regs[0], 3); /* the version loader_main was given */
	CHECK(plugin_fault() == NULL);
	/* The same image keeps its .bss ... */
	CHECK_EQ(run(&p, &t, &cb, 0), 0);
	CHECK_STR(t.out, "again2");
	plugin_unload(&p);
	CHECK(p.base == NULL);
	/* ... a new load of the same file starts clean. */
	if (!load_ok(&p, name))
		return;
	CHECK_EQ(run(&p, &t, &cb, 0), 0);
	CHECK_STR(t.out, "hello1");
	plugin_unload(&p);
}

static void test_imports(const char *name)
{
	struct loader_callbacks cb;
	struct plugin p;
	struct th t;
	uint64_t t0, t1;

	table_basic(&cb);
	if (!load_ok(&p, name))
		return;
	t0 = (uint64_t)time(NULL);
	CHECK_EQ(run(&p, &t, &cb, 3), 0);
	t1 = (uint64_t)time(NULL);
	CHECK(t.regs[1] >= t0 && t.regs[1] <= t1); /* time() */
	CHECK_EQ(t.regs[2], 42);                   /* strtoul("0x2a", NULL, 0) */
	CHECK_EQ(t.regs[3], 2);                    /* memmem("abcdef", "cd") */
	CHECK_EQ(t.regs[4], 0);                    /* weak undefined with no import */
	CHECK_EQ(t.regs[5], 14);                   /* tp_twice(tp_global) through its own symbols */
	plugin_unload(&p);
}

static void test_leaving(const char *name)
{
	struct loader_callbacks cb;
	struct plugin p;
	struct th t;

	table_basic(&cb);
	if (!load_ok(&p, name))
		return;
	CHECK_EQ(run(&p, &t, &cb, 1), 1);
	CHECK_STR(plugin_fault(), "plugin called abort()");
	CHECK_EQ(t.nout, 0);
	CHECK_EQ(run(&p, &t, &cb, 2), 1);
	CHECK_STR(plugin_fault(), "stack smashing detected in plugin");
	CHECK_EQ(t.nout, 0);
	/* A callback leaving records its own reason; no import fault. */
	CHECK_EQ(run(&p, &t, &cb, 4), 1);
	CHECK(plugin_fault() == NULL);
	CHECK_EQ(t.exit_value, 7);
	CHECK_EQ(t.nout, 0);
	/* The image is still usable after each unwind. */
	CHECK_EQ(run(&p, &t, &cb, 0), 0);
	CHECK_STR(t.out, "again4");
	plugin_unload(&p);
}

/*
 * The image as the kernel sees it: never a writable and executable page,
 * code read+execute, relocated data made read-only (RELRO), the stack
 * guard page read-only.
 */
static void test_protections(const char *name)
{
	char line[512];
	struct plugin p;
	int rx = 0, wx = 0, ro = 0, before = anon_exec_maps();
	uintptr_t guard;
	FILE *f;

	if (!load_ok(&p, name))
		return;
	CHECK(anon_exec_maps() > before); /* the probe the rejection tests rely on sees images */
	guard = (uintptr_t)p.base + p.map_size - 4096;
	f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || lo < (uintptr_t)p.base ||
		    hi > (uintptr_t)p.base + p.map_size)
			continue;
		wx += perms[1] == 'w' && perms[2] == 'x';
		rx += strncmp(perms, "r-x", 3) == 0;
		ro += strncmp(perms, "r--", 3) == 0;
		if (lo <= guard && guard < hi)
			CHECK(strncmp(perms, "r--", 3) == 0);
	}
	if (f)
		fclose(f);
	CHECK_EQ(wx, 0);
	CHECK(rx >= 1);
	CHECK(ro >= 2); /* read-only data or RELRO, and the guard page */
	plugin_unload(&p);
	CHECK_EQ(anon_exec_maps(), before);
}

/* Callback table as a plugin of generation g lays it out. */
static void table_gen(void *table[UB_NSLOTS], const struct plugin_gen *g)
{
	int shift = g->diskwrite ? 0 : 1;

	memset(table, 0, sizeof(void *) * UB_NSLOTS);
	table[UB_PUTC] = (void *)th_putc;
	table[UB_STAT] = g->stat_struct ? (void *)th_stat_new : (void *)th_stat_old;
	table[UB_EXIT - shift] = (void *)th_exit;
}

static void test_generation(const char *variant, const char *gen, int version, bool dw, bool st,
			    const char *interp, const char *label)
{
	char name[128];
	void *table[UB_NSLOTS];
	struct plugin p;
	struct th t;

	snprintf(name, sizeof(name), "tp_gen_%s_%s.so", gen, variant);
	if (!load_ok(&p, name))
		return;
	CHECK_EQ(p.gen.version, version);
	CHECK_EQ(p.gen.diskwrite, dw);
	CHECK_EQ(p.gen.stat_struct, st);
	CHECK_STR(p.gen.interp, interp);
	CHECK_STR(p.gen.label, label);
	/* Serving the detected layout, the plugin's own stat and exit land on our callbacks. */
	table_gen(table, &p.gen);
	CHECK_EQ(run(&p, &t, table, 0), 1);
	CHECK_EQ(t.exit_value, 0100644);
	CHECK_EQ(t.stat_old, st ? 0 : 1);
	CHECK_EQ(t.stat_new, st ? 1 : 0);
	plugin_unload(&p);
}

static void test_generations(const char *variant)
{
	test_generation(variant, "v3", 3, false, false, "",
			"FreeBSD 10.0-11.2 (version 3, old stat, no diskwrite)");
	test_generation(variant, "old", 5, false, false, "lua",
			"FreeBSD 11.3-12.1 (version 5, old stat, no diskwrite)");
	test_generation(variant, "stat", 5, false, true, "4th",
			"FreeBSD 12.2+ stable/12 (version 5, struct stat, no diskwrite)");
	test_generation(variant, "dw", 5, true, true, "lua",
			"FreeBSD 13.0+ (version 5, struct stat, diskwrite)");
}

/* Expect plugin_load_mem to refuse buf with exactly this message and leave nothing mapped. */
static void reject(const uint8_t *buf, size_t len, const char *expect, int line)
{
	char err[512] = "";
	struct plugin p;
	int before = anon_exec_maps(), r;

	r = plugin_load_mem(&p, buf, len, err, sizeof(err));
	if (r != -ENOEXEC || strcmp(err, expect) != 0)
		fprintf(stderr, "line %d: got %d \"%s\"\n", line, r, err);
	CHECK_EQ(r, -ENOEXEC);
	CHECK_STR(err, expect);
	CHECK(p.base == NULL);
	CHECK_EQ(anon_exec_maps(), before);
}

#define REJECT(buf, len, expect) reject(buf, len, expect, __LINE__)

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	static char s[512];
	va_list ap;

	va_start(ap, f);
	vsnprintf(s, sizeof(s), f, ap);
	va_end(ap);
	return s;
}

/* Our own, trusted test file: plain struct access is fine here. */
struct tf {
	uint8_t *b;
	size_t len;
};

static Elf64_Ehdr *tf_eh(struct tf *f)
{
	return (Elf64_Ehdr *)f->b;
}

static Elf64_Phdr *tf_ph(struct tf *f, unsigned i)
{
	return (Elf64_Phdr *)(f->b + tf_eh(f)->e_phoff) + i;
}

/* Index of the n-th header of type type. */
static unsigned tf_find_ph(struct tf *f, uint32_t type, unsigned n)
{
	for (unsigned i = 0; i < tf_eh(f)->e_phnum; i++)
		if (tf_ph(f, i)->p_type == type && n-- == 0)
			return i;
	fprintf(stderr, "no program header of type %u\n", type);
	exit(1);
}

static uint8_t *tf_at(struct tf *f, uint64_t vaddr)
{
	for (unsigned i = 0; i < tf_eh(f)->e_phnum; i++) {
		Elf64_Phdr *ph = tf_ph(f, i);

		if (ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr && vaddr < ph->p_vaddr + ph->p_filesz)
			return f->b + ph->p_offset + (vaddr - ph->p_vaddr);
	}
	fprintf(stderr, "vaddr 0x%llx not in file\n", (unsigned long long)vaddr);
	exit(1);
}

static Elf64_Dyn *tf_dyn(struct tf *f, int64_t tag)
{
	Elf64_Dyn *d = (Elf64_Dyn *)(f->b + tf_ph(f, tf_find_ph(f, PT_DYNAMIC, 0))->p_offset);

	for (; d->d_tag != DT_NULL; d++)
		if (d->d_tag == tag)
			return d;
	return tag == DT_NULL ? d : NULL;
}

static Elf64_Rela *tf_rela(struct tf *f, int64_t tag)
{
	return (Elf64_Rela *)tf_at(f, tf_dyn(f, tag)->d_un.d_ptr);
}

static Elf64_Sym *tf_sym(struct tf *f, unsigned i)
{
	return (Elf64_Sym *)tf_at(f, tf_dyn(f, DT_SYMTAB)->d_un.d_ptr) + i;
}

static char *tf_str(struct tf *f, uint32_t off)
{
	return (char *)tf_at(f, tf_dyn(f, DT_STRTAB)->d_un.d_ptr) + off;
}

static uint32_t tf_nsyms(struct tf *f)
{
	return ((uint32_t *)tf_at(f, tf_dyn(f, DT_HASH)->d_un.d_ptr))[1];
}

/* The JMPREL entry whose symbol is name. */
static unsigned tf_jmprel_of(struct tf *f, const char *name)
{
	Elf64_Rela *r = tf_rela(f, DT_JMPREL);

	for (unsigned k = 0; k < tf_dyn(f, DT_PLTRELSZ)->d_un.d_val / sizeof(*r); k++)
		if (strcmp(tf_str(f, tf_sym(f, ELF64_R_SYM(r[k].r_info))->st_name), name) == 0)
			return k;
	fprintf(stderr, "no JMPREL for %s\n", name);
	exit(1);
}

static unsigned tf_sym_of(struct tf *f, const char *name)
{
	for (unsigned i = 1; i < tf_nsyms(f); i++)
		if (strcmp(tf_str(f, tf_sym(f, i)->st_name), name) == 0)
			return i;
	fprintf(stderr, "no symbol %s\n", name);
	exit(1);
}

/* Fresh copy of the valid plugin for each corruption. */
static uint8_t *tf_fresh(const uint8_t *orig, size_t len, struct tf *f)
{
	memcpy(f->b, orig, len);
	f->len = len;
	return f->b;
}

static void test_corrupt_headers(const uint8_t *orig, size_t len, struct tf *f)
{
	unsigned l0, l1, dyn;
	Elf64_Phdr *ph;

	tf_fresh(orig, len, f);
	l0 = tf_find_ph(f, PT_LOAD, 0);
	l1 = tf_find_ph(f, PT_LOAD, 1);
	dyn = tf_find_ph(f, PT_DYNAMIC, 0);

	REJECT(f->b, 40, "file: 40 bytes is shorter than the 64-byte ELF header");
	tf_fresh(orig, len, f)[0] = 0x7e;
	REJECT(f->b, len, "e_ident: no ELF magic (7f 45 4c 46) at the start of the file");
	tf_fresh(orig, len, f)[EI_CLASS] = ELFCLASS32;
	REJECT(f->b, len, "e_ident[EI_CLASS]: class 1 is not ELFCLASS64 (2)");
	tf_fresh(orig, len, f)[EI_DATA] = ELFDATA2MSB;
	REJECT(f->b, len, "e_ident[EI_DATA]: encoding 2 is not little-endian ELFDATA2LSB (1)");
	tf_fresh(orig, len, f)[EI_VERSION] = 0;
	REJECT(f->b, len, "e_ident[EI_VERSION]: version 0 is not EV_CURRENT (1)");
	tf_fresh(orig, len, f)[EI_OSABI] = ELFOSABI_NETBSD;
	REJECT(f->b, len, "e_ident[EI_OSABI]: 2 is neither FreeBSD (9) nor System V (0)");
	tf_fresh(orig, len, f);
	tf_eh(f)->e_type = ET_EXEC;
	REJECT(f->b, len, "e_type: 2 is not a shared object (ET_DYN, 3)");
	tf_fresh(orig, len, f);
	tf_eh(f)->e_machine = EM_386;
	REJECT(f->b, len, "e_machine: 3 is not x86-64 (EM_X86_64, 62)");
	tf_fresh(orig, len, f);
	tf_eh(f)->e_version = 2;
	REJECT(f->b, len, "e_version: 2 is not EV_CURRENT (1)");
	tf_fresh(orig, len, f);
	tf_eh(f)->e_ehsize = 52;
	REJECT(f->b, len, "e_ehsize: 52 is not the 64-byte ELF64 header size");
	tf_fresh(orig, len, f);
	tf_eh(f)->e_phentsize = 32;
	REJECT(f->b, len, "e_phentsize: 32 is not the 56-byte ELF64 program header size");
	tf_fresh(orig, len, f);
	tf_eh(f)->e_phnum = 0;
	REJECT(f->b, len, "e_phnum: 0 program headers (a plugin has 1 to 64)");
	tf_fresh(orig, len, f);
	tf_eh(f)->e_phnum = 65;
	REJECT(f->b, len, "e_phnum: 65 program headers (a plugin has 1 to 64)");
	tf_fresh(orig, len, f);
	tf_eh(f)->e_phoff = len - 100;
	REJECT(f->b, len, fmt("e_phoff: program headers (0x%zx + 56*%u) lie outside the %zu-byte file",
			      len - 100, tf_eh(f)->e_phnum, len));

	tf_fresh(orig, len, f);
	ph = tf_ph(f, l1);
	ph->p_offset = len - 16;
	REJECT(f->b, len, fmt("PT_LOAD[%u]: p_offset+p_filesz 0x%zx+0x%llx beyond end of file (%zu bytes)",
			      l1, len - 16, (unsigned long long)ph->p_filesz, len));
	/* A truncated file: the last segment's bytes are missing. */
	tf_fresh(orig, len, f);
	ph = tf_ph(f, l1);
	REJECT(f->b, ph->p_offset + 8,
	       fmt("PT_LOAD[%u]: p_offset+p_filesz 0x%llx+0x%llx beyond end of file (%llu bytes)", l1,
		   (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz,
		   (unsigned long long)ph->p_offset + 8));
	tf_fresh(orig, len, f);
	ph = tf_ph(f, l0);
	ph->p_memsz = ph->p_filesz - 1;
	REJECT(f->b, len, fmt("PT_LOAD[%u]: p_filesz 0x%llx is larger than p_memsz 0x%llx", l0,
			      (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz));
	tf_fresh(orig, len, f);
	ph = tf_ph(f, l0);
	ph->p_align = 0x3000;
	REJECT(f->b, len, fmt("PT_LOAD[%u]: p_align 0x3000 is not a power of two up to 0x200000", l0));
	tf_fresh(orig, len, f);
	ph = tf_ph(f, l1);
	ph->p_memsz = 1ULL << 40;
	REJECT(f->b, len, fmt("PT_LOAD[%u]: p_vaddr+p_memsz 0x%llx+0x10000000000 exceeds the 256 MiB image limit",
			      l1, (unsigned long long)ph->p_vaddr));
	tf_fresh(orig, len, f);
	tf_ph(f, l1)->p_flags = PF_R | PF_W | PF_X;
	REJECT(f->b, len, fmt("PT_LOAD[%u]: p_flags asks for write and execute at once (W^X)", l1));
	/*
	 * Two segments in one page: the first [0, 0x1001) takes its 4 KiB pages (the
	 * x86-64 page size) up to 0x2000, and the second starts at 0x1ff0, in the
	 * second of them.  p_align 1: no alignment asked, so the addresses need not
	 * match the file offsets.
	 */
	tf_fresh(orig, len, f);
	ph = tf_ph(f, l0);
	ph->p_offset = 0;
	ph->p_vaddr = 0;
	ph->p_filesz = 0x100;
	ph->p_memsz = 0x1001;
	ph->p_align = 1;
	ph = tf_ph(f, l1);
	ph->p_vaddr = 0x1ff0;
	ph->p_align = 1;
	REJECT(f->b, len, fmt("PT_LOAD[%u]: p_vaddr 0x1ff0 overlaps the previous PT_LOAD (its pages end at 0x2000)",
			      l1));
	tf_fresh(orig, len, f);
	tf_ph(f, dyn)->p_type = PT_NULL;
	REJECT(f->b, len, "PT_DYNAMIC: missing, so this is not a shared object one can relocate");
	tf_fresh(orig, len, f);
	ph = tf_ph(f, dyn);
	ph->p_vaddr += 0x100000;
	REJECT(f->b, len, fmt("PT_DYNAMIC: p_vaddr 0x%llx (p_offset 0x%llx, p_filesz 0x%llx) is not inside the file bytes of a readable PT_LOAD",
			      (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_offset,
			      (unsigned long long)ph->p_filesz));
	tf_fresh(orig, len, f);
	ph = tf_ph(f, tf_find_ph(f, PT_GNU_STACK, 0));
	ph->p_type = PT_TLS;
	REJECT(f->b, len, fmt("PT_TLS[%u]: thread-local storage is not supported",
			      tf_find_ph(f, PT_TLS, 0)));
	tf_fresh(orig, len, f);
	tf_ph(f, tf_find_ph(f, PT_GNU_STACK, 0))->p_type = PT_INTERP;
	REJECT(f->b, len, fmt("PT_INTERP[%u]: a plugin is a shared object, not a program with an interpreter",
			      tf_find_ph(f, PT_INTERP, 0)));
}

static void test_corrupt_dynamic(const uint8_t *orig, size_t len, struct tf *f)
{
	Elf64_Rela *r;
	unsigned k, i;
	char *s;

	tf_fresh(orig, len, f);
	tf_dyn(f, DT_SONAME)->d_tag = DT_NEEDED;
	REJECT(f->b, len, "DT_NEEDED: the plugin needs the library 'tp_basic.so'; a plugin must be self-contained");
	tf_fresh(orig, len, f);
	tf_dyn(f, DT_SONAME)->d_tag = DT_TEXTREL;
	REJECT(f->b, len, "DT_TEXTREL: text relocations would need writable code (W^X)");
	tf_fresh(orig, len, f);
	tf_dyn(f, DT_SONAME)->d_tag = DT_INIT;
	REJECT(f->b, len, "DT_INIT: the plugin has constructors, which no userboot build has and kvmload does not run");
	tf_fresh(orig, len, f);
	tf_dyn(f, DT_SONAME)->d_tag = DT_REL;
	REJECT(f->b, len, "DT_REL: REL relocations are not used on x86-64 (RELA only)");
	tf_fresh(orig, len, f);
	tf_dyn(f, DT_SONAME)->d_tag = DT_FLAGS;
	tf_dyn(f, DT_FLAGS)->d_un.d_val = DF_STATIC_TLS;
	REJECT(f->b, len, "DT_FLAGS: DF_STATIC_TLS, thread-local storage is not supported");
	/* Every terminator (ld pads with several) turned into DT_SYMBOLIC. */
	tf_fresh(orig, len, f);
	{
		Elf64_Phdr *ph = tf_ph(f, tf_find_ph(f, PT_DYNAMIC, 0));
		Elf64_Dyn *d = (Elf64_Dyn *)(f->b + ph->p_offset);

		for (i = 0; i < ph->p_filesz / sizeof(*d); i++)
			if (d[i].d_tag == DT_NULL)
				d[i].d_tag = DT_SYMBOLIC;
		REJECT(f->b, len, fmt("PT_DYNAMIC: no DT_NULL terminator within its 0x%llx bytes",
				      (unsigned long long)ph->p_filesz));
	}
	tf_fresh(orig, len, f);
	tf_dyn(f, DT_STRTAB)->d_un.d_ptr = 0x7fff0000;
	REJECT(f->b, len, fmt("DT_STRTAB: 0x7fff0000 + DT_STRSZ 0x%llx is not inside the file bytes of a readable PT_LOAD",
			      (unsigned long long)tf_dyn(f, DT_STRSZ)->d_un.d_val));
	tf_fresh(orig, len, f);
	tf_dyn(f, DT_SYMTAB)->d_tag = DT_SYMBOLIC;
	REJECT(f->b, len, "DT_SYMTAB: missing from the dynamic section");
	tf_fresh(orig, len, f);
	tf_dyn(f, DT_SYMENT)->d_un.d_val = 16;
	REJECT(f->b, len, "DT_SYMENT: 16 is not the 24-byte ELF64 symbol size");
	tf_fresh(orig, len, f);
	tf_dyn(f, DT_HASH)->d_tag = DT_SYMBOLIC;
	REJECT(f->b, len, "DT_HASH: neither DT_HASH nor DT_GNU_HASH, so the symbol count is unknown");
	tf_fresh(orig, len, f);
	((uint32_t *)tf_at(f, tf_dyn(f, DT_HASH)->d_un.d_ptr))[1] = 0x10000000;
	REJECT(f->b, len, fmt("DT_HASH: nbucket %u + nchain 268435456 run past the end of their PT_LOAD",
			      ((uint32_t *)tf_at(f, tf_dyn(f, DT_HASH)->d_un.d_ptr))[0]));
	tf_fresh(orig, len, f);
	tf_dyn(f, DT_PLTREL)->d_un.d_val = DT_REL;
	REJECT(f->b, len, "DT_PLTREL: 17 is not DT_RELA (7)");
	tf_fresh(orig, len, f);
	tf_dyn(f, DT_RELASZ)->d_un.d_val += 1;
	REJECT(f->b, len, fmt("DT_RELASZ: missing or 0x%llx is not a multiple of 24",
			      (unsigned long long)tf_dyn(f, DT_RELASZ)->d_un.d_val));

	/* Symbols and relocations. */
	tf_fresh(orig, len, f);
	i = tf_sym_of(f, "tp_global");
	tf_sym(f, i)->st_name = (uint32_t)tf_dyn(f, DT_STRSZ)->d_un.d_val;
	REJECT(f->b, len, fmt("DT_SYMTAB[%u]: st_name 0x%llx is not a NUL-terminated name inside DT_STRTAB (%llu bytes)",
			      i, (unsigned long long)tf_dyn(f, DT_STRSZ)->d_un.d_val,
			      (unsigned long long)tf_dyn(f, DT_STRSZ)->d_un.d_val));
	tf_fresh(orig, len, f);
	i = tf_sym_of(f, "tp_global");
	tf_sym(f, i)->st_info = ELF64_ST_INFO(STB_GLOBAL, STT_TLS);
	REJECT(f->b, len, fmt("DT_SYMTAB[%u]: 'tp_global' is STT_TLS; thread-local storage is not supported", i));
	tf_fresh(orig, len, f);
	r = tf_rela(f, DT_RELA);
	r[0].r_offset = 0;
	REJECT(f->b, len, "DT_RELA[0]: r_offset 0x0 is not inside a writable PT_LOAD");
	tf_fresh(orig, len, f);
	r = tf_rela(f, DT_RELA);
	r[0].r_info = ELF64_R_INFO(ELF64_R_SYM(r[0].r_info), R_X86_64_IRELATIVE);
	REJECT(f->b, len, "DT_RELA[0]: unknown relocation type 37");
	tf_fresh(orig, len, f);
	r = tf_rela(f, DT_JMPREL);
	r[0].r_info = ELF64_R_INFO(tf_nsyms(f) + 5, R_X86_64_JUMP_SLOT);
	REJECT(f->b, len, fmt("DT_JMPREL[0]: symbol index %u >= symbol count %u", tf_nsyms(f) + 5,
			      tf_nsyms(f)));
	tf_fresh(orig, len, f);
	k = tf_jmprel_of(f, "time");
	s = tf_str(f, tf_sym(f, ELF64_R_SYM(tf_rela(f, DT_JMPREL)[k].r_info))->st_name);
	s[1] = 'a';
	REJECT(f->b, len, fmt("DT_JMPREL[%u]: undefined symbol 'tame' is not one the host provides", k));
	tf_fresh(orig, len, f);
	s = tf_str(f, tf_sym(f, tf_sym_of(f, "loader_main"))->st_name);
	s[7] = 'M';
	REJECT(f->b, len, "loader_main: no exported function 'loader_main' in the plugin");
}

static void test_accepted_variants(const uint8_t *orig, size_t len, struct tf *f)
{
	char err[512];
	struct plugin p;

	/* FreeBSD's OSABI byte is accepted as well as System V's. */
	tf_fresh(orig, len, f)[EI_OSABI] = ELFOSABI_FREEBSD;
	CHECK_EQ(plugin_load_mem(&p, f->b, len, err, sizeof(err)), 0);
	plugin_unload(&p);
	/* 10.x asks for an executable stack; it is ignored, never honoured. */
	tf_fresh(orig, len, f);
	tf_ph(f, tf_find_ph(f, PT_GNU_STACK, 0))->p_flags = PF_R | PF_W | PF_X;
	CHECK_EQ(plugin_load_mem(&p, f->b, len, err, sizeof(err)), 0);
	plugin_unload(&p);
}

static void test_gen_rejects(void)
{
	size_t len;
	uint8_t *b;
	uint8_t *m;
	char err[512];
	struct plugin p;

	b = read_file("tp_gen_noslot.so", &len);
	REJECT(b, len, "exit: cannot tell the callback layout: exit uses no slot 0x98/0xa0");
	free(b);
	b = read_file("tp_gen_nofsops.so", &len);
	REJECT(b, len, "host_fsops: no exported object 'host_fsops' to tell the stat form from");
	free(b);
	/* A marker whose name is not [a-z0-9]+ is no marker: back to version 3. */
	b = read_file("tp_gen_old_cc-O2.so", &len);
	m = memmem(b, len, "$Interpreter:lua", 16);
	CHECK(m != NULL);
	if (m) {
		memcpy(m + 13, "LUA", 3);
		CHECK_EQ(plugin_load_mem(&p, b, len, err, sizeof(err)), 0);
		CHECK_EQ(p.gen.version, 3);
		CHECK_STR(p.gen.interp, "");
		plugin_unload(&p);
	}
	free(b);
}

/* The GNU hash table (the only one in tp_basic_nosym.so) is checked as well. */
static void test_corrupt_gnu_hash(void)
{
	struct tf f;
	uint32_t *h;

	f.b = read_file("tp_basic_nosym.so", &f.len);
	CHECK(tf_dyn(&f, DT_HASH) == NULL);
	h = (uint32_t *)tf_at(&f, tf_dyn(&f, DT_GNU_HASH)->d_un.d_ptr);
	h[0] = 0;
	REJECT(f.b, f.len, "DT_GNU_HASH: nbuckets is 0");
	h[0] = 0x40000000;
	REJECT(f.b, f.len, fmt("DT_GNU_HASH: 1073741824 buckets after a %u-word bloom filter do not fit in their PT_LOAD",
			       h[2]));
	free(f.b);
}

/* plugin_load_fd: the file is read through the descriptor given, whatever its path becomes. */
static void test_load_fd(void)
{
	char err[512], path[4096];
	struct plugin p;
	int fd;

	fd = open(tp_dir, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);
	CHECK_EQ(plugin_load_fd(&p, fd, tp_dir, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, fmt("%s: not a regular file", tp_dir));
	close(fd);
	snprintf(path, sizeof(path), "%s/tp_gen_noslot.so", tp_dir);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	CHECK_EQ(plugin_load_fd(&p, fd, path, err, sizeof(err)), -ENOEXEC);
	CHECK_STR(err, fmt("%s: exit: cannot tell the callback layout: exit uses no slot 0x98/0xa0", path));
	close(fd);
	/*
	 * A copy opened, then its path given to other bytes: the open file is
	 * what is loaded, from its start (the fd's offset is at its end).
	 */
	{
		char tmp[] = "/tmp/test_plugin.XXXXXX";
		size_t len;
		uint8_t *b = read_file("tp_basic.so", &len);
		int junk;

		fd = mkstemp(tmp);
		CHECK(fd >= 0);
		CHECK_EQ(write(fd, b, len), (ssize_t)len);
		CHECK_EQ(unlink(tmp), 0);
		junk = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
		CHECK(junk >= 0);
		CHECK_EQ(write(junk, "not an ELF", 10), 10);
		close(junk);
		CHECK_EQ(plugin_load_fd(&p, fd, tmp, err, sizeof(err)), 0);
		CHECK(p.base != NULL && p.entry != NULL);
		plugin_unload(&p);
		close(fd);
		unlink(tmp);
		free(b);
	}
}

int main(int argc, char **argv)
{
	struct tf f;
	uint8_t *orig;
	size_t len;
	int before;

	if (argc < 2) {
		fprintf(stderr, "usage: test_plugin TEST-PLUGIN-DIR [PLUGIN.so|VARIANT]...\n");
		return 1;
	}
	tp_dir = argv[1];
	before = anon_exec_maps();
	/* Arguments naming a .so are whole test plugins; the others are generation variants. */
	for (int i = 2; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (n > 3 && strcmp(argv[i] + n - 3, ".so") == 0) {
			test_run_and_fresh_bss(argv[i]);
			test_imports(argv[i]);
			test_leaving(argv[i]);
			test_protections(argv[i]);
		} else {
			test_generations(argv[i]);
		}
	}
	test_gen_rejects();
	test_corrupt_gnu_hash();
	test_load_fd();

	orig = read_file("tp_basic.so", &len);
	f.b = malloc(len);
	test_corrupt_headers(orig, len, &f);
	test_corrupt_dynamic(orig, len, &f);
	test_accepted_variants(orig, len, &f);
	free(f.b);
	free(orig);
	/* Every image was unmapped again. */
	CHECK_EQ(anon_exec_maps(), before);
	return check_done();
}
