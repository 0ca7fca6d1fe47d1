/* plugin_child.c: the plugin's child process (sandbox, loader_main, result on a pipe) and the parent's wait for it, up to a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cb.h"
#include "plugin_child.h"
#include "spawn.h"
#include "log.h"
#include "monotime.h"

/* The child's status when it could not set the sandbox up (it says why itself). */
#define CHILD_EX_SETUP 71

static void child_send(int fd, const struct sandbox_msg *m)
{
	const char *p = (const char *)m;
	size_t done = 0;

	while (done < sizeof(*m)) {
		ssize_t n = write(fd, p + done, sizeof(*m) - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the parent is gone: nobody to tell */
		done += (size_t)n;
	}
}

static _Noreturn void child_main(struct loader *l, struct plugin *p, const char *path,
				 const struct sandbox *sb, int wfd, pid_t parent, const sigset_t *mask)
{
	int keep[7 + LOADER_NDISKS], nkeep = 0;
	void *table[CB_TABLE_MAX];
	struct sandbox_msg m;
	enum loader_leave leave;
	char err[256];

	/* Inherited handlers belong to the parent (they stop the view): the child dies plainly. */
	spawn_default_signals();
	sigprocmask(SIG_SETMASK, mask, NULL);
	/* Should kvmload die without cleaning up, the plugin goes with it. */
	if (spawn_deathsig(parent, SIGKILL) < 0)
		_exit(CHILD_EX_SETUP);
	prctl(PR_SET_NAME, "kvmload-plugin", 0, 0, 0);
	/* 0-2 stay so that a file the plugin opens never lands on them. */
	keep[nkeep++] = STDIN_FILENO;
	keep[nkeep++] = STDOUT_FILENO;
	keep[nkeep++] = STDERR_FILENO;
	keep[nkeep++] = l->cons.in_fd;
	keep[nkeep++] = l->cons.out_fd;
	for (int i = 0; i < l->ndisks; i++)
		keep[nkeep++] = l->disks[i].fd;
	keep[nkeep++] = l->host_fd;
	keep[nkeep++] = wfd;
	if (sandbox_enter(sb, keep, nkeep, l->host_fd, err, sizeof(err)) < 0) {
		log_warnx("%s: %s", log_esc(path), log_esc(err));
		_exit(CHILD_EX_SETUP);
	}
	cb_table_build(table, &p->gen);
	memset(&l->regs, 0, sizeof(l->regs));
	l->leave = LEAVE_NONE;
	leave = LEAVE_ERROR;
	if (plugin_run(p, table, l, l->ndisks, &l->recover) == 0)
		log_warnx("%s: loader_main returned without booting", log_esc(path));
	else if (l->leave == LEAVE_NONE)
		log_warnx("%s: %s", log_esc(path), plugin_fault() ? plugin_fault() : "left the loader");
	else
		leave = l->leave;
	sandbox_msg_pack(&m, leave, l->exit_value, l->swap_interp, &l->regs, &l->written);
	child_send(wfd, &m);
	_exit(0);
}

/* Milliseconds until deadline (monotime_ms; < 0: none) for poll: -1 without one, 0 once it has passed. */
static int parent_left_ms(int64_t deadline)
{
	int64_t ms;

	if (deadline < 0)
		return -1;
	ms = deadline - monotime_ms();
	return ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * 0 once fd is readable (or hung up), -ETIMEDOUT when the deadline comes
 * first, -ECANCELED when the watch said to stop; meanwhile the watch is
 * served.
 */
static int parent_ready(int fd, int64_t deadline, const struct plugin_watch *w)
{
	struct pollfd p[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = w ? w->fd : -1, .events = POLLIN },
	};

	for (;;) {
		int n = monotime_poll(p, 2, parent_left_ms(deadline));

		if (n < 0)
			return n;
		if (n == 0)
			return -ETIMEDOUT;
		if (p[1].revents && w->fn(w->arg) < 0)
			return -ECANCELED;
		if (p[0].revents)
			return 0;
	}
}

/* Everything the child wrote, up to one byte more than a result (enough to tell "too long"). */
static int parent_read(int fd, int64_t deadline, const struct plugin_watch *w,
		       struct sandbox_msg *m, size_t *got)
{
	char buf[sizeof(*m) + 1];
	int r;

	*got = 0;
	for (;;) {
		ssize_t n;

		r = parent_ready(fd, deadline, w);
		if (r < 0)
			return r;
		n = read(fd, buf + *got, sizeof(buf) - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0 || (*got += (size_t)n) == sizeof(buf))
			break;
	}
	memcpy(m, buf, *got < sizeof(*m) ? *got : sizeof(*m));
	return 0;
}

/*
 * The child's result, then its end, both by the deadline: a plugin may
 * close the pipe and go on running.  Past it, the child is killed.  Either
 * way it is reaped here.
 */
static int parent_wait(pid_t child, int rfd, int pidfd, int64_t deadline,
		       const struct plugin_watch *w, struct sandbox_msg *m, size_t *got, int *status)
{
	int r = parent_read(rfd, deadline, w, m, got);

	if (r == 0)
		r = parent_ready(pidfd, deadline, w);
	if (r == -ETIMEDOUT || r == -ECANCELED)
		kill(child, SIGKILL);
	while (waitpid(child, status, 0) < 0 && errno == EINTR)
		;
	return r;
}

/* How the child ended, when that was not a plain exit 0; false if it was. */
static bool parent_death(int status, const char *path, const struct sandbox *sb, size_t got,
			 char *err, size_t errlen)
{
	int sig;

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return false;
	if (WIFEXITED(status)) {
		snprintf(err, errlen, "%s: plugin process exited with status %d%s", path,
			 WEXITSTATUS(status), got ? "" : " without a result");
		return true;
	}
	sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	if (sig == SIGSYS && sb->enabled)
		snprintf(err, errlen, "%s: plugin killed by the sandbox (SIGSYS): it made a system call "
			 "outside the allowlist", path);
	else
		snprintf(err, errlen, "%s: plugin process killed by signal %d (SIG%s)", path, sig,
			 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	return true;
}

int plugin_child_run(struct loader *l, struct plugin *p, const char *path, const struct sandbox *sb,
		     int64_t deadline, const struct plugin_watch *watch, volatile pid_t *pid,
		     struct sandbox_result *res, char *err, size_t errlen)
{
	sigset_t all, old;
	struct sandbox_msg m;
	char why[256];
	pid_t child, parent = getpid();
	size_t got;
	int fds[2], status, pidfd = -1, r;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "%s: pipe: %s", path, strerror(errno));
		return -errno;
	}
	/* Held until *pid is set, so a handler that kills the child never misses it. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	child = fork();
	if (child == 0) {
		close(fds[0]);
		child_main(l, p, path, sb, fds[1], parent, &old);
	}
	r = child < 0 ? -errno : 0;
	/* While the signals are held, no handler has reaped the child: the pidfd is surely its. */
	if (r == 0) {
		pidfd = (int)syscall(SYS_pidfd_open, child, 0);
		r = pidfd < 0 ? -errno : 0;
		if (r < 0) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
		}
	}
	*pid = r < 0 ? -1 : child;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	if (r < 0) {
		close(fds[0]);
		snprintf(err, errlen, "%s: %s: %s", path, child < 0 ? "fork" : "pidfd_open", strerror(-r));
		return r;
	}
	r = parent_wait(child, fds[0], pidfd, deadline, watch, &m, &got, &status);
	close(fds[0]);
	close(pidfd);
	*pid = -1;
	if (r == -ETIMEDOUT) {
		snprintf(err, errlen, "%s: the plugin did not finish by its deadline; killed it", path);
		return r;
	}
	if (r == -ECANCELED) {
		snprintf(err, errlen, "%s: stopped the plugin (its watch said to)", path);
		return r;
	}
	if (r < 0) {
		snprintf(err, errlen, "%s: reading the plugin's result: %s", path, strerror(-r));
		return r;
	}
	if (parent_death(status, path, sb, got, err, errlen))
		return -ECHILD;
	if (got == 0) {
		snprintf(err, errlen, "%s: plugin process ended without a result", path);
		return -ECHILD;
	}
	if (got != sizeof(m)) {
		snprintf(err, errlen, "%s: plugin process sent %s result (%s%zu bytes, a result is %zu); "
			 "refusing it", path, got < sizeof(m) ? "a short" : "an overlong",
			 got < sizeof(m) ? "" : "over ", got < sizeof(m) ? got : sizeof(m), sizeof(m));
		return -EPROTO;
	}
	if (sandbox_msg_check(&m, got, &l->gmem, res, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: plugin process sent an invalid result: %s; refusing it", path, why);
		return -EPROTO;
	}
	return 0;
}
