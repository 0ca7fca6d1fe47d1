/* fs_confine.c: the confinement of the kvmload-fs process that reads the disks (the server, --list's reader): the user, the parent-death signal, Landlock, the seccomp allowlist (a table, a reason per call). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/cdrom.h>
#include <linux/fd.h>
#include <linux/blkzoned.h>
#include <linux/fs.h>
#include <linux/fuse.h>
#include <linux/landlock.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs_confine.h"
#include "spawn.h"

/* Rows counted only when: a host tree (host0) is served; a mount is served; --list prints. */
#define FSC_HOST 1u
#define FSC_SERVE 2u
#define FSC_LIST 4u

/*
 * What reading the disks (libblkid, the BSD label, UFS and ZFS readers, the
 * chunk cache), the session loop and libfuse's worker threads need once the
 * disks are open; found by running the fuse, udev and kvm suites with the
 * server and --list's reader under strace -f.  Anything else kills the process.
 */
static const struct confine_call fs_confine_table[] = {
	CONFINE_ANY(read, 0, "libblkid reads the disks; requests come from /dev/fuse"),
	CONFINE_ANY(lseek, 0, "libblkid seeks before each read of a disk; seekdir in host0's directories"),
	CONFINE_ANY(pread64, 0, "the disks, and host0's files"),
	CONFINE_ANY(fadvise64, 0, "libblkid tells the kernel it reads a disk at random"),
	CONFINE_ANY(newfstatat, 0, "libblkid and disk_adopt stat a disk; stdio its output; host0's attributes "
		"(and fstat of a reopened file)"),
	CONFINE_ANY(fstatfs, 0, "a disk served over FUSE gets a chunk cache (blkdev_take); statfs of host0"),
	CONFINE_ARG(ioctl, 0, 1, ~0u, BLKGETSIZE64, "libblkid and disk_adopt size a block device"),
	CONFINE_ARG(ioctl, 0, 1, ~0u, BLKSSZGET, "libblkid and disk_adopt ask a block device's sector size"),
	CONFINE_ARG(ioctl, 0, 1, ~0u, BLKGETZONESZ, "libblkid asks whether a block device is zoned"),
	CONFINE_ARG(ioctl, 0, 1, ~0u, FDGETFDCSTAT, "libblkid asks whether a block device is a floppy"),
	CONFINE_ARG(ioctl, 0, 1, ~0u, CDROM_GET_CAPABILITY,
		"libblkid asks whether a whole disk is a CD-ROM (when it finds the disk in /sys: no Landlock)"),
	CONFINE_ARG(openat, 0, 2, ~0u, O_RDONLY | O_CLOEXEC,
		"libblkid looks a block device up in /sys; malloc reads /proc/sys/vm/overcommit_memory as it first "
		"trims a thread's arena; Landlock refuses both, and they do without"),
	CONFINE_ANY(sysinfo, 0, "glibc's qsort asks the memory size (ZFS pool members, datasets)"),
	CONFINE_ANY(write, 0, "diagnostics to stderr; the ready byte; --list's table"),
	CONFINE_ANY(close, 0, "the ready pipe once used; a worker's /dev/fuse clone; host0's nodes"),
	CONFINE_ANY(futex, 0, "locks of the trees and caches; libfuse's worker bookkeeping"),
	CONFINE_ANY(brk, 0, "malloc"),
	CONFINE_ARG(mmap, 0, 2, PROT_EXEC, 0, "malloc's larger blocks, decompressed ZFS blocks, thread stacks; never executable"),
	CONFINE_ARG(mprotect, 0, 2, PROT_EXEC, 0, "a new thread's stack guard; never executable"),
	CONFINE_ANY(munmap, 0, "free of larger blocks; a thread's stack"),
	CONFINE_ANY(mremap, 0, "realloc of a block of 64 KiB or more (host0's node table as it grows)"),
	CONFINE_ANY(madvise, 0, "a thread that ends gives its stack back; so does malloc, trimming a thread's arena"),
	CONFINE_ANY(exit_group, 0, "the process ends (_exit)"),
	CONFINE_ARG(ioctl, FSC_LIST, 1, ~0u, TCGETS, "stdio asks whether --list's output is a terminal"),
	CONFINE_ANY(writev, FSC_SERVE, "replies go to /dev/fuse"),
	CONFINE_ARG(openat, FSC_SERVE, 2, ~0u, O_RDWR | O_CLOEXEC,
		"each worker opens /dev/fuse for its clone (Landlock: nothing else)"),
	CONFINE_ARG(ioctl, FSC_SERVE, 1, ~0u, FUSE_DEV_IOC_CLONE, "binds a worker's /dev/fuse to the session"),
	CONFINE_ARG(fcntl, FSC_SERVE, 1, ~0u, F_SETFD, "libfuse marks a worker's /dev/fuse close-on-exec; so does fdopendir"),
	CONFINE_ANY(clone3, FSC_SERVE, "libfuse starts a worker thread when all are busy"),
	CONFINE_ANY(rseq, FSC_SERVE, "a new thread registers restartable sequences"),
	CONFINE_ANY(set_robust_list, FSC_SERVE, "a new thread registers its robust futex list"),
	CONFINE_ANY(rt_sigprocmask, FSC_SERVE, "libfuse's workers block signals; thread start"),
	CONFINE_ANY(rt_sigaction, FSC_SERVE, "pthread_cancel installs its handler at the end of the loop"),
	CONFINE_ANY(rt_sigreturn, FSC_SERVE, "return from libfuse's SIGTERM/SIGINT/SIGHUP handler"),
	CONFINE_ANY(tgkill, FSC_SERVE, "pthread_cancel stops the idle workers at the end of the loop"),
	CONFINE_ANY(getpid, FSC_SERVE, "pthread_cancel names its target thread by process and thread id"),
	CONFINE_ANY(exit, FSC_SERVE, "a worker thread ends"),
	CONFINE_ANY(openat2, FSC_HOST, "host0's lookups, one RESOLVE_BENEATH step at a time"),
	CONFINE_ANY(readlinkat, FSC_HOST, "host0's symbolic links"),
	CONFINE_ANY(getdents64, FSC_HOST, "host0's directories"),
	CONFINE_ARG(fcntl, FSC_HOST, 1, ~0u, F_GETFL, "fdopendir checks the descriptor's access mode"),
#if defined(__SANITIZE_ADDRESS__)
	/* Sanitizer builds only (meson -Db_sanitize=address,undefined): the runtime's own needs. */
	CONFINE_ANY(sigaltstack, 0, "ASan: a new thread's alternate signal stack"),
	CONFINE_ANY(gettid, 0, "ASan: a new thread's id for its thread registry"),
	CONFINE_ANY(sched_getaffinity, 0, "ASan: a new thread's stack bounds (pthread_getattr_np asks it)"),
	CONFINE_ANY(sched_yield, 0, "ASan: its internal spin locks yield while contended (seen under the ZFS walk)"),
#endif
};

static int fs_confine_fail(char *err, size_t errlen, const char *what, int r)
{
	snprintf(err, errlen, "confining the disks' reader: %s: %s", what, strerror(-r));
	return r;
}

/* A uid change clears the parent-death signal: armed before and after it, then the parent checked. */
static int fs_confine_pdeath(pid_t owner, char *err, size_t errlen)
{
	int r = spawn_deathsig(owner, SIGKILL);

	if (r < 0)
		return fs_confine_fail(err, errlen, r == -ESRCH ? "the mount owner" : "PR_SET_PDEATHSIG", r);
	return 0;
}

int fs_confine_enter(const struct confine_user *u, pid_t owner, int host_fd, bool serve, char *err, size_t errlen)
{
	struct confine_path rules[2];
	int nrules = 0, r;

	if ((r = fs_confine_pdeath(owner, err, errlen)) < 0)
		return r;
	if ((r = confine_drop(u, NULL, 0)) < 0)
		return fs_confine_fail(err, errlen, u->drop ? u->name : "capabilities", r);
	if ((r = fs_confine_pdeath(owner, err, errlen)) < 0)
		return r;
	/* No core file of guest data, and no ptrace by other processes of the user. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fs_confine_fail(err, errlen, "PR_SET_DUMPABLE", -errno);
	if (serve) {
		/* pthread_cancel, which ends libfuse's workers, loads the unwinder on first use: load it while files open. */
		if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE)) {
			snprintf(err, errlen, "confining the server: %s", dlerror());
			return -ENOENT;
		}
		rules[nrules].fd = open("/dev/fuse", O_PATH | O_CLOEXEC);
		if (rules[nrules].fd < 0)
			return fs_confine_fail(err, errlen, "/dev/fuse", -errno);
		rules[nrules++].access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
					 LANDLOCK_ACCESS_FS_IOCTL_DEV;
	}
	if (host_fd >= 0)
		rules[nrules++] = (struct confine_path){ host_fd, LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR };
	r = confine_landlock(rules, nrules);
	if (serve)
		close(rules[0].fd);
	if (r < 0)
		return fs_confine_fail(err, errlen, "Landlock", r);
	r = confine_seccomp(fs_confine_table, sizeof(fs_confine_table) / sizeof(fs_confine_table[0]),
			    (host_fd >= 0 ? FSC_HOST : 0) | (serve ? FSC_SERVE : FSC_LIST));
	return r < 0 ? fs_confine_fail(err, errlen, "seccomp", r) : 0;
}
