/* mb_host_fake.c: the fake userboot host for test_miniboot: callbacks over a host0 tree, one disk image and malloc'd guest memory, recording what the plugin did. */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "freebsd_abi.h"
#include "mb_host_fake.h"
#include "userboot.h"

struct hfile {
	int fd;
	DIR *dir;
};

static void rec(struct mb_host *h, const char *what)
{
	strncat(h->calls, what, sizeof(h->calls) - strlen(h->calls) - 1);
}

static void cb_putc(void *arg, int ch)
{
	struct mb_host *h = arg;

	if (ch != '\r' && h->conslen < sizeof(h->cons) - 1)
		h->cons[h->conslen++] = (char)ch;
}

static int cb_getc(void *arg)
{
	struct mb_host *h = arg;

	if (!h->input || !*h->input)
		return -1;
	return (unsigned char)*h->input++;
}

static int cb_poll(void *arg)
{
	struct mb_host *h = arg;

	return h->input && *h->input;
}

static int cb_open(void *arg, const char *name, void **hp)
{
	struct mb_host *h = arg;
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

/* Both stat forms: count the call, stat the open file or directory. */
static int hfile_stat(struct mb_host *h, struct hfile *f, struct stat *st)
{
	h->stat_calls++;
	return f->dir ? fstat(dirfd(f->dir), st) : fstat(f->fd, st);
}

static int cb_stat_old(void *arg, void *hp, int *mode, int *uid, int *gid, uint64_t *size)
{
	struct stat st;

	if (hfile_stat(arg, hp, &st))
		return FBSD_EIO;
	*mode = (int)st.st_mode;
	*uid = (int)st.st_uid;
	*gid = (int)st.st_gid;
	*size = (uint64_t)st.st_size;
	return 0;
}

static int cb_stat_new(void *arg, void *hp, struct fbsd_stat *sb)
{
	struct stat st;

	if (hfile_stat(arg, hp, &st))
		return FBSD_EIO;
	memset(sb, 0, sizeof(*sb));
	sb->st_mode = (uint16_t)st.st_mode;
	sb->st_size = st.st_size;
	return 0;
}

static int cb_diskread(void *arg, int unit, uint64_t off, void *dst, size_t size, size_t *resid)
{
	struct mb_host *h = arg;
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
	struct mb_host *h = arg;

	(void)unit, (void)off, (void)src, (void)size, (void)resid;
	h->diskwrite_calls++;
	return FBSD_EROFS;
}

static int cb_diskioctl(void *arg, int unit, unsigned long cmd, void *data)
{
	struct mb_host *h = arg;

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
	struct mb_host *h = arg;

	if (to > MB_MEM_SIZE || size > MB_MEM_SIZE - to) {
		h->faults++;
		return FBSD_EFAULT;
	}
	memcpy(h->mem + to, from, size);
	return 0;
}

static int cb_copyout(void *arg, uint64_t from, void *to, size_t size)
{
	struct mb_host *h = arg;

	if (from > MB_MEM_SIZE || size > MB_MEM_SIZE - from) {
		h->faults++;
		return FBSD_EFAULT;
	}
	memcpy(to, h->mem + from, size);
	return 0;
}

static void cb_setreg(void *arg, int reg, uint64_t val)
{
	struct mb_host *h = arg;

	rec(h, reg == UB_REG_RSP ? "setreg(rsp) " : "setreg(?) ");
	h->rsp = val;
}

static void cb_setmsr(void *arg, int msr, uint64_t val)
{
	struct mb_host *h = arg;

	rec(h, (unsigned)msr == X86_MSR_EFER ? "setmsr(efer) " : "setmsr(?) ");
	h->efer = val;
}

static void cb_setcr(void *arg, int cr, uint64_t val)
{
	struct mb_host *h = arg;
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
	struct mb_host *h = arg;

	rec(h, "setgdt ");
	h->gdt_base = base;
	h->gdt_size = size;
}

static void cb_exec(void *arg, uint64_t pc)
{
	struct mb_host *h = arg;

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
	struct mb_host *h = arg;

	h->exit_calls++;
	h->exit_code = v;
}

static void cb_getmem(void *arg, uint64_t *lowmem, uint64_t *highmem)
{
	struct mb_host *h = arg;

	*lowmem = MB_MEM_SIZE;
	*highmem = h->highmem;
}

static char *cb_getenv(void *arg, int num)
{
	struct mb_host *h = arg;

	if (num < 0 || num >= 8)
		return NULL;
	return (char *)(uintptr_t)h->env[num];
}

static int cb_vm_set_register(void *arg, int vcpu, int reg, uint64_t val)
{
	(void)vcpu, (void)reg, (void)val;
	((struct mb_host *)arg)->vm_calls++;
	return 0;
}

static int cb_vm_set_desc(void *arg, int vcpu, int reg, uint64_t base, unsigned limit, unsigned acc)
{
	(void)vcpu, (void)reg, (void)base, (void)limit, (void)acc;
	((struct mb_host *)arg)->vm_calls++;
	return 0;
}

static void cb_swap_interpreter(void *arg, const char *interp)
{
	struct mb_host *h = arg;

	h->swap_calls++;
	snprintf(h->swap_name, sizeof(h->swap_name), "%s", interp);
}

/* The table in the layout of fl's generation. */
static void table_build(void *t[UB_NSLOTS], const struct mb_flavour *fl)
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

void mb_host_init(struct mb_host *h, const struct mb_flavour *fl, const char *root)
{
	memset(h, 0, sizeof(*h));
	h->fl = fl;
	h->root = root;
	h->disk_fd = -1;
	h->env[0] = "boot_serial=1";
	h->env[1] = "smbios.bios.vendor=BHYVE";
	h->env[2] = "hw.test=host";
	h->mem = malloc(MB_MEM_SIZE);
	if (!h->mem) {
		perror("guest memory");
		exit(99);
	}
	memset(h->mem, 0xaa, MB_MEM_SIZE);
}

bool mb_host_disk(struct mb_host *h, const char *img)
{
	struct stat st;

	h->root = NULL;
	h->disk_fd = open(img, O_RDONLY);
	if (h->disk_fd < 0 || fstat(h->disk_fd, &st) != 0)
		return false;
	h->disk_size = (uint64_t)st.st_size;
	return true;
}

void mb_host_run(struct mb_host *h, int version, int ndisks)
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

void mb_host_fini(struct mb_host *h)
{
	if (h->disk_fd >= 0)
		close(h->disk_fd);
	h->disk_fd = -1;
	free(h->mem);
	h->mem = NULL;
}

bool mb_host_console_has(const struct mb_host *h, const char *text)
{
	return strstr(h->cons, text) != NULL;
}

uint32_t mb_host_mem32(const struct mb_host *h, uint64_t a)
{
	uint32_t v;

	memcpy(&v, h->mem + a, 4);
	return v;
}

uint64_t mb_host_mem64(const struct mb_host *h, uint64_t a)
{
	uint64_t v;

	memcpy(&v, h->mem + a, 8);
	return v;
}
