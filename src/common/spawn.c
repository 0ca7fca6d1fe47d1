/* spawn.c: starting a supervised child (fork, its first steps, exec, the failure reported back) and reaping it through its pidfd. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monotime.h"
#include "spawn.h"

/* What a failed child tells its parent on the report pipe (one write: atomic). */
struct spawn_report {
	int step;
	int err;
};

void spawn_default_signals(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &sa) == 0 &&
		    sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL)
			signal(sig, SIG_DFL);
	}
}

int spawn_deathsig(pid_t parent, int sig)
{
	if (prctl(PR_SET_PDEATHSIG, sig) < 0)
		return -errno;
	return getppid() == parent ? 0 : -ESRCH;
}

/* [lo, hi] closed, if not empty. */
static int spawn_close_range(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return 0;
	return syscall(SYS_close_range, lo, hi, 0) < 0 ? -errno : 0;
}

/*
 * want[k] at descriptor k for k < n (-1: k closed, SPAWN_FD_NULL: /dev/null),
 * *keep kept open too, and nothing else from n on.  Every source (and *keep)
 * is first copied to n or above, so no placement overwrites a source still
 * to be placed.  0, or -errno (*keep still names an open descriptor).
 */
static int spawn_place(const int *want, int n, int *keep)
{
	int hi[n > 0 ? n : 1], null = -1, moved, r;

	if (*keep >= 0 && *keep < n) {
		if ((moved = fcntl(*keep, F_DUPFD_CLOEXEC, n)) < 0)
			return -errno;
		*keep = moved;
	}
	for (int k = 0; k < n; k++) {
		int from = want[k];

		if (from == SPAWN_FD_NULL) {
			if (null < 0 && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
				return -errno;
			from = null;
		}
		hi[k] = from >= 0 ? fcntl(from, F_DUPFD_CLOEXEC, n) : -1;
		if (from >= 0 && hi[k] < 0)
			return -errno;
	}
	for (int k = 0; k < n; k++)
		if (hi[k] >= 0 ? dup2(hi[k], k) < 0 : (close(k), 0))
			return -errno;
	if (*keep < 0)
		return spawn_close_range((unsigned)n, ~0U);
	if ((r = spawn_close_range((unsigned)n, (unsigned)*keep - 1)) < 0)
		return r;
	return spawn_close_range((unsigned)*keep + 1, ~0U);
}

static _Noreturn void spawn_fail(int report, enum spawn_step step, int r)
{
	struct spawn_report m = { .step = step, .err = -r };

	/* Nothing more to do if the parent cannot hear it: it sees the 127 alone. */
	(void)!write(report, &m, sizeof(m));
	_exit(127);
}

/* The child: every step async-signal-safe; a failure is reported on report (close-on-exec) and ends it. */
static _Noreturn void spawn_in_child(const struct spawn_spec *s, pid_t parent, int report)
{
	sigset_t none;
	int r;

	if (s->own_pgrp && setpgid(0, 0) < 0)
		spawn_fail(report, SPAWN_PREPARE, -errno);
	if (s->deathsig && (r = spawn_deathsig(parent, s->deathsig)) < 0)
		spawn_fail(report, SPAWN_PREPARE, r);
	spawn_default_signals();
	if (!s->argv) {
		if ((r = spawn_place(s->fds, s->nfds, &report)) < 0)
			spawn_fail(report, SPAWN_PLACE, r);
		/* No exec to tell of: the report ends here, and in_child runs its own course. */
		close(report);
		s->in_child(s->arg);
		_exit(127);
	}
	if (s->in_child && (r = s->in_child(s->arg)) < 0)
		spawn_fail(report, SPAWN_IN_CHILD, r);
	/* in_child may have changed uid, which clears the parent-death signal. */
	if (s->in_child && s->deathsig && (r = spawn_deathsig(parent, s->deathsig)) < 0)
		spawn_fail(report, SPAWN_PREPARE, r);
	if ((r = spawn_place(s->fds, s->nfds, &report)) < 0)
		spawn_fail(report, SPAWN_PLACE, r);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, s->mask ? s->mask : &none, NULL);
	if (s->search)
		execvp(s->argv[0], s->argv);
	else
		execv(s->argv[0], s->argv);
	spawn_fail(report, SPAWN_EXEC, -errno);
}

/* The child's report: 0 once it exec'd (end of file), or the -errno of its failed step. */
static int spawn_heard(int report, struct spawn_proc *out)
{
	struct spawn_report m;
	ssize_t n;

	do
		n = read(report, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(m))
		return 0;
	out->failed = (enum spawn_step)m.step;
	return m.err > 0 ? -m.err : -EIO;
}

int spawn_child(const struct spawn_spec *s, struct spawn_proc *out)
{
	sigset_t all, old;
	pid_t parent = getpid();
	int report[2], r = 0;

	*out = (struct spawn_proc){ .pid = -1, .pidfd = -1, .failed = SPAWN_OK };
	if (pipe2(report, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	out->pid = fork();
	if (out->pid == 0) {
		close(report[0]);
		spawn_in_child(s, parent, report[1]);
	}
	if (out->pid < 0)
		r = -errno;
	/* While the signals are held, no handler has reaped it: the pidfd is surely its. */
	if (out->pid > 0 && (out->pidfd = (int)syscall(SYS_pidfd_open, out->pid, 0)) < 0) {
		r = -errno;
		kill(out->pid, SIGKILL);
		waitpid(out->pid, NULL, 0);
		out->pid = -1;
	}
	if (r == 0 && s->started)
		s->started(out, s->started_arg);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(report[1]);
	if (r == 0)
		r = spawn_heard(report[0], out);
	close(report[0]);
	return r;
}

int spawn_wait(const struct spawn_proc *p, int timeout_ms, int *status)
{
	struct pollfd pf = { .fd = p->pidfd, .events = POLLIN };
	siginfo_t info = { 0 };
	int r = monotime_poll(&pf, 1, timeout_ms);

	if (r < 0)
		return r;
	if (r == 0)
		return -ETIMEDOUT;
	while (waitid(P_PIDFD, (id_t)p->pidfd, &info, WEXITED) < 0)
		if (errno != EINTR)
			return -errno;
	if (status)
		*status = info.si_code == CLD_EXITED ? W_EXITCODE(info.si_status, 0) :
			  info.si_status | (info.si_code == CLD_DUMPED ? WCOREFLAG : 0);
	return 0;
}

void spawn_release(struct spawn_proc *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}
