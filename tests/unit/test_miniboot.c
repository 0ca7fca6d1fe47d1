/* test_miniboot.c: runs every miniboot flavour through dlopen against fake callbacks, guest memory and disks. */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
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
#include "userboot.h"

#define MEM_SIZE (64u << 20)
#define KERN_VA 0xffffffff80200000ull
#define KERN_ENTRY (KERN_VA + 0x78)
#define RB_SINGLE 0x2u
#define RB_SERIAL 0x1000u
#define RB_VERBOSE 0x800u

enum flavour_id { FL_4TH, FL_LUA, FL_GEN10, FL_GEN12, FL_GEN122, FL_COUNT };

struct flavour {
	const char *name;
	bool diskwrite, stat_struct, v5;
	const char *interp;
	const char *path;
};

static struct flavour flavours[FL_COUNT] = {
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

/* What one run of loader_main saw and did. */
struct host {
	const struct flavour *fl;
	const char *root;      /* host0 tree, NULL for none */
	int disk_fd;
	uint64_t disk_size;
	const char *env[8];
	const char *input;     /* console input, consumed by getc */
	uint8_t *mem;
	uint64_t highmem;
	char cons[16384];
	size_t conslen;
	char calls[256];       /* register/exec callback order */
	int exit_calls, exit_code;
	int swap_calls;
	char swap_name[32];
	int stat_calls, diskwrite_calls, vm_calls, faults, diskreads;
	uint64_t rsp, efer, cr0, cr3, cr4, gdt_base, gdt_size, pc;
	bool exec_called, returned;
	sigjmp_buf jb;
};

struct hfile {
	int fd;
	DIR *dir;
};

static void rec(struct host *h, const char *what)
{
	strncat(h->calls, what, sizeof(h->calls) - strlen(h->calls) - 1);
}

static void cb_putc(void *arg, int ch)
{
	struct host *h = arg;

	if (ch != '\r' && h->conslen < sizeof(h->cons) - 1)
		h->cons[h->conslen++] = (char)ch;
}

static int cb_getc(void *arg)
{
	struct host *h = arg;

	if (!h->input || !*h->input)
		return -1;
	return (unsigned char)*h->input++;
}

static int cb_poll(void *arg)
{
	struct host *h = arg;

	return h->input && *h->input;
}

static int cb_open(void *arg, const char *name, void **hp)
{
	struct host *h = arg;
	char path[PATH_MAX * 2];
	struct stat st;
	struct hfile *f;

	if (!h->root)
		return FBSD_ENOENT;
	snprintf(path, sizeof(path), "%s%s", h->root, name);
	if (stat(path, &st) != 0)
		return FBSD_ENOENT;
	f = calloc(1, sizeof(*f));
	f->fd = -1;
	if (S_ISDIR(st.st_mode))
		f->dir = opendir(path);
	else
		f->fd = open(path, O_RDONLY);
	if (f->fd < 0 && !f->dir) {
		free(f);
		return FBSD_EIO;
	}
	*hp = f;
	return 0;
}

static int cb_close(void *arg, void *hp)
{
	struct hfile *f = hp;

	(void)arg;
	if (f->dir)
		closedir(f->dir);
	else
		close(f->fd);
	free(f);
	return 0;
}

static int cb_isdir(void *arg, void *hp)
{
	(void)arg;
	return ((struct hfile *)hp)->dir != NULL;
}

static int cb_read(void *arg, void *hp, void *dst, size_t size, size_t *resid)
{
	struct hfile *f = hp;
	ssize_t n;

	(void)arg;
	if (f->fd < 0)
		return FBSD_EINVAL;
	n = read(f->fd, dst, size);
	if (n < 0)
		return FBSD_EIO;
	*resid = size - (size_t)n;
	return 0;
}

static int cb_readdir(void *arg, void *hp, uint32_t *fileno, uint8_t *type, size_t *namelen,
		      char *name)
{
	struct hfile *f = hp;
	struct dirent *d;

	(void)arg;
	if (!f->dir || !(d = readdir(f->dir)))
		return FBSD_ENOENT;
	*fileno = (uint32_t)d->d_ino;
	*type = d->d_type;
	*namelen = strlen(d->d_name);
	memcpy(name, d->d_name, *namelen + 1);
	return 0;
}

static int cb_seek(void *arg, void *hp, uint64_t off, int whence)
{
	struct hfile *f = hp;

	(void)arg;
	if (f->fd < 0 || lseek(f->fd, (off_t)off, whence) < 0)
		return FBSD_EINVAL;
	return 0;
}

static int cb_stat_old(void *arg, void *hp, int *mode, int *uid, int *gid, uint64_t *size)
{
	struct host *h = arg;
	struct hfile *f = hp;
	struct stat st;

	h->stat_calls++;
	if (f->dir ? fstat(dirfd(f->dir), &st) : fstat(f->fd, &st))
		return FBSD_EIO;
	*mode = (int)st.st_mode;
	*uid = (int)st.st_uid;
	*gid = (int)st.st_gid;
	*size = (uint64_t)st.st_size;
	return 0;
}

static int cb_stat_new(void *arg, void *hp, struct fbsd_stat *sb)
{
	struct host *h = arg;
	struct hfile *f = hp;
	struct stat st;

	h->stat_calls++;
	if (f->dir ? fstat(dirfd(f->dir), &st) : fstat(f->fd, &st))
		return FBSD_EIO;
	memset(sb, 0, sizeof(*sb));
	sb->st_mode = (uint16_t)st.st_mode;
	sb->st_size = st.st_size;
	return 0;
}

static int cb_diskread(void *arg, int unit, uint64_t off, void *dst, size_t size, size_t *resid)
{
	struct host *h = arg;
	ssize_t n;

	h->diskreads++;
	if (unit != 0 || h->disk_fd < 0)
		return FBSD_EIO;
	n = pread(h->disk_fd, dst, size, (off_t)off);
	if (n < 0)
		return FBSD_EIO;
	*resid = size - (size_t)n;
	return 0;
}

static int cb_diskwrite(void *arg, int unit, uint64_t off, void *src, size_t size, size_t *resid)
{
	struct host *h = arg;

	(void)unit, (void)off, (void)src, (void)size, (void)resid;
	h->diskwrite_calls++;
	return FBSD_EROFS;
}

static int cb_diskioctl(void *arg, int unit, unsigned long cmd, void *data)
{
	struct host *h = arg;

	if (unit != 0 || h->disk_fd < 0)
		return FBSD_EBADF;
	if (cmd == FBSD_DIOCGSECTORSIZE) {
		*(unsigned *)data = 512;
		return 0;
	}
	if (cmd == FBSD_DIOCGMEDIASIZE) {
		*(int64_t *)data = (int64_t)h->disk_size;
		return 0;
	}
	return FBSD_ENOTTY;
}

static int cb_copyin(void *arg, const void *from, uint64_t to, size_t size)
{
	struct host *h = arg;

	if (to > MEM_SIZE || size > MEM_SIZE - to) {
		h->faults++;
		return FBSD_EFAULT;
	}
	memcpy(h->mem + to, from, size);
	return 0;
}

static int cb_copyout(void *arg, uint64_t from, void *to, size_t size)
{
	struct host *h = arg;

	if (from > MEM_SIZE || size > MEM_SIZE - from) {
		h->faults++;
		return FBSD_EFAULT;
	}
	memcpy(to, h->mem + from, size);
	return 0;
}

static void cb_setreg(void *arg, int reg, uint64_t val)
{
	struct host *h = arg;

	rec(h, reg == UB_REG_RSP ? "setreg(rsp) " : "setreg(?) ");
	h->rsp = val;
}

static void cb_setmsr(void *arg, int msr, uint64_t val)
{
	struct host *h = arg;

	rec(h, (unsigned)msr == X86_MSR_EFER ? "setmsr(efer) " : "setmsr(?) ");
	h->efer = val;
}

static void cb_setcr(void *arg, int cr, uint64_t val)
{
	struct host *h = arg;
	char b[16];

	snprintf(b, sizeof(b), "setcr(%d) ", cr);
	rec(h, b);
	if (cr == 0)
		h->cr0 = val;
	else if (cr == 3)
		h->cr3 = val;
	else if (cr == 4)
		h->cr4 = val;
}

static void cb_setgdt(void *arg, uint64_t base, size_t size)
{
	struct host *h = arg;

	rec(h, "setgdt ");
	h->gdt_base = base;
	h->gdt_size = size;
}

static void cb_exec(void *arg, uint64_t pc)
{
	struct host *h = arg;

	rec(h, "exec");
	h->pc = pc;
	h->exec_called = true;
	siglongjmp(h->jb, 1);
}

static void cb_delay(void *arg, int usec)
{
	(void)arg, (void)usec;
}

static void cb_exit(void *arg, int v)
{
	struct host *h = arg;

	h->exit_calls++;
	h->exit_code = v;
}

static void cb_getmem(void *arg, uint64_t *lowmem, uint64_t *highmem)
{
	struct host *h = arg;

	*lowmem = MEM_SIZE;
	*highmem = h->highmem;
}

static char *cb_getenv(void *arg, int num)
{
	struct host *h = arg;

	if (num < 0 || num >= 8)
		return NULL;
	return (char *)(uintptr_t)h->env[num];
}

static int cb_vm_set_register(void *arg, int vcpu, int reg, uint64_t val)
{
	(void)vcpu, (void)reg, (void)val;
	((struct host *)arg)->vm_calls++;
	return 0;
}

static int cb_vm_set_desc(void *arg, int vcpu, int reg, uint64_t base, unsigned limit, unsigned acc)
{
	(void)vcpu, (void)reg, (void)base, (void)limit, (void)acc;
	((struct host *)arg)->vm_calls++;
	return 0;
}

static void cb_swap_interpreter(void *arg, const char *interp)
{
	struct host *h = arg;

	h->swap_calls++;
	snprintf(h->swap_name, sizeof(h->swap_name), "%s", interp);
}

/* The table in the layout of fl's generation. */
static void table_build(void *t[UB_NSLOTS], const struct flavour *fl)
{
	void *slots[UB_NSLOTS] = {
		[UB_GETC] = (void *)cb_getc, [UB_PUTC] = (void *)cb_putc, [UB_POLL] = (void *)cb_poll,
		[UB_OPEN] = (void *)cb_open, [UB_CLOSE] = (void *)cb_close,
		[UB_ISDIR] = (void *)cb_isdir, [UB_READ] = (void *)cb_read,
		[UB_READDIR] = (void *)cb_readdir, [UB_SEEK] = (void *)cb_seek,
		[UB_STAT] = fl->stat_struct ? (void *)cb_stat_new : (void *)cb_stat_old,
		[UB_DISKREAD] = (void *)cb_diskread, [UB_DISKWRITE] = (void *)cb_diskwrite,
		[UB_COPYIN] = (void *)cb_copyin, [UB_COPYOUT] = (void *)cb_copyout,
		[UB_SETREG] = (void *)cb_setreg, [UB_SETMSR] = (void *)cb_setmsr,
		[UB_SETCR] = (void *)cb_setcr, [UB_SETGDT] = (void *)cb_setgdt,
		[UB_EXEC] = (void *)cb_exec, [UB_DELAY] = (void *)cb_delay, [UB_EXIT] = (void *)cb_exit,
		[UB_GETMEM] = (void *)cb_getmem, [UB_DISKIOCTL] = (void *)cb_diskioctl,
		[UB_GETENV] = (void *)cb_getenv, [UB_VM_SET_REGISTER] = (void *)cb_vm_set_register,
		[UB_VM_SET_DESC] = (void *)cb_vm_set_desc,
		[UB_SWAP_INTERPRETER] = (void *)cb_swap_interpreter,
	};
	int n = 0;

	for (int i = 0; i < UB_NSLOTS; i++)
		if (i != UB_DISKWRITE || fl->diskwrite)
			t[n++] = slots[i];
	while (n < UB_NSLOTS)
		t[n++] = NULL;
}

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

/* ---- running a scenario in its own process (dlopen gives one copy per process) ---- */

static void host_init(struct host *h, enum flavour_id fl)
{
	memset(h, 0, sizeof(*h));
	h->fl = &flavours[fl];
	h->root = root;
	h->disk_fd = -1;
	h->env[0] = "boot_serial=1";
	h->env[1] = "smbios.bios.vendor=BHYVE";
	h->env[2] = "hw.test=host";
	h->mem = malloc(MEM_SIZE);
	memset(h->mem, 0xaa, MEM_SIZE);
}

static bool host_disk(struct host *h, const char *img)
{
	struct stat st;

	h->root = NULL;
	h->disk_fd = open(img, O_RDONLY);
	if (h->disk_fd < 0 || fstat(h->disk_fd, &st) != 0)
		return false;
	h->disk_size = (uint64_t)st.st_size;
	return true;
}

static void host_run(struct host *h, int version, int ndisks)
{
	void *table[UB_NSLOTS];
	loader_main_fn *lm;
	void *so;

	table_build(table, h->fl);
	so = dlopen(h->fl->path, RTLD_NOW | RTLD_LOCAL);
	if (!so) {
		fprintf(stderr, "dlopen %s: %s\n", h->fl->path, dlerror());
		exit(98);
	}
	lm = (loader_main_fn *)dlsym(so, "loader_main");
	if (!lm) {
		fprintf(stderr, "%s: no loader_main\n", h->fl->path);
		exit(98);
	}
	if (sigsetjmp(h->jb, 0) == 0) {
		lm((struct loader_callbacks *)table, h, version, ndisks);
		h->returned = true;
	}
	h->cons[h->conslen] = '\0';
}

static bool has_line(const struct host *h, const char *line)
{
	return strstr(h->cons, line) != NULL;
}

#define CHECK_LINE(h, line)                                                                  \
	do {                                                                                 \
		CHECK(has_line(h, line));                                                    \
		if (!has_line(h, line))                                                      \
			fprintf(stderr, "  missing console text: [%s]\n  console was:\n%s\n",   \
				line, (h)->cons);                                            \
	} while (0)

static uint32_t mem32(const struct host *h, uint64_t a)
{
	uint32_t v;

	memcpy(&v, h->mem + a, 4);
	return v;
}

static uint64_t mem64(const struct host *h, uint64_t a)
{
	uint64_t v;

	memcpy(&v, h->mem + a, 8);
	return v;
}

struct md_rec {
	uint32_t type, size;
	uint64_t at;
};

/* The preload metadata at modulep: records up to MODINFO_END. */
static int md_parse(const struct host *h, uint64_t modulep, struct md_rec *r, int max)
{
	uint64_t at = modulep;
	int n = 0;

	while (n < max && at + 8 <= MEM_SIZE) {
		r[n].type = mem32(h, at);
		r[n].size = mem32(h, at + 4);
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
static int md_file(const struct host *h, const struct md_rec *r, int n, const char *path)
{
	for (int i = 0; i < n; i++)
		if (r[i].type == MODINFO_NAME &&
		    strcmp((const char *)h->mem + r[i].at, path) == 0)
			return i;
	return -1;
}

static bool env_has(const struct host *h, uint64_t envp, const char *entry)
{
	for (uint64_t at = envp; at < MEM_SIZE && h->mem[at];) {
		const char *s = (const char *)h->mem + at;

		if (strcmp(s, entry) == 0)
			return true;
		at += strlen(s) + 1;
	}
	return false;
}

/* A loaded file's metadata says addr/size and the guest holds its bytes there. */
static void check_loaded(const struct host *h, const struct md_rec *r, int n, const char *path,
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
	CHECK_EQ(mem64(h, a->at), addr);
	CHECK_EQ(mem64(h, s->at), size);
	if (data)
		CHECK(memcmp(h->mem + addr, data, size) == 0);
}

/* Everything a successful boot of the fixture tree must leave behind. */
static void check_boot(const struct host *h, const char *currdev)
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
	CHECK_EQ(mem64(h, 0x5008), 0x0020980000000000ull);
	CHECK_EQ(mem64(h, 0x5010), 0x0000900000000000ull);
	CHECK_EQ(mem64(h, 0x2000), 0x3003);
	CHECK_EQ(mem64(h, 0x2000 + 511 * 8), 0x3003);
	CHECK_EQ(mem64(h, 0x3000 + 510 * 8), 0x4003);
	CHECK_EQ(mem64(h, 0x4000 + 8), 0x200083);

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

	CHECK_EQ(mem32(h, 0x1000), 0);
	modulep = mem32(h, 0x1004);
	kernend = mem32(h, 0x1008);
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
		CHECK_EQ(mem32(h, m->at), RB_SINGLE | RB_SERIAL);
	}
	m = md_find(r, n, 0, MODINFO_METADATA | MODINFOMD_KERNEND);
	CHECK(m != NULL);
	if (m)
		CHECK_EQ(mem64(h, m->at), kernend);
	m = md_find(r, n, 0, MODINFO_METADATA | MODINFOMD_SMAP);
	CHECK(m != NULL);
	if (m) {
		struct fbsd_bios_smap s[3];
		unsigned want = h->highmem ? 3 : 2;

		CHECK_EQ(m->size, want * sizeof(s[0]));
		memcpy(s, h->mem + m->at, want * sizeof(s[0]));
		CHECK_EQ(s[0].base, 0);
		CHECK_EQ(s[0].length, 640 << 10);
		CHECK_EQ(s[0].type, 1);
		CHECK_EQ(s[1].base, 1 << 20);
		CHECK_EQ(s[1].length, MEM_SIZE - (1 << 20));
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
	envp = mem64(h, m->at);
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
	struct host h;
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
	host_run(&h, 5, 0);
	CHECK_STR(h.cons, want);
	check_boot(&h, "host0:");
	CHECK_EQ(h.swap_calls, 0); /* no /boot/loader: nothing to compare */
	CHECK(h.stat_calls > 0);
}

static void sc_swap(enum flavour_id fl, int version, const char *want_swap)
{
	struct host h;

	host_init(&h, fl);
	host_run(&h, version, 0);
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
	struct host h;

	host_init(&h, fl);
	h.highmem = 1ull << 30;
	host_run(&h, version, 0);
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
	struct host h;
	char want[128];

	host_init(&h, fl);
	host_run(&h, version, 0);
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
	struct host h;

	host_init(&h, FL_4TH);
	host_run(&h, 5, 0);
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
	struct host h;

	host_init(&h, FL_4TH);
	h.env[3] = "autoboot_delay=NO";
	h.input = "show hw.test\nls /boot/modules\nfrobnicate\nboot\n";
	host_run(&h, 5, 0);
	CHECK_LINE(&h, "Type 'boot' to boot, 'show [name]', 'ls [dir]' or 'quit'.\n"
		       "OK show hw.test\nconf\nOK ls /boot/modules\n/boot/modules\n");
	CHECK_LINE(&h, "    bar.ko\n");
	CHECK_LINE(&h, "OK frobnicate\nminiboot: unknown command 'frobnicate'\nOK boot\n");
	check_boot(&h, "host0:");
}

static void sc_prompt_quit(void)
{
	struct host h;

	host_init(&h, FL_4TH);
	h.env[3] = "autoboot_delay=NO";
	h.input = "quit\n";
	host_run(&h, 5, 0);
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
	struct host h;
	char want[128];

	host_init(&h, FL_4TH);
	CHECK(host_disk(&h, disk_img));
	host_run(&h, 5, 1);
	snprintf(want, sizeof(want), "%s\ncurrdev=%s\n", disk_table, disk_currdev);
	CHECK_LINE(&h, want);
	check_boot(&h, disk_currdev);
	CHECK(h.diskreads > 0);
	CHECK_EQ(h.stat_calls, 0);
}

static void sc_disk_swap(void)
{
	struct host h;

	host_init(&h, FL_4TH);
	CHECK(host_disk(&h, disk_img));
	host_run(&h, 5, 1);
	CHECK_EQ(h.swap_calls, 1);
	CHECK_STR(h.swap_name, "lua");
	CHECK(h.exec_called);
}

static void sc_disk_garbage(void)
{
	struct host h;

	host_init(&h, FL_4TH);
	CHECK(host_disk(&h, disk_img));
	host_run(&h, 5, 1);
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
		struct host h;
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
		CHECK(host_disk(&h, path));
		host_run(&h, 5, 1);
		CHECK(h.exec_called || (h.returned && h.exit_calls == 1 && h.exit_code == 1));
		CHECK_EQ(h.faults, 0);
		close(h.disk_fd);
		free(h.mem);
	}
}

/* A real FreeBSD 10.2 /boot: its loader.conf files parse cleanly, its loader has no marker. */
static void sc_freebsd_root(void)
{
	struct host h;
	char fbsd[PATH_MAX];

	host_init(&h, FL_LUA);
	snprintf(fbsd, sizeof(fbsd), "%s", getenv("KVMLOAD_FREEBSD_ROOT"));
	h.root = fbsd;
	host_run(&h, 5, 0);
	CHECK_EQ(h.swap_calls, 1);
	CHECK_STR(h.swap_name, "4th");
	CHECK_LINE(&h, "Loading /boot/defaults/loader.conf\nLoading /boot/device.hints\n"
		       "Loading /boot/loader.conf\n");
	CHECK(!has_line(&h, "cannot parse"));
	CHECK_LINE(&h, "miniboot: can't load kernel /boot/kernel/kernel: no such file or directory\n");
	CHECK_EQ(h.exit_calls, 1);
}

/* Run fn in a child; its CHECK counts come back through a pipe. */
static void run(const char *name, void (*fn)(void))
{
	int p[2], status;
	int counts[2] = { 0, 0 };
	pid_t pid;

	fflush(NULL);
	if (pipe(p) != 0) {
		perror("pipe");
		exit(99);
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		check_passed = check_failed = 0;
		fn();
		counts[0] = check_passed;
		counts[1] = check_failed;
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
	check_passed += counts[0];
	check_failed += counts[1];
	printf("%-28s %d passed, %d failed\n", name, counts[0], counts[1]);
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

static void check_object(const struct flavour *fl)
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
		printf("makefs or sgdisk missing: disk scenarios skipped\n");
	}

	if (getenv("KVMLOAD_FREEBSD_ROOT"))
		run("real FreeBSD 10.2 /boot", sc_freebsd_root);
	else
		printf("KVMLOAD_FREEBSD_ROOT unset: real /boot scenario skipped\n");

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
