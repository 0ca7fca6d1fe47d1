/* plugin_child.c: the plugin's child process (sandbox, loader_main, result on a pipe) and the parent's wait for it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cb.h"
#include "plugin_child.h"
#include "spawn.h"
#include "log.h"

/* The child's status when it could not set the sandbox up (it says why itself). */
#define CHILD_EX_SETUP 71

/* Inherited handlers belong to the parent (they stop the view): the child dies plainly. */
static void child_default_signals(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;

		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &old) < 0)
			continue;
		if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)
			signal(sig, SIG_DFL);
	}
}

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

	child_default_signals();
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

/* Everything the child wrote, up to one byte more than a result (enough to tell "too long"). */
static int parent_read(int fd, struct sandbox_msg *m, size_t *got)
{
	char buf[sizeof(*m) + 1];

	*got = 0;
	for (;;) {
		ssize_t n = read(fd, buf + *got, sizeof(buf) - *got);

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
		     volatile pid_t *pid, struct sandbox_result *res, char *err, size_t errlen)
{
	sigset_t all, old;
	struct sandbox_msg m;
	char why[256];
	pid_t child, parent = getpid();
	size_t got;
	int fds[2], status, r;

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
	*pid = child;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	if (r < 0) {
		close(fds[0]);
		*pid = -1;
		snprintf(err, errlen, "%s: fork: %s", path, strerror(-r));
		return r;
	}
	r = parent_read(fds[0], &m, &got);
	close(fds[0]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	*pid = -1;
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
