/* view.c: the kvmload-fs child in its locked runtime directory (start, ready, stop, unmount) and the boot directory of a view. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "paths.h"
#include "view.h"
#include "build_paths.h"

#define VIEW_STOP_WAIT_MS 5000 /* a daemon that ignores SIGTERM this long gets SIGKILL */

static int view_err(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int view_err(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -e;
}

void view_init(struct view *v)
{
	memset(v, 0, sizeof(*v));
	v->root_fd = -1;
	v->rundir_fd = -1;
	v->lock_fd = -1;
	v->pid = -1;
}

void view_fs_program(char *buf, size_t len)
{
	paths_find(buf, len, "KVMLOAD_FS", VIEW_BUILD_DIR, VIEW_FS_BUILD, "kvmload-fs", VIEW_FS_INSTALLED);
}

void view_sigset(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGINT);
	sigaddset(s, SIGTERM);
	sigaddset(s, SIGHUP);
	sigaddset(s, SIGQUIT);
	sigaddset(s, SIGCHLD);
}

/*
 * Take the runtime directory's lock.  A kvmload leaving unlinks the lock
 * file, so a lock won on a file that is no longer the one in the directory
 * is worthless: try again on the new one.
 */
static int view_lock(struct view *v, int dir, char *err, size_t errlen)
{
	for (int tries = 0; tries < 16; tries++) {
		struct stat held, now;
		char owner[24] = "";
		int fd, e;

		fd = openat(dir, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return view_err(err, errlen, errno, "%s/lock: %s", v->rundir, strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			e = errno;
			if (e == EWOULDBLOCK) {
				ssize_t n = pread(fd, owner, sizeof(owner) - 1, 0);

				owner[n > 0 ? n : 0] = '\0';
				owner[strcspn(owner, "\n")] = '\0';
				close(fd);
				return view_err(err, errlen, EBUSY,
						"%s/lock is held by another kvmload (pid %s) loading this vm",
						v->rundir, *owner ? owner : "unknown");
			}
			close(fd);
			return view_err(err, errlen, e, "%s/lock: %s", v->rundir, strerror(e));
		}
		if (fstat(fd, &held) == 0 && fstatat(dir, "lock", &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    held.st_dev == now.st_dev && held.st_ino == now.st_ino) {
			if (ftruncate(fd, 0) < 0 || dprintf(fd, "%ld\n", (long)getpid()) < 0) {
				e = errno;
				close(fd);
				return view_err(err, errlen, e, "%s/lock: %s", v->rundir, strerror(e));
			}
			v->lock_fd = fd;
			return 0;
		}
		close(fd);
	}
	return view_err(err, errlen, EAGAIN, "%s/lock: it keeps being replaced", v->rundir);
}

const char *view_run_base(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0 || !xdg || xdg[0] != '/' ||
	    (size_t)snprintf(buf, len, "%s/kvmload", xdg) >= len)
		snprintf(buf, len, "%s", VIEW_RUN_BASE);
	return buf;
}

/* <base>/<vm>, mode 0700, ours, locked.  Only then is it ours to clean up. */
static int view_rundir(struct view *v, const char *vmname, char *err, size_t errlen)
{
	char run[PATH_MAX];
	const char *hint;
	struct stat st;
	int base, dir, r;

	view_run_base(run, sizeof(run));
	/* Not root and no $XDG_RUNTIME_DIR: /run/kvmload is likely root's, so say where else to look. */
	hint = geteuid() != 0 && strcmp(run, VIEW_RUN_BASE) == 0
		       ? " (not as root, the runtime directory is under $XDG_RUNTIME_DIR, which is unset)"
		       : "";
	if ((size_t)snprintf(v->rundir, sizeof(v->rundir), "%s/%s", run, vmname) >= sizeof(v->rundir))
		return view_err(err, errlen, ENAMETOOLONG, "%s/%s: name too long", run, vmname);
	if (mkdir(run, strcmp(run, VIEW_RUN_BASE) == 0 ? 0755 : 0700) < 0 && errno != EEXIST)
		return view_err(err, errlen, errno, "%s: %s%s", run, strerror(errno), hint);
	base = open(run, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (base < 0)
		return view_err(err, errlen, errno, "%s: %s%s", run, strerror(errno), hint);
	if (mkdirat(base, vmname, 0700) < 0 && errno != EEXIST) {
		r = errno;
		close(base);
		return view_err(err, errlen, r, "%s: %s%s", v->rundir, strerror(r), hint);
	}
	dir = openat(base, vmname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = errno;
	close(base);
	if (dir < 0)
		return view_err(err, errlen, r, "%s: %s", v->rundir, strerror(r));
	/* Somebody else's directory would give them our mount and our lock. */
	if (fstat(dir, &st) < 0 || st.st_uid != geteuid()) {
		close(dir);
		return view_err(err, errlen, EPERM, "%s: not owned by uid %u", v->rundir,
				(unsigned)geteuid());
	}
	if (fchmod(dir, 0700) < 0 || (r = view_lock(v, dir, err, errlen)) < 0) {
		r = r < 0 ? r : view_err(err, errlen, errno, "%s: %s", v->rundir, strerror(errno));
		close(dir);
		return r;
	}
	v->rundir_fd = dir;
	return 0;
}

/*
 * Async-signal-safe.  As root, a lazy umount2; otherwise the set-uid
 * fusermount3 (a fixed path and an empty environment: nothing from ours).
 */
static void view_unmount(struct view *v)
{
	static char *const envp[] = { NULL };
	pid_t p;

	if (umount2(v->mnt, MNT_DETACH) == 0 || errno != EPERM)
		return;
	p = fork();
	if (p == 0) {
		char *const argv[] = { "fusermount3", "-u", "-z", "-q", v->mnt, NULL };

		execve("/usr/bin/fusermount3", argv, envp);
		execve("/bin/fusermount3", argv, envp);
		_exit(127);
	}
	while (p > 0 && waitpid(p, NULL, 0) < 0 && errno == EINTR)
		;
}

/* A kvmload killed outright leaves a mount whose daemon may be gone too (ENOTCONN). */
static void view_clear_stale(struct view *v)
{
	struct stat dir, mnt;
	int r;

	if (fstat(v->rundir_fd, &dir) < 0)
		return;
	r = fstatat(v->rundir_fd, "view", &mnt, AT_SYMLINK_NOFOLLOW);
	if ((r < 0 && errno == ENOENT) || (r == 0 && mnt.st_dev == dir.st_dev))
		return;
	view_unmount(v);
}

static _Noreturn void view_child(char **argv, int ready, pid_t parent)
{
	sigset_t none;
	int null;

	/* A terminal's Ctrl-C reaches kvmload alone, which then stops the daemon in order. */
	setpgid(0, 0);
	/* Should kvmload die without cleaning up (SIGKILL), the daemon unmounts and exits. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* dup2 leaves the new descriptor without FD_CLOEXEC; fd 3 itself needs it cleared. */
	if (ready == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(ready, 3) < 0)
		_exit(127);
	/* The console belongs to the guest: the daemon keeps only stderr. */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
		_exit(127);
	execv(argv[0], argv);
	dprintf(STDERR_FILENO, "kvmload: %s: %s\n", log_esc(argv[0]), strerror(errno));
	_exit(127);
}

/* argv for the child: prog -f --ready-fd 3 [--host H] [--disk D ...] MNT, each string our own copy. */
static char **view_argv(const struct view *v, const struct view_spec *s)
{
	char **argv = calloc((size_t)(8 + 2 * s->ndisks), sizeof(char *));
	int n = 0;
	bool ok;

	if (!argv)
		return NULL;
	argv[n++] = strdup(s->prog);
	argv[n++] = strdup("-f");
	argv[n++] = strdup("--ready-fd");
	argv[n++] = strdup("3");
	if (s->host) {
		argv[n++] = strdup("--host");
		argv[n++] = strdup(s->host);
	}
	for (int i = 0; i < s->ndisks; i++) {
		argv[n++] = strdup("--disk");
		argv[n++] = strdup(s->disks[i]);
	}
	argv[n++] = strdup(v->mnt);
	ok = true;
	for (int i = 0; i < n; i++)
		ok = ok && argv[i];
	if (ok)
		return argv;
	for (int i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
	return NULL;
}

static void view_free_argv(char **argv)
{
	for (int i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static void view_record(struct view *v, int status)
{
	v->status = status;
	v->reaped = true;
}

/* "exited with status N" / "was killed by signal N (NAME)" */
static void view_how(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else
		snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
}

int view_start(struct view *v, const struct view_spec *s, char *err, size_t errlen)
{
	sigset_t block, old;
	char **argv = NULL, byte, how[64];
	int p[2] = { -1, -1 }, r, status = 0;
	pid_t parent = getpid(), pid;
	ssize_t n;

	view_sigset(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	r = view_rundir(v, s->vmname, err, errlen);
	if (r < 0)
		goto out;
	if ((size_t)snprintf(v->mnt, sizeof(v->mnt), "%s/view", v->rundir) >= sizeof(v->mnt)) {
		r = view_err(err, errlen, ENAMETOOLONG, "%s/view: name too long", v->rundir);
		goto out;
	}
	view_clear_stale(v);
	if (mkdirat(v->rundir_fd, "view", 0700) < 0 && errno != EEXIST) {
		r = view_err(err, errlen, errno, "%s: %s", v->mnt, strerror(errno));
		goto out;
	}
	if (access(s->prog, X_OK) < 0) {
		r = view_err(err, errlen, errno, "the view daemon %s: %s (set KVMLOAD_FS to its path)",
			     s->prog, strerror(errno));
		goto out;
	}
	argv = view_argv(v, s);
	if (!argv || pipe2(p, O_CLOEXEC) < 0) {
		r = view_err(err, errlen, argv ? errno : ENOMEM, "starting %s: %s", s->prog,
			     strerror(argv ? errno : ENOMEM));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = view_err(err, errlen, errno, "starting %s: fork: %s", s->prog, strerror(errno));
		goto out;
	}
	if (pid == 0)
		view_child(argv, p[1], parent);
	close(p[1]);
	p[1] = -1;
	v->pid = pid;
	v->mounted = true;

	/* The only wait: a signal now stops the child through the caller's handler. */
	sigprocmask(SIG_SETMASK, &old, NULL);
	do
		n = read(p[0], &byte, 1);
	while (n < 0 && errno == EINTR);
	sigprocmask(SIG_BLOCK, &block, NULL);
	if (n != 1) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		view_record(v, status);
		view_how(status, how, sizeof(how));
		r = view_err(err, errlen, EIO, "the view daemon %s %s before its mount at %s was ready",
			     s->prog, how, v->mnt);
		goto out;
	}
	v->root_fd = open(v->mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (v->root_fd < 0)
		r = view_err(err, errlen, errno, "%s: %s", v->mnt, strerror(errno));
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	view_free_argv(argv);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

int view_attach(struct view *v, const char *dir)
{
	if ((size_t)snprintf(v->mnt, sizeof(v->mnt), "%s", dir) >= sizeof(v->mnt))
		return -ENAMETOOLONG;
	v->root_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return v->root_fd < 0 ? -errno : 0;
}

bool view_child_died(struct view *v)
{
	int status;

	if (v->pid <= 0 || v->reaped)
		return false;
	if (waitpid(v->pid, &status, WNOHANG) != v->pid)
		return false;
	view_record(v, status);
	return true;
}

/* Async-signal-safe appending for view_report_death. */
static size_t view_put(char *buf, size_t at, size_t len, const char *s)
{
	while (*s && at + 1 < len)
		buf[at++] = *s++;
	buf[at] = '\0';
	return at;
}

static size_t view_put_num(char *buf, size_t at, size_t len, long n)
{
	char digits[24];
	int i = 0;

	do
		digits[i++] = (char)('0' + n % 10);
	while ((n /= 10) > 0 && i < (int)sizeof(digits));
	while (i > 0 && at + 1 < len)
		buf[at++] = digits[--i];
	buf[at] = '\0';
	return at;
}

void view_report_death(const struct view *v)
{
	char msg[512];
	size_t at = 0;

	at = view_put(msg, at, sizeof(msg), "kvmload: the view daemon kvmload-fs (pid ");
	at = view_put_num(msg, at, sizeof(msg), (long)v->pid);
	if (WIFSIGNALED(v->status)) {
		at = view_put(msg, at, sizeof(msg), ") was killed by signal ");
		at = view_put_num(msg, at, sizeof(msg), WTERMSIG(v->status));
	} else {
		at = view_put(msg, at, sizeof(msg), ") exited with status ");
		at = view_put_num(msg, at, sizeof(msg), WEXITSTATUS(v->status));
	}
	at = view_put(msg, at, sizeof(msg), " while the loader was running; ending the load\n");
	while (write(STDERR_FILENO, msg, at) < 0 && errno == EINTR)
		;
}

static void view_reap(struct view *v)
{
	struct timespec tick = { 0, 0 };
	long step_us = 500, waited_us = 0;
	bool killed = false;
	int status = 0;

	kill(v->pid, SIGTERM);
	/* Short steps first (the daemon usually leaves within milliseconds), then 10 ms ones. */
	for (;;) {
		pid_t r = waitpid(v->pid, &status, WNOHANG);

		if (r == v->pid || (r < 0 && errno != EINTR))
			break;
		if (!killed && waited_us >= VIEW_STOP_WAIT_MS * 1000L) {
			kill(v->pid, SIGKILL);
			killed = true;
		}
		tick.tv_nsec = step_us * 1000;
		nanosleep(&tick, NULL);
		waited_us += step_us;
		if (step_us < 10000)
			step_us *= 2;
	}
	view_record(v, status);
}

void view_stop(struct view *v)
{
	if (v->pid > 0 && !v->reaped)
		view_reap(v);
	if (v->root_fd >= 0) {
		close(v->root_fd);
		v->root_fd = -1;
	}
	if (v->rundir_fd < 0)
		return; /* not ours (--view), or already cleaned up */
	/*
	 * A daemon that exited 0 unmounted itself; as root a second lazy
	 * umount2 costs nothing and covers every other way it ended.
	 */
	if (v->mounted && (geteuid() == 0 || !WIFEXITED(v->status) || WEXITSTATUS(v->status) != 0))
		view_unmount(v);
	v->mounted = false;
	unlinkat(v->rundir_fd, "view", AT_REMOVEDIR);
	unlinkat(v->rundir_fd, "lock", 0);
	close(v->rundir_fd);
	v->rundir_fd = -1;
	close(v->lock_fd);
	v->lock_fd = -1;
	/* Fails, harmlessly, when something else was put there. */
	rmdir(v->rundir);
}
