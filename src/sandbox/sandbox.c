/* sandbox.c: confining the plugin's process: the seccomp allowlist (a table, a reason per call), Landlock, capabilities, descriptors. */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "confine.h"
#include "errmsg.h"
#include "log.h"
#include "sandbox.h"

/* A row only when host files are served (there is a view directory). */
#define SB_HOST 1u
#define SB_ANY(call, host, reason) CONFINE_ANY(call, (host) ? SB_HOST : 0, reason)
#define SB_ARG(call, host, a, m, e, reason) CONFINE_ARG(call, (host) ? SB_HOST : 0, a, m, e, reason)

/*
 * Everything the callbacks (cb_*.c), the plugin's imports and the way out
 * need once the plugin runs; found by running miniboot and FreeBSD 10.2's
 * userboot.so through every kvm test.  Anything else kills the process.
 */
static const struct confine_call sandbox_table[] = {
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

const struct confine_call *sandbox_calls(size_t *n)
{
	*n = sizeof(sandbox_table) / sizeof(sandbox_table[0]);
	return sandbox_table;
}

/* "sandbox: WHAT: why" for the errno e; -e. */
static int sandbox_err(char *err, size_t errlen, const char *what, int e)
{
	return errmsg_set(err, errlen, e, "sandbox: %s: %s", what, strerror(e));
}

void sandbox_init(struct sandbox *s, bool enabled)
{
	s->enabled = enabled;
	s->landlock_abi = enabled ? confine_landlock_abi() : 0;
	if (!enabled)
		return;
	if (s->landlock_abi)
		log_debug("plugin sandbox: seccomp allowlist of %zu system calls, Landlock ABI %d "
			  "(read-only beneath the view directory), no capabilities", confine_calls_count(sandbox_table, sizeof(sandbox_table) / sizeof(sandbox_table[0])),
			  s->landlock_abi);
	else
		log_debug("plugin sandbox: the kernel has no Landlock; the plugin's files are confined "
			  "only by chroot (as root) and the seccomp allowlist of %zu system calls",
			  confine_calls_count(sandbox_table, sizeof(sandbox_table) / sizeof(sandbox_table[0])));
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
			return sandbox_err(err, errlen, "close_range", errno);
		lo = (unsigned)sorted[i] + 1;
	}
	if (close_range(lo, ~0u, 0) < 0)
		return sandbox_err(err, errlen, "close_range", errno);
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
		return sandbox_err(err, errlen, "PR_SET_DUMPABLE", errno);
	/* Required for Landlock and seccomp without CAP_SYS_ADMIN; no setuid gain from here on. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sandbox_err(err, errlen, "PR_SET_NO_NEW_PRIVS", errno);
	/*
	 * Without Landlock this is what keeps absolute paths (openat2 with
	 * AT_FDCWD) inside the read-only view; only root may, which is also
	 * who could otherwise write files as uid 0.
	 */
	if (root_fd >= 0) {
		if (fchdir(root_fd) < 0)
			return sandbox_err(err, errlen, "fchdir (the view directory)", errno);
		if (chroot(".") < 0 && errno != EPERM)
			return sandbox_err(err, errlen, "chroot (the view directory)", errno);
	}
	/* Read-only beneath root_fd; no file at all without it. */
	if (s->landlock_abi &&
	    (r = confine_landlock(&(struct confine_path){ root_fd, LANDLOCK_ACCESS_FS_READ_FILE |
						  LANDLOCK_ACCESS_FS_READ_DIR }, root_fd >= 0)) < 0)
		return sandbox_err(err, errlen, "Landlock", -r);
	if ((r = confine_caps(NULL, 0)) < 0)
		return sandbox_err(err, errlen, "capabilities", -r);
	if ((r = confine_seccomp(sandbox_table, sizeof(sandbox_table) / sizeof(sandbox_table[0]),
				 root_fd >= 0 ? SB_HOST : 0)) < 0)
		return sandbox_err(err, errlen, "seccomp", -r);
	return 0;
}
