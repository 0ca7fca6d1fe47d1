/* mb.h: miniboot's one context struct and the interfaces between its freestanding modules. */
#ifndef MINIBOOT_MB_H
#define MINIBOOT_MB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "freebsd_abi.h"
#include "userboot.h"

#define MB_PAGE 4096u
#define MB_PATH_MAX 1024
#define MB_NFILES 4
#define MB_ENV_SIZE 32768
#define MB_NMODS 256
#define MB_ARENA_SIZE (4u << 20)
#define MB_UFS_MAXBSIZE 65536u

/* Boot howto bits (FreeBSD sys/sys/reboot.h). */
#define MB_RB_ASKNAME  0x1u
#define MB_RB_SINGLE   0x2u
#define MB_RB_KDB      0x40u
#define MB_RB_VERBOSE  0x800u
#define MB_RB_SERIAL   0x1000u
#define MB_RB_CDROM    0x2000u
#define MB_RB_GDB      0x8000u
#define MB_RB_MUTE     0x10000u
#define MB_RB_MULTIPLE 0x20000000u

/* setjmp/longjmp of mb_setjmp.S: rbx, rbp, r12-r15, rsp, return address. */
typedef uint64_t mb_jmp_buf[8];
int mb_setjmp(mb_jmp_buf jb) __attribute__((returns_twice));
_Noreturn void mb_longjmp(mb_jmp_buf jb, int v);

struct mb;
struct mb_file;

struct mb_stat {
	uint32_t mode;
	uint64_t size;
};

struct mb_dirent {
	char name[256];
	uint8_t type; /* FBSD_DT_* */
};

/*
 * A file system backend, laid out like libsa's struct fs_ops (8-byte slots:
 * name, open, close, read, write, seek, stat, readdir) because the host's
 * generation detector reads host_fsops' stat slot at +0x30.
 */
struct mb_fsops {
	const char *name;
	int (*open)(struct mb_file *f, const char *path);
	int (*close)(struct mb_file *f);
	int (*read)(struct mb_file *f, void *buf, size_t size, size_t *resid);
	int (*write)(struct mb_file *f, const void *buf, size_t size, size_t *resid);
	int (*seek)(struct mb_file *f, uint64_t off, int whence);
	int (*stat)(struct mb_file *f, struct mb_stat *st);
	int (*readdir)(struct mb_file *f, struct mb_dirent *d);
};

/* One open file of either backend. */
struct mb_file {
	struct mb *mb;
	const struct mb_fsops *ops;
	bool used;
	void *host_h;        /* host0: the host's handle */
	uint64_t ino;        /* ufs: inode number and a copy of its dinode */
	uint8_t dino[256];
	uint16_t mode;
	uint64_t size;
	uint64_t pos;
};

/* A mounted, validated UFS1/UFS2 file system on a disk window. */
struct mb_ufs {
	int unit;
	uint64_t part_off, part_size; /* bytes on the disk */
	int version;                  /* 1 or 2 */
	uint32_t bsize, fsize, frag, bshift, fshift;
	uint32_t ipg, inopb, nindir, iblkno, ncg, fpg, inosize, ptrsize;
	int32_t old_cgoffset, old_cgmask;
	int32_t maxsymlinklen;
	uint64_t nfrags;              /* fs_size */
	/* One cached block per indirection level, keyed by fragment address. */
	uint64_t ind_addr[3];
	uint8_t ind_buf[3][MB_UFS_MAXBSIZE];
	uint8_t dir_buf[512];
};

struct mb_module {
	char prefix[64]; /* "foo" of foo_load */
	char name[192];  /* foo_name, "" = <prefix>.ko */
	bool load;
};

/* Where a loaded file (kernel or module) landed in guest-physical memory. */
struct mb_loaded {
	char path[MB_PATH_MAX];
	uint64_t addr, size;
};

struct mb {
	struct loader_callbacks *cb;
	void *arg;
	int ndisks;
	mb_jmp_buf exit_jb;

	char currdev[32];            /* "disk0p2:", "disk0s1a:", "disk0:", "host0:" */
	bool on_disk;                /* currdev is a UFS on disk 0 */
	struct mb_ufs ufs;
	struct mb_file files[MB_NFILES];

	char env[MB_ENV_SIZE];       /* "name=value\0"... in insertion order */
	size_t env_used;
	struct mb_module mods[MB_NMODS];
	int nmods;

	/* Simple bump allocator for whole-file reads and exec's page tables. */
	size_t arena_used;
	uint8_t arena[MB_ARENA_SIZE] __attribute__((aligned(16)));
};

/* mb_string.c */
size_t mb_strlen(const char *s);
int mb_strcmp(const char *a, const char *b);
int mb_strncmp(const char *a, const char *b, size_t n);
int mb_strcasecmp(const char *a, const char *b);
size_t mb_strlcpy(char *dst, const char *src, size_t size);
size_t mb_strlcat(char *dst, const char *src, size_t size);
char *mb_strchr(const char *s, int c);
const void *mb_memmem(const void *hay, size_t hlen, const void *needle, size_t nlen);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
bool mb_endswith(const char *s, const char *suffix);

/* mb_cons.c */
void mb_putc(struct mb *mb, int c);
void mb_printf(struct mb *mb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mb_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int mb_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print "miniboot: <msg>" and leave through the exit callback with status 1. */
_Noreturn void mb_fatal(struct mb *mb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* mb_env.c */
const char *mb_getenv(struct mb *mb, const char *name);
int mb_setenv(struct mb *mb, const char *name, const char *value);
int mb_putenv(struct mb *mb, const char *nameval);
void mb_unsetenv(struct mb *mb, const char *name);
uint32_t mb_env_howto(struct mb *mb);

/* mb_disk.c: pick currdev on disk 0 and mount its UFS; 0 or an FBSD errno. */
int mb_disk_probe(struct mb *mb);
int mb_disk_read(struct mb *mb, int unit, uint64_t off, void *buf, size_t len);

/* mb_ufs.c */
int mb_ufs_mount(struct mb *mb, int unit, uint64_t off, uint64_t size);
extern const struct mb_fsops ufs_fsops;

/* mb_host.c */
extern const struct mb_fsops host_fsops;
int host_stat(struct mb_file *f, struct mb_stat *st);

/* mb_file.c: the one file layer over host0 and the disk's UFS. */
struct mb_file *mb_open(struct mb *mb, const char *path, int *err);
void mb_close(struct mb_file *f);
int mb_read(struct mb_file *f, void *buf, size_t len, size_t *got);
int mb_read_full(struct mb_file *f, void *buf, size_t len);
int mb_pread(struct mb_file *f, void *buf, size_t len, uint64_t off);
int mb_fstat(struct mb_file *f, struct mb_stat *st);
const char *mb_strerror(int err);

/* mb_main.c */
void *mb_alloc(struct mb *mb, size_t size);
/* Exported like userboot's: the host's exit callback, then back out of loader_main. */
_Noreturn void exit(int v);

/* Little-endian fields of on-disk and ELF structures (the bytes are already bounds-checked). */
static inline uint16_t mb_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t mb_le32(const uint8_t *p)
{
	return (uint32_t)mb_le16(p) | (uint32_t)mb_le16(p + 2) << 16;
}

static inline uint64_t mb_le64(const uint8_t *p)
{
	return (uint64_t)mb_le32(p) | (uint64_t)mb_le32(p + 4) << 32;
}

/* mb_conf.c */
void mb_conf_load(struct mb *mb);

/* mb_interp.c (v5-era builds) */
void mb_interp_check(struct mb *mb);

/* mb_load.c: kernel, modules, metadata, then mb_exec. */
_Noreturn void mb_boot(struct mb *mb);

/* mb_exec.c */
_Noreturn void mb_exec(struct mb *mb, uint64_t entry, uint64_t modulep, uint64_t kernend);

/* mb_prompt.c */
void mb_prompt(struct mb *mb);

#endif
