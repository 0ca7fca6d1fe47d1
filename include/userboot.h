/* userboot.h: the FreeBSD userboot.so host ABI (loader_callbacks), declared from its documented contract. */
#ifndef KVMLOAD_USERBOOT_H
#define KVMLOAD_USERBOOT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Protocol versions the host passes to loader_main().  10.x plugins abort
 * on anything but 3; 11.3 and later accept >= 3 and run the interpreter
 * check only at >= 5.
 */
#define USERBOOT_VERSION_1 1
#define USERBOOT_VERSION_2 2
#define USERBOOT_VERSION_3 3
#define USERBOOT_VERSION_4 4
#define USERBOOT_VERSION_5 5

/* Values the plugin passes to the exit callback. */
#define USERBOOT_EXIT_QUIT   1
#define USERBOOT_EXIT_REBOOT 2

/*
 * Logical callback slots, in the order of the newest table (13.0+, with
 * diskwrite).  The byte layout a plugin expects depends on its generation:
 * without diskwrite every slot from UB_COPYIN on sits one pointer lower.
 * The host builds the table from these indices (see cb_table.c).
 */
enum ub_slot {
	UB_GETC,
	UB_PUTC,
	UB_POLL,
	UB_OPEN,
	UB_CLOSE,
	UB_ISDIR,
	UB_READ,
	UB_READDIR,
	UB_SEEK,
	UB_STAT,
	UB_DISKREAD,
	UB_DISKWRITE,
	UB_COPYIN,
	UB_COPYOUT,
	UB_SETREG,
	UB_SETMSR,
	UB_SETCR,
	UB_SETGDT,
	UB_EXEC,
	UB_DELAY,
	UB_EXIT,
	UB_GETMEM,
	UB_DISKIOCTL,
	UB_GETENV,
	UB_VM_SET_REGISTER,
	UB_VM_SET_DESC,
	UB_SWAP_INTERPRETER,
	UB_NSLOTS
};

struct fbsd_stat;

/* Signatures of every callback; `arg` is the cookie given to loader_main. */
typedef int ub_getc_fn(void *arg);
typedef void ub_putc_fn(void *arg, int ch);
typedef int ub_poll_fn(void *arg);
typedef int ub_open_fn(void *arg, const char *filename, void **h_return);
typedef int ub_close_fn(void *arg, void *h);
typedef int ub_isdir_fn(void *arg, void *h);
typedef int ub_read_fn(void *arg, void *h, void *dst, size_t size, size_t *resid_return);
typedef int ub_readdir_fn(void *arg, void *h, uint32_t *fileno_return, uint8_t *type_return,
			  size_t *namelen_return, char *name);
typedef int ub_seek_fn(void *arg, void *h, uint64_t offset, int whence);
/* <= 12.1 (and illumos): four out-pointers. */
typedef int ub_stat_old_fn(void *arg, void *h, int *mode, int *uid, int *gid, uint64_t *size);
/* >= 12.2 / 13.0: FreeBSD's ino64 struct stat (224 bytes); the plugin ignores the result. */
typedef int ub_stat_new_fn(void *arg, void *h, struct fbsd_stat *st);
typedef int ub_diskread_fn(void *arg, int unit, uint64_t offset, void *dst, size_t size,
			   size_t *resid_return);
typedef int ub_diskwrite_fn(void *arg, int unit, uint64_t offset, void *src, size_t size,
			    size_t *resid_return);
typedef int ub_copyin_fn(void *arg, const void *from, uint64_t to, size_t size);
typedef int ub_copyout_fn(void *arg, uint64_t from, void *to, size_t size);
typedef void ub_setreg_fn(void *arg, int reg, uint64_t val);
typedef void ub_setmsr_fn(void *arg, int msr, uint64_t val);
typedef void ub_setcr_fn(void *arg, int cr, uint64_t val);
typedef void ub_setgdt_fn(void *arg, uint64_t base, size_t size);
typedef void ub_exec_fn(void *arg, uint64_t pc);
typedef void ub_delay_fn(void *arg, int usec);
typedef void ub_exit_fn(void *arg, int v);
typedef void ub_getmem_fn(void *arg, uint64_t *lowmem, uint64_t *highmem);
typedef int ub_diskioctl_fn(void *arg, int unit, unsigned long cmd, void *data);
typedef char *ub_getenv_fn(void *arg, int num);
typedef int ub_vm_set_register_fn(void *arg, int vcpu, int reg, uint64_t val);
typedef int ub_vm_set_desc_fn(void *arg, int vcpu, int reg, uint64_t base, unsigned int limit,
			      unsigned int access);
typedef void ub_swap_interpreter_fn(void *arg, const char *interp);

/*
 * The table as a plugin of a given generation sees it.  Plugins built in
 * this project (miniboot) pick the layout with USERBOOT_DISKWRITE (13.0+
 * table) and USERBOOT_STAT_STRUCT (12.2+ stat form).
 */
struct loader_callbacks {
	ub_getc_fn *getc;
	ub_putc_fn *putc;
	ub_poll_fn *poll;
	ub_open_fn *open;
	ub_close_fn *close;
	ub_isdir_fn *isdir;
	ub_read_fn *read;
	ub_readdir_fn *readdir;
	ub_seek_fn *seek;
#ifdef USERBOOT_STAT_STRUCT
	ub_stat_new_fn *stat;
#else
	ub_stat_old_fn *stat;
#endif
	ub_diskread_fn *diskread;
#ifdef USERBOOT_DISKWRITE
	ub_diskwrite_fn *diskwrite;
#endif
	ub_copyin_fn *copyin;
	ub_copyout_fn *copyout;
	ub_setreg_fn *setreg;
	ub_setmsr_fn *setmsr;
	ub_setcr_fn *setcr;
	ub_setgdt_fn *setgdt;
	ub_exec_fn *exec;
	ub_delay_fn *delay;
	ub_exit_fn *exit;
	ub_getmem_fn *getmem;
	ub_diskioctl_fn *diskioctl;
	ub_getenv_fn *getenv;
	ub_vm_set_register_fn *vm_set_register;
	ub_vm_set_desc_fn *vm_set_desc;
	ub_swap_interpreter_fn *swap_interpreter;
};

#ifdef USERBOOT_DISKWRITE
_Static_assert(offsetof(struct loader_callbacks, copyin) == 0x60, "13.0+ copyin offset");
_Static_assert(offsetof(struct loader_callbacks, getenv) == 0xb8, "13.0+ getenv offset");
_Static_assert(sizeof(struct loader_callbacks) == 0xd8, "13.0+ table size");
#else
_Static_assert(offsetof(struct loader_callbacks, copyin) == 0x58, "V5 copyin offset");
_Static_assert(offsetof(struct loader_callbacks, exit) == 0x98, "V5 exit offset");
_Static_assert(offsetof(struct loader_callbacks, getenv) == 0xb0, "V5 getenv offset");
_Static_assert(sizeof(struct loader_callbacks) == 0xd0, "V5 table size");
#endif

/* The plugin's entry point. */
typedef void loader_main_fn(struct loader_callbacks *cb, void *arg, int version, int ndisks);

/* "$Interpreter:" marker compiled into v5-era loaders, followed by a NUL-terminated name. */
#define USERBOOT_INTERP_MARKER "$Interpreter:"

#endif
