/* freebsd_abi.h: FreeBSD amd64 constants and layouts that cross the plugin and guest boundaries. */
#ifndef KVMLOAD_FREEBSD_ABI_H
#define KVMLOAD_FREEBSD_ABI_H

#include <stddef.h>
#include <stdint.h>

/* errno values as FreeBSD numbers them (sys/sys/errno.h); 1..34 match Linux except 11. */
#define FBSD_EPERM        1
#define FBSD_ENOENT       2
#define FBSD_EIO          5
#define FBSD_ENXIO        6
#define FBSD_E2BIG        7
#define FBSD_EBADF        9
#define FBSD_EDEADLK     11
#define FBSD_ENOMEM      12
#define FBSD_EACCES      13
#define FBSD_EFAULT      14
#define FBSD_EBUSY       16
#define FBSD_EEXIST      17
#define FBSD_EXDEV       18
#define FBSD_ENODEV      19
#define FBSD_ENOTDIR     20
#define FBSD_EISDIR      21
#define FBSD_EINVAL      22
#define FBSD_ENFILE      23
#define FBSD_EMFILE      24
#define FBSD_ENOTTY      25
#define FBSD_EFBIG       27
#define FBSD_ENOSPC      28
#define FBSD_ESPIPE      29
#define FBSD_EROFS       30
#define FBSD_EMLINK      31
#define FBSD_ERANGE      34
#define FBSD_EAGAIN      35
#define FBSD_EOPNOTSUPP  45
#define FBSD_ELOOP       62
#define FBSD_ENAMETOOLONG 63
#define FBSD_ENOTEMPTY   66
#define FBSD_ENOSYS      78
#define FBSD_EFTYPE      79
#define FBSD_EOVERFLOW   84

/* Disk ioctls, FreeBSD _IOR encoding (IOC_OUT 0x40000000): differs from Linux's. */
#define FBSD_DIOCGSECTORSIZE 0x40046480UL /* u_int out */
#define FBSD_DIOCGMEDIASIZE  0x40086481UL /* off_t out */

/* dirent d_type values (same numbers as Linux). */
#define FBSD_DT_UNKNOWN 0
#define FBSD_DT_FIFO    1
#define FBSD_DT_CHR     2
#define FBSD_DT_DIR     4
#define FBSD_DT_BLK     6
#define FBSD_DT_REG     8
#define FBSD_DT_LNK     10
#define FBSD_DT_SOCK    12
#define FBSD_DT_WHT     14

/* lseek whence (same numbers as Linux). */
#define FBSD_SEEK_SET 0
#define FBSD_SEEK_CUR 1
#define FBSD_SEEK_END 2

/* Mode bits (same as Linux). */
#define FBSD_S_IFMT  0170000
#define FBSD_S_IFDIR 0040000
#define FBSD_S_IFREG 0100000
#define FBSD_S_IFLNK 0120000

struct fbsd_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};

/* FreeBSD >= 12 amd64 ino64 struct stat (224 bytes), as the 12.2+ stat callback receives it. */
struct fbsd_stat {
	uint64_t st_dev;
	uint64_t st_ino;
	uint64_t st_nlink;
	uint16_t st_mode;
	int16_t st_padding0;
	uint32_t st_uid;
	uint32_t st_gid;
	int32_t st_padding1;
	uint64_t st_rdev;
	struct fbsd_timespec st_atim;
	struct fbsd_timespec st_mtim;
	struct fbsd_timespec st_ctim;
	struct fbsd_timespec st_birthtim;
	int64_t st_size;
	int64_t st_blocks;
	int32_t st_blksize;
	uint32_t st_flags;
	uint64_t st_gen;
	uint64_t st_spare[10];
};
_Static_assert(offsetof(struct fbsd_stat, st_mode) == 24, "fbsd_stat st_mode");
_Static_assert(offsetof(struct fbsd_stat, st_uid) == 28, "fbsd_stat st_uid");
_Static_assert(offsetof(struct fbsd_stat, st_rdev) == 40, "fbsd_stat st_rdev");
_Static_assert(offsetof(struct fbsd_stat, st_mtim) == 64, "fbsd_stat st_mtim");
_Static_assert(offsetof(struct fbsd_stat, st_size) == 112, "fbsd_stat st_size");
_Static_assert(offsetof(struct fbsd_stat, st_blksize) == 128, "fbsd_stat st_blksize");
_Static_assert(offsetof(struct fbsd_stat, st_gen) == 136, "fbsd_stat st_gen");
_Static_assert(sizeof(struct fbsd_stat) == 224, "fbsd_stat size");

/* x86 register numbers of the setreg/setcr callbacks (instruction encoding order). */
#define UB_REG_RSP 4

/* Model-specific registers userboot sets. */
#define X86_MSR_EFER 0xc0000080u

/* enum vm_reg_name of bhyve's vmm.h, used by the v4 vm_set_register/vm_set_desc callbacks. */
enum fbsd_vm_reg {
	VM_REG_GUEST_RAX, VM_REG_GUEST_RBX, VM_REG_GUEST_RCX, VM_REG_GUEST_RDX,
	VM_REG_GUEST_RSI, VM_REG_GUEST_RDI, VM_REG_GUEST_RBP, VM_REG_GUEST_R8,
	VM_REG_GUEST_R9, VM_REG_GUEST_R10, VM_REG_GUEST_R11, VM_REG_GUEST_R12,
	VM_REG_GUEST_R13, VM_REG_GUEST_R14, VM_REG_GUEST_R15, VM_REG_GUEST_CR0,
	VM_REG_GUEST_CR3, VM_REG_GUEST_CR4, VM_REG_GUEST_DR7, VM_REG_GUEST_RSP,
	VM_REG_GUEST_RIP, VM_REG_GUEST_RFLAGS, VM_REG_GUEST_ES, VM_REG_GUEST_CS,
	VM_REG_GUEST_SS, VM_REG_GUEST_DS, VM_REG_GUEST_FS, VM_REG_GUEST_GS,
	VM_REG_GUEST_LDTR, VM_REG_GUEST_TR, VM_REG_GUEST_IDTR, VM_REG_GUEST_GDTR,
	VM_REG_GUEST_EFER, VM_REG_GUEST_CR2,
	VM_REG_LAST_V10 = 39
};

/* Kernel preload metadata (sys/sys/linker.h, machine/metadata.h). */
#define MODINFO_END       0x0000
#define MODINFO_NAME      0x0001
#define MODINFO_TYPE      0x0002
#define MODINFO_ADDR      0x0003
#define MODINFO_SIZE      0x0004
#define MODINFO_METADATA  0x8000
#define MODINFOMD_DYNAMIC 0x0005
#define MODINFOMD_ENVP    0x0006
#define MODINFOMD_HOWTO   0x0007
#define MODINFOMD_KERNEND 0x0008
#define MODINFOMD_SMAP    0x1001

/* BIOS SMAP entry as the loader passes it (struct bios_smap). */
struct fbsd_bios_smap {
	uint64_t base;
	uint64_t length;
	uint32_t type;
} __attribute__((packed));
#define FBSD_SMAP_TYPE_MEMORY 1

/* Kernel module metadata (sys/sys/module.h) the real loader reads from a kernel's set. */
#define MDT_DEPEND  1
#define MDT_MODULE  2
#define MDT_VERSION 3
#define MDT_STRUCT_VERSION 1

#endif
