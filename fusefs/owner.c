/* owner.c: the mount owner: it opens, the server reads; it forwards signals, waits, and removes the mount it made. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "log.h"
#include "mnt.h"
#include "owner.h"
#include "rundir.h"

void owner_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
}

/*
 * Only the mount we made: someone may have unmounted it (the server then
 * exits 0) and mounted something else there since, which is not ours to
 * take, and which may have been given our mount's freed mountinfo id
 * (another kvmload-fs on the same point, say): the never-reused id decides
 * where the kernel has one.
 */
static void owner_unmount(const struct owner *ow)
{
	struct mnt_top top;
	int r = mnt_top(ow->mnt, &top);

	if (r < 0)
		log_warnx("%s: cannot read the mount table (%s); leaving the mount point as it is", log_esc(ow->mnt),
			  strerror(-r));
	else if (r == 1 && top.id == ow->mnt_id && top.unique == ow->mnt_unique && (r = rundir_unmount(ow->mnt)) < 0)
		log_warnx("%s: cannot unmount: %s", log_esc(ow->mnt), strerror(-r));
}

int owner_status(const char *who, pid_t pid, int status, const char *tail)
{
	if (!WIFSIGNALED(status))
		return WEXITSTATUS(status);
	log_warnx("%s (pid %d) was killed by signal %d (%s)%s%s", who, (int)pid, WTERMSIG(status),
		  strsignal(WTERMSIG(status)),
		  WTERMSIG(status) == SIGSYS ? ": a system call outside its seccomp allowlist" : "", tail);
	return 128 + WTERMSIG(status);
}

int owner_wait(const struct owner *ow)
{
	char tail[PATH_MAX + 32];
	int status = 0;

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&ow->signals, &si);

		if (sig == SIGCHLD) {
			/* The image exporter is our child too: only the server's end counts. */
			if (waitpid(ow->server, &status, WNOHANG) == ow->server)
				break;
		} else if (sig > 0) {
			kill(ow->server, sig);
		} else if (errno != EINTR) {
			log_warn("sigwaitinfo");
			kill(ow->server, SIGKILL);
			while (waitpid(ow->server, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
	}
	snprintf(tail, sizeof(tail), "; unmounting %s", log_esc(ow->mnt));
	status = owner_status("the server", ow->server, status, tail);
	owner_unmount(ow);
	return status;
}
