/* test_miniboot.c: the scenarios every miniboot flavour runs, each in its own process, against the fake host of mb_host_fake.c. */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "freebsd_abi.h"
#include "mb_host_fake.h"
#include "userboot.h"

#define KERN_VA 0xffffffff80200000ull
#define KERN_ENTRY (KERN_VA + 0x78)
#define RB_SINGLE 0x2u
#define RB_SERIAL 0x1000u
#define RB_VERBOSE 0x800u

enum flavour_id { FL_4TH, FL_LUA, FL_GEN10, FL_GEN12, FL_GEN122, FL_COUNT };

/* The plugins under test; their paths come from the command line. */
static struct mb_flavour flavours[FL_COUNT] = {
	{ "userboot_4th.so", true, true, true, "4th", NULL },
	{ "userboot_lua.so", true, true, true, "lua", NULL },
	{ "miniboot_gen10.so", false, false, false, NULL, NULL },
	{ "miniboot_gen12.so", false, false, true, "4th", NULL },
	{ "miniboot_gen122.so", false, true, true, "4th", NULL },
};

/* Fixture paths, made once by the parent. */
static char tmpdir[PATH_MAX], root[PATH_MAX + 16];
static uint8_t kernel_file[0x1100];
static uint8_t foo_ko[5000], bar_ko[3000];
static uint8_t *big_ko;
#define BIG_SIZE 3000000u

/* ---- fixtures ---- */

static uint8_t *slurp(const char *path, size_t *len);

static void write_path(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(99);
	}
}

static void write_file(const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	write_path(path, data, len);
}

static void write_text(const char *rel, const char *text)
{
	write_file(rel, text, strlen(text));
}

static void remove_rel(const char *rel)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* A two-segment ELF64 ET_EXEC linked at KERN_VA: text [0, 0x200), data 0x100 bytes + 0x1f00 bss. */
static void make_kernel(void)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph[2] = { { 0 }, { 0 } };

	fill(kernel_file, sizeof(kernel_file), 7);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = KERN_ENTRY;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	ph[0] = (Elf64_Phdr){ PT_LOAD, PF_R | PF_X, 0, KERN_VA, KERN_VA - 0xffffffff80000000ull,
			      0x200, 0x200, 0x1000 };
	ph[1] = (Elf64_Phdr){ PT_LOAD, PF_R | PF_W, 0x1000, KERN_VA + 0x1000,
			      KERN_VA + 0x1000 - 0xffffffff80000000ull, 0x100, 0x2000, 0x1000 };
	memcpy(kernel_file, &eh, sizeof(eh));
	memcpy(kernel_file + sizeof(eh), ph, sizeof(ph));
}

static const char defaults_conf[] =
	"# defaults, as a guest ships them\n"
	"exec=\".( Loading /boot/defaults/loader.conf ) cr\"\n"
	"kernel=\"kernel\"\t\t# /boot sub-directory\n"
	"bootfile=\"kernel\"\n"
	"module_path=\"/boot/modules\"\n"
	"loader_conf_files=\"/boot/loader.conf /boot/loader.conf.local\"\n"
	"foo_load=\"NO\"\n"
	"splash_name=\"splash.bmp\"\n"
	"boot_verbose=\"\"\n";

static const char loader_conf[] =
	"foo_load=\"YES\"\n"
	"bar_load=\"YES\"\n"
	"big_load=\"YES\"\n"
	"big_name=\"/boot/mods/big.ko\"\n"
	"boot_single=\"YES\"\n"
	"boot_verbose=\"NO\"\n"
	"this line is not an assignment\n"
	"hw.test=\"conf\"\n"
	"  my.var = bare_value   # trailing comment\n"
	"quoted=\"a b c\"\n"
	"baz_load=\"YES\"\n";

static void make_tree(void)
{
	const char *dirs[] = { "boot", "boot/kernel", "boot/modules", "boot/defaults" };
	char path[PATH_MAX * 2];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		if (mkdir(path, 0755) != 0) {
			perror(path);
			exit(99);
		}
	}
	snprintf(path, sizeof(path), "%s/boot/mods", root);
	if (symlink("kernel", path) != 0) {
		perror(path);
		exit(99);
	}
	make_kernel();
	fill(foo_ko, sizeof(foo_ko), 11);
	fill(bar_ko, sizeof(bar_ko), 13);
	big_ko = malloc(BIG_SIZE);
	fill(big_ko, BIG_SIZE, 17);
	write_file("boot/kernel/kernel", kernel_file, sizeof(kernel_file));
	write_file("boot/kernel/foo.ko", foo_ko, sizeof(foo_ko));
	write_file("boot/modules/bar.ko", bar_ko, sizeof(bar_ko));
	write_file("boot/kernel/big.ko", big_ko, BIG_SIZE);
	write_text("boot/defaults/loader.conf", defaults_conf);
	write_text("boot/loader.conf", loader_conf);
}

static bool have_tool(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

static bool truncate_file(const char *path, off_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	bool ok = fd >= 0 && ftruncate(fd, size) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* Copy the UFS image into img at byte offset off. */
static bool embed(const char *ufs, const char *img, uint64_t off)
{
	char cmd[PATH_MAX * 3];

	snprintf(cmd, sizeof(cmd),
		 "dd if='%s' of='%s' bs=512 seek=%llu conv=notrunc status=none", ufs, img,
		 (unsigned long long)(off / 512));
	return system(cmd) == 0;
}

static bool make_ufs(const char *img, int version)
{
	char cmd[PATH_MAX * 3];

	snprintf(cmd, sizeof(cmd),
		 "makefs -t ffs -o version=%d,bsize=4096,fsize=512 -s 16m '%s' '%s' >/dev/null",
		 version, img, root);
	return system(cmd) == 0;
}

static bool make_gpt(const char *img, const char *ufs)
{
	char cmd[PATH_MAX * 3];

	snprintf(cmd, sizeof(cmd),
		 "truncate -s 20M '%s' && sgdisk -o -a 8 -n 1:40:+64K -t 1:a501 "
		 "-n 2:2048:+16M -t 2:a503 '%s' >/dev/null 2>&1", img, img);
	return system(cmd) == 0 && embed(ufs, img, 2048 * 512);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* MBR slice 1 (type 0xa5) at sector 63, BSD label with 'a' 16 sectors in, relative or absolute. */
static bool make_mbr(const char *img, const char *ufs, bool absolute)
{
	const uint32_t start = 63, ufs_secs = (16u << 20) / 512, nsec = 16 + ufs_secs;
	uint8_t mbr[512] = { 0 }, label[512] = { 0 };
	int fd;
	bool ok;

	mbr[446 + 4] = 0xa5;
	put32(mbr + 446 + 8, start);
	put32(mbr + 446 + 12, nsec);
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	put32(label, 0x82564557u);
	put32(label + 40, 512);
	put32(label + 132, 0x82564557u);
	label[138] = 8;
	put32(label + 148, ufs_secs);                     /* a: size */
	put32(label + 148 + 4, 16 + (absolute ? start : 0)); /* a: offset */
	label[148 + 12] = 7;                              /* 4.2BSD */
	put32(label + 148 + 32, nsec);                    /* c: size */
	put32(label + 148 + 32 + 4, absolute ? start : 0);
	fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ok = fd >= 0 && ftruncate(fd, (off_t)(start + nsec + 64) * 512) == 0 &&
	     pwrite(fd, mbr, 512, 0) == 512 && pwrite(fd, label, 512, (start + 1) * 512) == 512;
	if (fd >= 0)
		close(fd);
	return ok && embed(ufs, img, (uint64_t)(start + 16) * 512);
}

/* ---- the fake host, and what a boot leaves in its guest memory ---- */

/* The fake host for flavour fl over the fixture tree. */
static void host_init(struct mb_host *h, enum flavour_id fl)
{
	mb_host_init(h, &flavours[fl], root);
}

#define CHECK_LINE(h, line)                                                          \
	do {                                                                         \
		CHECK(mb_host_console_has(h, line));                                 \
		if (!mb_host_console_has(h, line))                                   \
			fprintf(stderr, "  missing console text: [%s]\n  console was:\n%s\n", \
				line, (h)->cons);                                    \
	} while (0)

struct md_rec {
	uint32_t type, size;
	uint64_t at;
};

/* The preload metadata at modulep: records up to MODINFO_END. */
static int md_parse(const struct mb_host *h, uint64_t modulep, struct md_rec *r, int max)
{
	uint64_t at = modulep;
	int n = 0;

	while (n < max && at + 8 <= MB_MEM_SIZE) {
		r[n].type = mb_host_mem32(h, at);
		r[n].size = mb_host_mem32(h, at + 4);
		r[n].at = at + 8;
		if (r[n].type == MODINFO_END)
			return n + 1;
		at += 8 + ((r[n].size + 7u) & ~7u);
		n++;
	}
	return -1;
}

static const struct md_rec *md_find(const struct md_rec *r, int n, int from, uint32_t type)
{
	for (int i = from; i < n; i++) {
		if (r[i].type == MODINFO_NAME && i > from)
			return NULL; /* next file's records */
		if (r[i].type == type)
			return &r[i];
	}
	return NULL;
}

/* Index of the MODINFO_NAME record naming path, or -1. */
static int md_file(const struct mb_host *h, const struct md_rec *r, int n, const char *path)
{
	for (int i = 0; i < n; i++)
		if (r[i].type == MODINFO_NAME &&
		    strcmp((const char *)h->mem + r[i].at, path) == 0)
			return i;
	return -1;
}

static bool env_has(const struct mb_host *h, uint64_t envp, const char *entry)
{
	for (uint64_t at = envp; at < MB_MEM_SIZE && h->mem[at];) {
		const char *s = (const char *)h->mem + at;

		if (strcmp(s, entry) == 0)
			return true;
		at += strlen(s) + 1;
	}
	return false;
}

/* A loaded file's metadata says addr/size and the guest holds its bytes there. */
static void check_loaded(const struct mb_host *h, const struct md_rec *r, int n, const char *path,
			 const char *type, uint64_t addr, const uint8_t *data, uint64_t size)
{
	int i = md_file(h, r, n, path);
	const struct md_rec *t, *a, *s;

	CHECK(i >= 0);
	if (i < 0) {
		fprintf(stderr, "  no metadata for %s\n", path);
		return;
	}
	t = md_find(r, n, i, MODINFO_TYPE);
	a = md_find(r, n, i, MODINFO_ADDR);
	s = md_find(r, n, i, MODINFO_SIZE);
	CHECK(t && a && s);
	if (!t || !a || !s)
		return;
	CHECK_STR((const char *)h->mem + t->at, type);
	CHECK_EQ(a->size, 8);
	CHECK_EQ(mb_host_mem64(h, a->at), addr);
	CHECK_EQ(mb_host_mem64(h, s->at), size);
	if (data)
		CHECK(memcmp(h->mem + addr, data, size) == 0);
}

/* Everything a successful boot of the fixture tree must leave behind. */
static void check_boot(const struct mb_host *h, const char *currdev)
{
	struct md_rec r[64];
	uint64_t modulep, kernend, envp;
	const struct md_rec *m;
	char line[128];
	int n, k;
	bool bss_zero = true;

	CHECK(h->exec_called);
	CHECK_EQ(h->exit_calls, 0);
	CHECK_EQ(h->faults, 0);
	CHECK_EQ(h->diskwrite_calls, 0);
	CHECK_EQ(h->vm_calls, 0);
	CHECK_STR(h->calls, "setreg(rsp) setmsr(efer) setcr(4) setcr(3) setcr(0) setgdt exec");
	CHECK_EQ(h->rsp, 0x1000);
	CHECK_EQ(h->efer, 0x500);
	CHECK_EQ(h->cr4, 0x2020);
	CHECK_EQ(h->cr3, 0x2000);
	CHECK_EQ(h->cr0, 0x80000021);
	CHECK_EQ(h->gdt_base, 0x5000);
	CHECK_EQ(h->gdt_size, 24);
	CHECK_EQ(h->pc, KERN_ENTRY);
	CHECK_EQ(mb_host_mem64(h, 0x5008), 0x0020980000000000ull);
	CHECK_EQ(mb_host_mem64(h, 0x5010), 0x0000900000000000ull);
	CHECK_EQ(mb_host_mem64(h, 0x2000), 0x3003);
	CHECK_EQ(mb_host_mem64(h, 0x2000 + 511 * 8), 0x3003);
	CHECK_EQ(mb_host_mem64(h, 0x3000 + 510 * 8), 0x4003);
	CHECK_EQ(mb_host_mem64(h, 0x4000 + 8), 0x200083);

	snprintf(line, sizeof(line), "currdev=%s\n", currdev);
	CHECK_LINE(h, line);
	CHECK_LINE(h, "/boot/kernel/kernel text=0x200 data=0x100+0x1f00\n");
	CHECK_LINE(h, "miniboot: warning: /boot/loader.conf:7: cannot parse this line\n");
	CHECK_LINE(h, "miniboot: warning: can't find 'baz'\n");
	CHECK_LINE(h, "Booting [/boot/kernel/kernel]...\n");

	/* Kernel segments at their physical alias, bss zeroed. */
	CHECK(memcmp(h->mem + 0x200000, kernel_file, 0x200) == 0);
	CHECK(memcmp(h->mem + 0x201000, kernel_file + 0x1000, 0x100) == 0);
	for (uint64_t a = 0x201100; a < 0x203000; a++)
		bss_zero &= h->mem[a] == 0;
	CHECK(bss_zero);

	CHECK_EQ(mb_host_mem32(h, 0x1000), 0);
	modulep = mb_host_mem32(h, 0x1004);
	kernend = mb_host_mem32(h, 0x1008);
	CHECK_EQ(modulep % 4096, 0);
	CHECK_EQ(kernend % 4096, 0);
	CHECK(kernend > modulep);
	n = md_parse(h, modulep, r, 64);
	CHECK(n > 0);
	if (n <= 0)
		return;
	CHECK_EQ(r[0].type, MODINFO_NAME);
	k = md_file(h, r, n, "/boot/kernel/kernel");
	CHECK_EQ(k, 0);
	check_loaded(h, r, n, "/boot/kernel/kernel", "elf kernel", 0x200000, NULL, 0x3000);
	check_loaded(h, r, n, "/boot/kernel/foo.ko", "elf obj module", 0x203000, foo_ko,
		     sizeof(foo_ko));
	check_loaded(h, r, n, "/boot/modules/bar.ko", "elf obj module", 0x205000, bar_ko,
		     sizeof(bar_ko));
	check_loaded(h, r, n, "/boot/mods/big.ko", "elf obj module", 0x206000, big_ko, BIG_SIZE);
	CHECK_EQ(md_file(h, r, n, "/boot/kernel/baz.ko"), -1);

	m = md_find(r, n, 0, MODINFO_METADATA | MODINFOMD_HOWTO);
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ(m->size, 4);
		CHECK_EQ(mb_host_mem32(h, m->at), RB_SINGLE | RB_SERIAL);
	}
	m = md_find(r, n, 0, MODINFO_METADATA | MODINFOMD_KERNEND);
	CHECK(m != NULL);
	if (m)
		CHECK_EQ(mb_host_mem64(h, m->at), kernend);
	m = md_find(r, n, 0, MODINFO_METADATA | MODINFOMD_SMAP);
	CHECK(m != NULL);
	if (m) {
		struct fbsd_bios_smap s[3];
		unsigned want = h->highmem ? 3 : 2;

		CHECK_EQ(m->size, want * 20); /* FreeBSD's packed struct bios_smap: base, length, type */
		memcpy(s, h->mem + m->at, want * sizeof(s[0]));
		CHECK_EQ(s[0].base, 0);
		CHECK_EQ(s[0].length, 640 << 10);
		CHECK_EQ(s[0].type, 1);
		CHECK_EQ(s[1].base, 1 << 20);
		CHECK_EQ(s[1].length, MB_MEM_SIZE - (1 << 20));
		CHECK_EQ(s[1].type, 1);
		if (want == 3) {
			CHECK_EQ(s[2].base, 1ull << 32);
			CHECK_EQ(s[2].length, h->highmem);
		}
	}
	m = md_find(r, n, 0, MODINFO_METADATA | MODINFOMD_ENVP);
	CHECK(m != NULL);
	if (!m)
		return;
	envp = mb_host_mem64(h, m->at);
	CHECK(envp > 0x4e26c0 && envp < modulep);
	CHECK(env_has(h, envp, "boot_serial=1"));
	CHECK(env_has(h, envp, "smbios.bios.vendor=BHYVE"));
	CHECK(env_has(h, envp, "hw.test=conf"));
	CHECK(env_has(h, envp, "my.var=bare_value"));
	CHECK(env_has(h, envp, "quoted=a b c"));
	CHECK(env_has(h, envp, "boot_single=YES"));
	CHECK(env_has(h, envp, "module_path=/boot/modules"));
	CHECK(env_has(h, envp, "kernelname=/boot/kernel/kernel"));
	CHECK(env_has(h, envp, "console=userboot"));
	snprintf(line, sizeof(line), "currdev=%s", currdev);
	CHECK(env_has(h, envp, line));
	snprintf(line, sizeof(line), "loaddev=%s", currdev);
	CHECK(env_has(h, envp, line));
	CHECK(!env_has(h, envp, "foo_load=YES"));
	CHECK(!env_has(h, envp, "big_name=/boot/mods/big.ko"));
	CHECK(!env_has(h, envp, "exec=.( Loading /boot/defaults/loader.conf ) cr"));
}

/* ---- scenarios (each runs in a child process) ---- */

static void sc_host0_exact(void)
{
	struct mb_host h;
	static const char want[] =
		"Consoles: userboot\n\n"
		"miniboot/amd64 userboot 4th, Revision 1.0\n"
		"currdev=host0:\n"
		"Loading /boot/defaults/loader.conf\n"
		"Loading /boot/loader.conf\n"
		"miniboot: warning: /boot/loader.conf:7: cannot parse this line\n"
		"/boot/kernel/kernel text=0x200 data=0x100+0x1f00\n"
		"/boot/kernel/foo.ko size=0x1388 at 0x203000\n"
		"/boot/modules/bar.ko size=0xbb8 at 0x205000\n"
		"/boot/mods/big.ko size=0x2dc6c0 at 0x206000\n"
		"miniboot: warning: can't find 'baz'\n"
		"Booting [/boot/kernel/kernel]...\n";

	host_init(&h, FL_4TH);
	mb_host_run(&h, 5, 0);
	CHECK_STR(h.cons, want);
	check_boot(&h, "host0:");
	CHECK_EQ(h.swap_calls, 0); /* no /boot/loader: nothing to compare */
	CHECK(h.stat_calls > 0);
}

static void sc_swap(enum flavour_id fl, int version, const char *want_swap)
{
	struct mb_host h;

	host_init(&h, fl);
	mb_host_run(&h, version, 0);
	CHECK(h.exec_called);
	CHECK_EQ(h.swap_calls, want_swap ? 1 : 0);
	if (want_swap) {
		char line[128];

		CHECK_STR(h.swap_name, want_swap);
		snprintf(line, sizeof(line),
			 "miniboot: /boot/loader uses interpreter '%s'; going on with '%s'\n",
			 want_swap, h.fl->interp);
		CHECK_LINE(&h, line);
	}
}

static void sc_swap_lua(void) { sc_swap(FL_4TH, 5, "lua"); }
static void sc_swap_lua_v4(void) { sc_swap(FL_4TH, 4, NULL); }
static void sc_swap_lua_gen10(void) { sc_swap(FL_GEN10, 3, NULL); }
static void sc_swap_lua_gen12(void) { sc_swap(FL_GEN12, 5, "lua"); }
static void sc_swap_lua_gen122(void) { sc_swap(FL_GEN122, 5, "lua"); }
static void sc_no_swap_4th(void) { sc_swap(FL_4TH, 5, NULL); }
static void sc_lua_no_marker(void) { sc_swap(FL_LUA, 5, "4th"); }
static void sc_lua_marker_lua(void) { sc_swap(FL_LUA, 5, NULL); }

static void sc_gen(enum flavour_id fl, int version, const char *banner)
{
	struct mb_host h;

	host_init(&h, fl);
	h.highmem = 1ull << 30;
	mb_host_run(&h, version, 0);
	CHECK_LINE(&h, banner);
	check_boot(&h, "host0:");
	CHECK(h.stat_calls > 0);
}

static void sc_gen10(void)
{
	sc_gen(FL_GEN10, 3, "Consoles: userboot\n\nminiboot/amd64 userboot, Revision 1.0\n");
}

static void sc_gen12(void)
{
	sc_gen(FL_GEN12, 5, "\nminiboot/amd64 userboot 4th, Revision 1.0\n");
}

static void sc_gen122(void)
{
	sc_gen(FL_GEN122, 3, "\nminiboot/amd64 userboot 4th, Revision 1.0\n");
}

static void sc_lua_banner(void)
{
	sc_gen(FL_LUA, 3, "\nminiboot/amd64 userboot lua, Revision 1.0\n");
}

static void sc_refused(enum flavour_id fl, int version)
{
	struct mb_host h;
	char want[128];

	host_init(&h, fl);
	mb_host_run(&h, version, 0);
	snprintf(want, sizeof(want), "miniboot: unsupported userboot version %d\n", version);
	CHECK_STR(h.cons, want);
	CHECK_EQ(h.exit_calls, 1);
	CHECK_EQ(h.exit_code, 1);
	CHECK(h.returned);
	CHECK(!h.exec_called);
}

static void sc_gen10_v5(void) { sc_refused(FL_GEN10, 5); }
static void sc_gen10_v4(void) { sc_refused(FL_GEN10, 4); }
static void sc_4th_v2(void) { sc_refused(FL_4TH, 2); }
static void sc_gen12_v2(void) { sc_refused(FL_GEN12, 2); }

static void sc_fail(const char *want)
{
	struct mb_host h;

	host_init(&h, FL_4TH);
	mb_host_run(&h, 5, 0);
	CHECK_LINE(&h, want);
	CHECK_EQ(h.exit_calls, 1);
	CHECK_EQ(h.exit_code, 1);
	CHECK(h.returned);
	CHECK(!h.exec_called);
}

static void sc_bad_kernel(void)
{
	sc_fail("miniboot: /boot/kernel/kernel: not an ELF64 little-endian file\n");
}

static void sc_no_kernel(void)
{
	sc_fail("miniboot: can't load kernel /boot/kernel/kernel: no such file or directory\n");
}

static void sc_prompt(void)
{
	struct mb_host h;

	host_init(&h, FL_4TH);
	h.env[3] = "autoboot_delay=NO";
	h.input = "show hw.test\nls /boot/modules\nfrobnicate\nboot\n";
	mb_host_run(&h, 5, 0);
	CHECK_LINE(&h, "Type 'boot' to boot, 'show [name]', 'ls [dir]' or 'quit'.\n"
		       "OK show hw.test\nconf\nOK ls /boot/modules\n/boot/modules\n");
	CHECK_LINE(&h, "    bar.ko\n");
	CHECK_LINE(&h, "OK frobnicate\nminiboot: unknown command 'frobnicate'\nOK boot\n");
	check_boot(&h, "host0:");
}

static void sc_prompt_quit(void)
{
	struct mb_host h;

	host_init(&h, FL_4TH);
	h.env[3] = "autoboot_delay=NO";
	h.input = "quit\n";
	mb_host_run(&h, 5, 0);
	CHECK_LINE(&h, "OK quit\n");
	CHECK_EQ(h.exit_calls, 1);
	CHECK_EQ(h.exit_code, USERBOOT_EXIT_QUIT);
	CHECK(h.returned);
	CHECK(!h.exec_called);
}

static const char *disk_img;
static const char *disk_currdev;
static const char *disk_table;

static void sc_disk(void)
{
	struct mb_host h;
	char want[128];

	host_init(&h, FL_4TH);
	CHECK(mb_host_disk(&h, disk_img));
	mb_host_run(&h, 5, 1);
	snprintf(want, sizeof(want), "%s\ncurrdev=%s\n", disk_table, disk_currdev);
	CHECK_LINE(&h, want);
	check_boot(&h, disk_currdev);
	CHECK(h.diskreads > 0);
	CHECK_EQ(h.stat_calls, 0);
}

static void sc_disk_swap(void)
{
	struct mb_host h;

	host_init(&h, FL_4TH);
	CHECK(mb_host_disk(&h, disk_img));
	mb_host_run(&h, 5, 1);
	CHECK_EQ(h.swap_calls, 1);
	CHECK_STR(h.swap_name, "lua");
	CHECK(h.exec_called);
}

static void sc_disk_garbage(void)
{
	struct mb_host h;

	host_init(&h, FL_4TH);
	CHECK(mb_host_disk(&h, disk_img));
	mb_host_run(&h, 5, 1);
	CHECK_LINE(&h, "miniboot: disk0: no usable UFS file system: invalid argument\n");
	CHECK_EQ(h.exit_calls, 1);
	CHECK(!h.exec_called);
}

/*
 * Hostile images: the bare UFS2 image with bytes of its metadata area
 * overwritten.  Whatever breaks, miniboot must either boot or say why and
 * exit(1): never crash, never write outside guest memory.
 */
static void sc_corrupt(void)
{
	for (uint32_t round = 0; round < 48; round++) {
		struct mb_host h;
		uint8_t *img;
		size_t len;
		uint32_t seed = round * 2654435761u + 1;
		char path[PATH_MAX + 32];

		img = slurp(disk_img, &len);
		CHECK(img != NULL && len > (256u << 10));
		if (!img)
			return;
		for (int i = 0; i < 64; i++) {
			seed = seed * 1103515245u + 12345u;
			img[(seed >> 8) % (256u << 10)] = (uint8_t)(seed >> 3);
		}
		snprintf(path, sizeof(path), "%s/corrupt.img", tmpdir);
		write_path(path, img, len);
		free(img);
		host_init(&h, FL_4TH);
		CHECK(mb_host_disk(&h, path));
		mb_host_run(&h, 5, 1);
		CHECK(h.exec_called || (h.returned && h.exit_calls == 1 && h.exit_code == 1));
		CHECK_EQ(h.faults, 0);
		mb_host_fini(&h);
	}
}

/* A real FreeBSD 10.2 /boot: its loader.conf files parse cleanly, its loader has no marker. */
static void sc_freebsd_root(void)
{
	struct mb_host h;
	char fbsd[PATH_MAX];

	host_init(&h, FL_LUA);
	snprintf(fbsd, sizeof(fbsd), "%s", getenv("KVMLOAD_FREEBSD_ROOT"));
	h.root = fbsd;
	mb_host_run(&h, 5, 0);
	CHECK_EQ(h.swap_calls, 1);
	CHECK_STR(h.swap_name, "4th");
	CHECK_LINE(&h, "Loading /boot/defaults/loader.conf\nLoading /boot/device.hints\n"
		       "Loading /boot/loader.conf\n");
	CHECK(!mb_host_console_has(&h, "cannot parse"));
	CHECK_LINE(&h, "miniboot: can't load kernel /boot/kernel/kernel: no such file or directory\n");
	CHECK_EQ(h.exit_calls, 1);
}

/* Run fn in a child; its CHECK counts come back through a pipe.  A scenario that checks nothing fails. */
static void run(const char *name, void (*fn)(void))
{
	int p[2], status;
	int counts[3] = { 0, 0, 0 }; /* passed, failed, skipped */
	pid_t pid;

	fflush(NULL);
	if (pipe(p) != 0) {
		perror("pipe");
		exit(99);
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		check_passed = check_failed = check_skipped = 0;
		fn();
		counts[0] = check_passed;
		counts[1] = check_failed;
		counts[2] = check_skipped;
		if (write(p[1], counts, sizeof(counts)) != sizeof(counts))
			_exit(97);
		fflush(NULL);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], counts, sizeof(counts)) != sizeof(counts))
		counts[1] = 1;
	close(p[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: child died (status 0x%x)\n", name, status);
		counts[1]++;
	}
	if (counts[0] + counts[1] + counts[2] == 0) {
		fprintf(stderr, "%s: FAIL: no check ran\n", name);
		counts[1]++;
	}
	check_passed += counts[0];
	check_failed += counts[1];
	check_skipped += counts[2];
	printf("%-28s %d passed, %d failed%s\n", name, counts[0], counts[1],
	       counts[2] ? ", some skipped" : "");
}

/* ---- the built objects themselves ---- */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* No undefined dynamic symbol: the plugin needs nothing from its host. */
static int undefined_symbols(const uint8_t *buf, size_t len)
{
	const Elf64_Ehdr *eh = (const void *)buf;
	const Elf64_Shdr *sh = (const void *)(buf + eh->e_shoff);
	int und = 0;

	if (len < sizeof(*eh) || eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(*sh) > len)
		return -1;
	for (int i = 0; i < eh->e_shnum; i++) {
		const Elf64_Sym *sym = (const void *)(buf + sh[i].sh_offset);

		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		for (uint64_t j = 1; j < sh[i].sh_size / sizeof(*sym); j++)
			und += sym[j].st_shndx == SHN_UNDEF;
	}
	return und;
}

/* `call *disp32(%reg)` with the exit slot's offset, in the first bytes of exported exit. */
static bool exit_calls_slot(const uint8_t *code, uint32_t disp)
{
	for (int i = 0; i < 48; i++)
		if (code[i] == 0xff && (code[i + 1] & 0xf8) == 0x90 && (code[i + 1] & 7) != 4 &&
		    memcmp(code + i + 2, &disp, 4) == 0)
			return true;
	return false;
}

static void check_object(const struct mb_flavour *fl)
{
	size_t len;
	uint8_t *buf = slurp(fl->path, &len);
	void *so;

	CHECK(buf != NULL);
	if (!buf)
		return;
	CHECK_EQ(undefined_symbols(buf, len), 0);
	CHECK_EQ(buf[EI_OSABI], ELFOSABI_NONE);
	CHECK_EQ(memmem(buf, len, "$Interpreter:", 13) != NULL, fl->v5);
	free(buf);
	so = dlopen(fl->path, RTLD_NOW | RTLD_LOCAL);
	CHECK(so != NULL);
	if (!so)
		return;
	void *const *ops = dlsym(so, "host_fsops");
	const char *interp = dlsym(so, "bootprog_interp");
	const uint8_t *ex = dlsym(so, "exit");

	CHECK(ops != NULL && ex != NULL);
	if (ops)
		CHECK(ops[6] == dlsym(so, "host_stat"));
	if (ex)
		CHECK(exit_calls_slot(ex, fl->diskwrite ? 0xa0 : 0x98));
	if (fl->v5) {
		char want[32];

		snprintf(want, sizeof(want), "$Interpreter:%s", fl->interp);
		CHECK_STR(interp, want);
	} else {
		CHECK(interp == NULL);
	}
}

static void sc_objects(void)
{
	for (int i = 0; i < FL_COUNT; i++)
		check_object(&flavours[i]);
}

int main(int argc, char **argv)
{
	char ufs2[PATH_MAX + 32], ufs1[PATH_MAX + 32], img[PATH_MAX + 32];
	static const char lua_loader[] = "\177ELF...junk...$Interpreter:lua\0more";
	static const char forth_loader[] = "\177ELF...$Interpreter:4th\0$Interpreter";
	static const char plain_loader[] = "\177ELF...no marker here";

	if (argc != 1 + FL_COUNT) {
		fprintf(stderr, "usage: %s userboot_4th.so userboot_lua.so miniboot_gen10.so "
				"miniboot_gen12.so miniboot_gen122.so\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < FL_COUNT; i++)
		flavours[i].path = argv[1 + i];
	snprintf(tmpdir, sizeof(tmpdir), "%s/mbtest.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	snprintf(root, sizeof(root), "%s/root", tmpdir);
	if (mkdir(root, 0755) != 0) {
		perror(root);
		return 99;
	}
	make_tree();

	run("objects", sc_objects);
	run("host0 exact console", sc_host0_exact);
	run("gen10 v3", sc_gen10);
	run("gen12 v5", sc_gen12);
	run("gen122 v3 highmem", sc_gen122);
	run("lua v3", sc_lua_banner);
	run("gen10 refuses v5", sc_gen10_v5);
	run("gen10 refuses v4", sc_gen10_v4);
	run("4th refuses v2", sc_4th_v2);
	run("gen12 refuses v2", sc_gen12_v2);
	run("prompt", sc_prompt);
	run("prompt quit", sc_prompt_quit);

	write_file("boot/loader", lua_loader, sizeof(lua_loader));
	run("4th swaps to lua", sc_swap_lua);
	run("4th at v4: no check", sc_swap_lua_v4);
	run("gen10: no check", sc_swap_lua_gen10);
	run("gen12 swaps to lua", sc_swap_lua_gen12);
	run("gen122 swaps to lua", sc_swap_lua_gen122);
	run("lua keeps lua", sc_lua_marker_lua);
	write_file("boot/loader", forth_loader, sizeof(forth_loader));
	run("4th keeps 4th", sc_no_swap_4th);
	write_file("boot/loader", plain_loader, sizeof(plain_loader));
	run("no marker: lua swaps to 4th", sc_lua_no_marker);
	remove_rel("boot/loader");

	if (have_tool("makefs") && have_tool("sgdisk")) {
		snprintf(ufs2, sizeof(ufs2), "%s/ufs2.img", tmpdir);
		snprintf(ufs1, sizeof(ufs1), "%s/ufs1.img", tmpdir);
		snprintf(img, sizeof(img), "%s/disk.img", tmpdir);
		CHECK(make_ufs(ufs2, 2));
		CHECK(make_ufs(ufs1, 1));
		disk_img = ufs2;
		disk_currdev = "disk0:";
		disk_table = "disk0: 16777216 bytes, 512-byte sectors, no partition table";
		run("bare UFS2", sc_disk);
		disk_img = ufs1;
		run("bare UFS1", sc_disk);
		CHECK(make_gpt(img, ufs2));
		disk_img = img;
		disk_currdev = "disk0p2:";
		disk_table = "disk0: 20971520 bytes, 512-byte sectors, GPT";
		run("GPT + UFS2", sc_disk);
		CHECK(make_mbr(img, ufs1, false));
		disk_currdev = "disk0s1a:";
		disk_table = "disk0: 16850432 bytes, 512-byte sectors, MBR";
		run("MBR + label (rel) + UFS1", sc_disk);
		CHECK(make_mbr(img, ufs2, true));
		run("MBR + label (abs) + UFS2", sc_disk);
		write_file("boot/loader", lua_loader, sizeof(lua_loader));
		CHECK(make_ufs(ufs2, 2));
		disk_img = ufs2;
		run("disk: 4th swaps to lua", sc_disk_swap);
		run("corrupted UFS2 images", sc_corrupt);
		snprintf(img, sizeof(img), "%s/zero.img", tmpdir);
		CHECK(truncate_file(img, 1 << 20));
		disk_img = img;
		run("disk of zeros", sc_disk_garbage);
	} else {
		check_skip("disk scenarios: makefs or sgdisk is not installed");
	}

	if (getenv("KVMLOAD_FREEBSD_ROOT"))
		run("real FreeBSD 10.2 /boot", sc_freebsd_root);
	else
		check_skip("real FreeBSD 10.2 /boot: KVMLOAD_FREEBSD_ROOT is not set");

	write_text("boot/kernel/kernel", "#!/bin/sh\n# a script where the kernel should be, longer than "
				       "an ELF header\nexit 1\n");
	run("bad kernel", sc_bad_kernel);
	remove_rel("boot/kernel/kernel");
	run("no kernel", sc_no_kernel);

	if (check_failed == 0) {
		char cmd[PATH_MAX + 32];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	} else {
		fprintf(stderr, "fixtures kept in %s\n", tmpdir);
	}
	return check_done();
}
