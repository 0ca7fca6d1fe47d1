/* fs_confine.c: the kvmload-fs server's confinement once mounted: the user, the parent-death signal, Landlock, the seccomp allowlist (a table, a reason per call). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
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

/* A row only when a host tree (host0) is served. */
#define FSC_HOST 1u
#define FSC_ANY(call, host, reason) CONFINE_ANY(call, (host) ? FSC_HOST : 0, reason)
#define FSC_ARG(call, host, a, m, e, reason) CONFINE_ARG(call, (host) ? FSC_HOST : 0, a, m, e, reason)

/*
 * What the session loop, the readers behind it and libfuse's worker threads
 * need once the view is mounted; found by running the fuse, udev and kvm
 * suites with the server under strace -f.  Anything else kills the process.
 */
static const struct confine_call fs_confine_table[] = {
	FSC_ANY(read, false, "requests come from /dev/fuse"),
	FSC_ANY(writev, false, "replies go to /dev/fuse"),
	FSC_ANY(write, false, "the ready byte; diagnostics to stderr"),
	FSC_ANY(pread64, false, "the disks, and host0's files"),
	FSC_ANY(close, false, "the ready pipe once used; a worker's /dev/fuse clone; host0's nodes"),
	FSC_ARG(openat, false, 2, ~0u, O_RDWR | O_CLOEXEC, "each worker opens /dev/fuse for its clone (Landlock: nothing else)"),
	FSC_ARG(openat, false, 2, ~0u, O_RDONLY | O_CLOEXEC,
		"malloc reads /proc/sys/vm/overcommit_memory as it first trims a thread's arena; Landlock "
		"refuses it, and malloc gives the pages back with madvise instead"),
	FSC_ARG(ioctl, false, 1, ~0u, FUSE_DEV_IOC_CLONE, "binds a worker's /dev/fuse to the session"),
	FSC_ARG(fcntl, false, 1, ~0u, F_SETFD, "libfuse marks a worker's /dev/fuse close-on-exec; so does fdopendir"),
	FSC_ANY(futex, false, "locks of the trees and caches; libfuse's worker bookkeeping"),
	FSC_ANY(brk, false, "malloc"),
	FSC_ARG(mmap, false, 2, PROT_EXEC, 0, "malloc's larger blocks, decompressed ZFS blocks, thread stacks; never executable"),
	FSC_ARG(mprotect, false, 2, PROT_EXEC, 0, "a new thread's stack guard; never executable"),
	FSC_ANY(munmap, false, "free of larger blocks; a thread's stack"),
	FSC_ANY(mremap, false, "realloc of a block of 64 KiB or more (host0's node table as it grows)"),
	FSC_ANY(madvise, false, "a thread that ends gives its stack back; so does malloc, trimming a thread's arena"),
	FSC_ANY(clone3, false, "libfuse starts a worker thread when all are busy"),
	FSC_ANY(rseq, false, "a new thread registers restartable sequences"),
	FSC_ANY(set_robust_list, false, "a new thread registers its robust futex list"),
	FSC_ANY(rt_sigprocmask, false, "libfuse's workers block signals; thread start"),
	FSC_ANY(rt_sigaction, false, "pthread_cancel installs its handler at the end of the loop"),
	FSC_ANY(rt_sigreturn, false, "return from libfuse's SIGTERM/SIGINT/SIGHUP handler"),
	FSC_ANY(tgkill, false, "pthread_cancel stops the idle workers at the end of the loop"),
	FSC_ANY(getpid, false, "pthread_cancel names its target thread by process and thread id"),
	FSC_ANY(exit, false, "a worker thread ends"),
	FSC_ANY(exit_group, false, "the server ends (_exit)"),
	FSC_ANY(openat2, true, "host0's lookups, one RESOLVE_BENEATH step at a time"),
	FSC_ANY(newfstatat, true, "host0's attributes (and fstat of a reopened file)"),
	FSC_ANY(readlinkat, true, "host0's symbolic links"),
	FSC_ANY(fstatfs, true, "statfs of host0"),
	FSC_ANY(getdents64, true, "host0's directories"),
	FSC_ANY(lseek, true, "seekdir in host0's directories"),
	FSC_ARG(fcntl, true, 1, ~0u, F_GETFL, "fdopendir checks the descriptor's access mode"),
#if defined(__SANITIZE_ADDRESS__)
	/* Sanitizer builds only (meson -Db_sanitize=address,undefined): the runtime's own needs. */
	FSC_ANY(sigaltstack, false, "ASan: a new thread's alternate signal stack"),
	FSC_ANY(gettid, false, "ASan: a new thread's id for its thread registry"),
	FSC_ANY(sched_getaffinity, false, "ASan: a new thread's stack bounds (pthread_getattr_np asks it)"),
#endif
};

static int fs_confine_fail(char *err, size_t errlen, const char *what, int r)
{
	snprintf(err, errlen, "confining the server: %s: %s", what, strerror(-r));
	return r;
}

/* A uid change clears the parent-death signal: armed before and after it, then the parent checked. */
static int fs_confine_pdeath(pid_t owner, char *err, size_t errlen)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return fs_confine_fail(err, errlen, "PR_SET_PDEATHSIG", -errno);
	if (getppid() != owner)
		return fs_confine_fail(err, errlen, "the mount owner", -ESRCH);
	return 0;
}

int fs_confine_enter(const struct confine_user *u, pid_t owner, int host_fd, char *err, size_t errlen)
{
	struct confine_path rules[2];
	int nrules = 0, fuse_fd, r;

	if ((r = fs_confine_pdeath(owner, err, errlen)) < 0)
		return r;
	if ((r = confine_drop(u, NULL, 0)) < 0)
		return fs_confine_fail(err, errlen, u->drop ? u->name : "capabilities", r);
	if ((r = fs_confine_pdeath(owner, err, errlen)) < 0)
		return r;
	/* No core file of guest data, and no ptrace by other processes of the user. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fs_confine_fail(err, errlen, "PR_SET_DUMPABLE", -errno);
	/* pthread_cancel, which ends libfuse's workers, loads the unwinder on first use: load it while files open. */
	if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE)) {
		snprintf(err, errlen, "confining the server: %s", dlerror());
		return -ENOENT;
	}
	fuse_fd = open("/dev/fuse", O_PATH | O_CLOEXEC);
	if (fuse_fd < 0)
		return fs_confine_fail(err, errlen, "/dev/fuse", -errno);
	rules[nrules++] = (struct confine_path){ fuse_fd, LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
						  LANDLOCK_ACCESS_FS_IOCTL_DEV };
	if (host_fd >= 0)
		rules[nrules++] = (struct confine_path){ host_fd, LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR };
	r = confine_landlock(rules, nrules);
	close(fuse_fd);
	if (r < 0)
		return fs_confine_fail(err, errlen, "Landlock", r);
	r = confine_seccomp(fs_confine_table, sizeof(fs_confine_table) / sizeof(fs_confine_table[0]),
			    host_fd >= 0 ? FSC_HOST : 0);
	return r < 0 ? fs_confine_fail(err, errlen, "seccomp", r) : 0;
}
