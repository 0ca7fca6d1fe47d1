/* spawn.c: what a supervised child does between fork and exec. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spawn.h"

void spawn_default_signals(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &sa) == 0 &&
		    sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL)
			signal(sig, SIG_DFL);
	}
}

int spawn_prepare(pid_t parent, int deathsig)
{
	sigset_t none;
	int null;

	setpgid(0, 0);
	if (spawn_deathsig(parent, deathsig) < 0)
		return -1;
	spawn_default_signals();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
		return -1;
	return 0;
}

int spawn_place(const int *want, int n)
{
	int hi[n > 0 ? n : 1];

	for (int k = 0; k < n; k++) {
		hi[k] = want[k] >= 0 ? fcntl(want[k], F_DUPFD_CLOEXEC, n) : -1;
		if (want[k] >= 0 && hi[k] < 0)
			return -1;
	}
	for (int k = 0; k < n; k++)
		if (hi[k] >= 0 ? dup2(hi[k], k) < 0 : (close(k), 0))
			return -1;
	return syscall(SYS_close_range, (unsigned)n, ~0U, 0) < 0 ? -1 : 0;
}

int spawn_deathsig(pid_t parent, int sig)
{
	if (prctl(PR_SET_PDEATHSIG, sig) < 0)
		return -errno;
	return getppid() == parent ? 0 : -ESRCH;
}
