/* sandbox.c: confining the plugin's process: the seccomp allowlist (a table, a reason per call), Landlock, capabilities, descriptors. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

/* Access rights newer than the build host's linux/landlock.h (ABI 3 and 5). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

/* Syscall numbers with this bit are the x32 ABI: same arch value, other meanings. */
#define SANDBOX_X32_BIT 0x40000000u

#define SB_ANY(call, host, reason) { __NR_##call, #call, host, -1, 0, 0, reason }
#define SB_ARG(call, host, a, m, e, reason) { __NR_##call, #call, host, a, m, e, reason }

/*
 * Everything the callbacks (cb_*.c), the plugin's imports and the way out
 * need once the plugin runs; found by running miniboot and FreeBSD 10.2's
 * userboot.so through every kvm test.  Anything else kills the process.
 */
static const struct sandbox_call sandbox_table[] = {
	SB_ANY(read, false, "getc reads the console; the read callback reads host files"),
	SB_ANY(write, false, "putc writes the console; diagnostics go to stderr; the result goes to the parent"),
	SB_ANY(pread64, false, "diskread reads the -d disks at an offset"),
	SB_ANY(poll, false, "poll asks whether a console key is waiting"),
	SB_ANY(clock_nanosleep, false, "the delay callback sleeps"),
	SB_ANY(restart_syscall, false, "a delay stopped by job control (^Z) resumes its sleep this way"),
	SB_ANY(brk, false, "malloc: host-file handles and directory streams"),
	SB_ARG(mmap, false, 2, PROT_EXEC, 0, "malloc's larger blocks; never executable memory"),
	SB_ANY(munmap, false, "free of malloc's larger blocks"),
	SB_ANY(exit_group, false, "the process ends (_exit) once the result is sent"),
	SB_ANY(openat2, true, "the open callback: beneath the view directory (RESOLVE_BENEATH)"),
	SB_ANY(close, true, "the close callback; open's error paths"),
	SB_ANY(newfstatat, true, "the stat callbacks; open checks the file type; fdopendir"),
	SB_ANY(getdents64, true, "the readdir callback"),
	SB_ANY(lseek, true, "the seek callback"),
	SB_ARG(fcntl, true, 1, ~0u, F_DUPFD_CLOEXEC, "open gives a directory its own descriptor for readdir"),
	SB_ARG(fcntl, true, 1, ~0u, F_GETFL, "fdopendir checks the descriptor's access mode"),
	SB_ARG(fcntl, true, 1, ~0u, F_SETFD, "fdopendir marks its descriptor close-on-exec"),
#if defined(__SANITIZE_ADDRESS__)
	/* Sanitizer builds only (meson -Db_sanitize=address,undefined): the runtime's own needs. */
	SB_ANY(sigaltstack, false, "ASan: leaving the plugin by longjmp asks which stack it is on"),
#endif
};

const struct sandbox_call *sandbox_calls(size_t *n)
{
	*n = sizeof(sandbox_table) / sizeof(sandbox_table[0]);
	return sandbox_table;
}

static int sandbox_err(char *err, size_t errlen, const char *what)
{
	int e = errno;

	snprintf(err, errlen, "sandbox: %s: %s", what, strerror(e));
	return -e;
}

static int sandbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

/* Distinct system calls in the table (a call allowed for several argument values counts once). */
static size_t sandbox_ncalls(void)
{
	size_t n, distinct = 0;
	const struct sandbox_call *t = sandbox_calls(&n);

	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < i && t[j].nr != t[i].nr)
			j++;
		distinct += j == i;
	}
	return distinct;
}

void sandbox_init(struct sandbox *s, bool enabled)
{
	s->enabled = enabled;
	s->landlock_abi = enabled ? sandbox_landlock_abi() : 0;
	if (!enabled)
		return;
	if (s->landlock_abi)
		log_debug("plugin sandbox: seccomp allowlist of %zu system calls, Landlock ABI %d "
			  "(read-only beneath the view directory), no capabilities", sandbox_ncalls(),
			  s->landlock_abi);
	else
		log_debug("plugin sandbox: the kernel has no Landlock; the plugin's files are confined "
			  "only by chroot (as root) and the seccomp allowlist of %zu system calls",
			  sandbox_ncalls());
}

/* Close every descriptor that is not in keep (close_range over the gaps). */
static int sandbox_close_fds(const int *keep, int nkeep, char *err, size_t errlen)
{
	int sorted[64], n = 0;
	unsigned lo = 0;

	if (nkeep > (int)(sizeof(sorted) / sizeof(sorted[0]))) {
		snprintf(err, errlen, "sandbox: %d descriptors to keep is too many", nkeep);
		return -EINVAL;
	}
	for (int i = 0; i < nkeep; i++) {
		int j = n;

		if (keep[i] < 0)
			continue;
		while (j > 0 && sorted[j - 1] > keep[i]) {
			sorted[j] = sorted[j - 1];
			j--;
		}
		sorted[j] = keep[i];
		n++;
	}
	for (int i = 0; i < n; i++) {
		if ((unsigned)sorted[i] > lo && close_range(lo, (unsigned)sorted[i] - 1, 0) < 0)
			return sandbox_err(err, errlen, "close_range");
		lo = (unsigned)sorted[i] + 1;
	}
	if (close_range(lo, ~0u, 0) < 0)
		return sandbox_err(err, errlen, "close_range");
	return 0;
}

/* Read-only beneath root_fd (nothing at all without it), for every right this kernel knows. */
static int sandbox_landlock(const struct sandbox *s, int root_fd, char *err, size_t errlen)
{
	struct landlock_ruleset_attr attr = { 0 };
	struct landlock_path_beneath_attr beneath = {
		.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR,
		.parent_fd = root_fd,
	};
	int rfd, r = 0;

	if (s->landlock_abi < 1)
		return 0;
	attr.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0-12 */
	if (s->landlock_abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (s->landlock_abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (s->landlock_abi >= 5)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rfd < 0)
		return sandbox_err(err, errlen, "landlock_create_ruleset");
	if (root_fd >= 0 &&
	    syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) < 0)
		r = sandbox_err(err, errlen, "landlock_add_rule (the view directory)");
	else if (syscall(SYS_landlock_restrict_self, rfd, 0) < 0)
		r = sandbox_err(err, errlen, "landlock_restrict_self");
	close(rfd);
	return r;
}

/* No capability left in any set; the bounding set is emptied where we may (CAP_SETPCAP). */
static int sandbox_drop_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM)
			return sandbox_err(err, errlen, "PR_CAPBSET_DROP");
	/* Kernels before 4.3 have no ambient set: nothing to clear there. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return sandbox_err(err, errlen, "PR_CAP_AMBIENT_CLEAR_ALL");
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return sandbox_err(err, errlen, "capset");
	return 0;
}

/* Append one instruction (classic BPF's macros, as statements). */
#define SB_STMT(code, k) (f[at++] = (struct sock_filter)BPF_STMT(code, k))
#define SB_JUMP(code, k, jt, jf) (f[at++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define SB_LOAD(off) SB_STMT(BPF_LD | BPF_W | BPF_ABS, off)
#define SB_RET(action) SB_STMT(BPF_RET | BPF_K, action)

/* Classic BPF: arch check, x32 refused, one test per table row, kill by default. */
static size_t sandbox_filter(struct sock_filter *f, bool host)
{
	const unsigned nr_at = offsetof(struct seccomp_data, nr);
	size_t at = 0;

	SB_LOAD(offsetof(struct seccomp_data, arch));
	SB_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	SB_RET(SECCOMP_RET_KILL_PROCESS);
	SB_LOAD(nr_at);
	SB_JUMP(BPF_JMP | BPF_JGE | BPF_K, SANDBOX_X32_BIT, 0, 1);
	SB_RET(SECCOMP_RET_KILL_PROCESS);
	for (size_t i = 0; i < sizeof(sandbox_table) / sizeof(sandbox_table[0]); i++) {
		const struct sandbox_call *c = &sandbox_table[i];

		if (c->host_only && !host)
			continue;
		if (c->arg < 0) {
			SB_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)c->nr, 0, 1);
			SB_RET(SECCOMP_RET_ALLOW);
			continue;
		}
		/* x86-64 is little-endian: an argument's low half comes first. */
		SB_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)c->nr, 0, 5);
		SB_LOAD(offsetof(struct seccomp_data, args) + 8u * (unsigned)c->arg);
		SB_STMT(BPF_ALU | BPF_AND | BPF_K, c->mask);
		SB_JUMP(BPF_JMP | BPF_JEQ | BPF_K, c->eq, 0, 1);
		SB_RET(SECCOMP_RET_ALLOW);
		/* A mismatch reloads the number and goes on: another row may allow the call. */
		SB_LOAD(nr_at);
	}
	SB_RET(SECCOMP_RET_KILL_PROCESS);
	return at;
}

static int sandbox_seccomp(bool host, char *err, size_t errlen)
{
	struct sock_filter f[6 + 6 * sizeof(sandbox_table) / sizeof(sandbox_table[0]) + 1];
	struct sock_fprog prog = { .filter = f };

	prog.len = (unsigned short)sandbox_filter(f, host);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return sandbox_err(err, errlen, "PR_SET_SECCOMP");
	return 0;
}

int sandbox_enter(const struct sandbox *s, const int *keep, int nkeep, int root_fd, char *err,
		  size_t errlen)
{
	int r = sandbox_close_fds(keep, nkeep, err, errlen);

	if (r < 0 || !s->enabled)
		return r;
	/* No core file and no ptrace by other processes of our uid: the child holds guest memory. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return sandbox_err(err, errlen, "PR_SET_DUMPABLE");
	/* Required for Landlock and seccomp without CAP_SYS_ADMIN; no setuid gain from here on. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sandbox_err(err, errlen, "PR_SET_NO_NEW_PRIVS");
	/*
	 * Without Landlock this is what keeps absolute paths (openat2 with
	 * AT_FDCWD) inside the read-only view; only root may, which is also
	 * who could otherwise write files as uid 0.
	 */
	if (root_fd >= 0) {
		if (fchdir(root_fd) < 0)
			return sandbox_err(err, errlen, "fchdir (the view directory)");
		if (chroot(".") < 0 && errno != EPERM)
			return sandbox_err(err, errlen, "chroot (the view directory)");
	}
	if ((r = sandbox_landlock(s, root_fd, err, errlen)) < 0)
		return r;
	if ((r = sandbox_drop_caps(err, errlen)) < 0)
		return r;
	return sandbox_seccomp(root_fd >= 0, err, errlen);
}
