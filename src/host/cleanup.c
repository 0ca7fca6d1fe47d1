/* cleanup.c: kvmload's ways out (atexit, the signals that end it, the view daemon's death) and the terminal's stops. */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "cleanup.h"
#include "disk.h"

/* The clean-up of this process: handlers and atexit get no context argument. */
static struct cleanup *cleanup_ctx;

void cleanup_console(struct cleanup *c)
{
	if (c->cons)
		console_restore(c->cons);
}

/* Async-signal-safe: the plugin's process goes first, so nothing reads the view as it goes away. */
static void cleanup_kill_child(struct cleanup *c)
{
	pid_t pid = c->child;

	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	c->child = -1;
}

/* Async-signal-safe: the view, then the claim, whose holder file goes last. */
static void cleanup_drop(struct cleanup *c)
{
	view_down(&c->view);
	claim_drop(&c->claim);
}

/* Outside handlers: every ending signal held (the old mask in *old, may be NULL) and the SIGCHLD watch off (our SIGTERM is no death). */
static void cleanup_hold(sigset_t *old)
{
	sigset_t block;

	claim_sigset(&block);
	sigprocmask(SIG_BLOCK, &block, old);
	signal(SIGCHLD, SIG_DFL);
}

/* Async-signal-safe: what every ending signal undoes. */
static void cleanup_undo(struct cleanup *c)
{
	cleanup_kill_child(c);
	qemu_kill(*c->qemu);
	cleanup_console(c);
	cleanup_drop(c);
}

/* End by sig, held until now (in its handler, or by cleanup_die_by): it ends the process as it is let through. */
static void cleanup_raise(int sig)
{
	sigset_t own;

	signal(sig, SIG_DFL);
	raise(sig);
	sigemptyset(&own);
	sigaddset(&own, sig);
	sigprocmask(SIG_UNBLOCK, &own, NULL);
}

void cleanup_on_signal(int sig)
{
	cleanup_undo(cleanup_ctx);
	cleanup_raise(sig);
}

void cleanup_die_by(struct cleanup *c, int sig)
{
	cleanup_hold(NULL);
	cleanup_undo(c);
	cleanup_raise(sig);
	_exit(128 + sig); /* a signal whose default is not to end the process */
}

/* The view daemon died under the loader: its files now fail with ENOTCONN. */
static void cleanup_on_sigchld(int sig)
{
	struct cleanup *c = cleanup_ctx;

	(void)sig;
	if (!view_child_died(&c->view))
		return;
	cleanup_kill_child(c);
	qemu_kill(*c->qemu);
	cleanup_console(c);
	view_report_death(&c->view);
	cleanup_drop(c);
	_exit(CLEANUP_EX_VIEW);
}

/*
 * ^Z, or the terminal read or written from the background: the terminal
 * goes back to its own settings, then the process stops as it would by
 * default (the plugin's process, in our process group, is stopped by the
 * kernel with us).  Continued, it is raw again.  In an orphaned process
 * group the kernel drops the stop and raise returns at once: raw again too.
 */
static void cleanup_on_stop(int sig)
{
	struct cleanup *c = cleanup_ctx;
	int e = errno;
	sigset_t one;

	if (c->cons)
		console_suspend(c->cons);
	signal(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	raise(sig);
	sigaction(sig, &c->stop_sa, NULL);
	if (c->cons)
		console_resume(c->cons);
	errno = e;
}

/* Continued after a stop we did not see (SIGSTOP): raw again. */
static void cleanup_on_cont(int sig)
{
	struct cleanup *c = cleanup_ctx;
	int e = errno;

	(void)sig;
	if (c->cons)
		console_resume(c->cons);
	errno = e;
}

/* Every handler blocks the others, and the normal path blocks them all before it cleans up (cleanup_held, cleanup_at_exit, cleanup_die_by), so no two clean-ups ever run at once. */
static void cleanup_handle(struct cleanup *c, int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	claim_sigset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTSTP);
	sigaddset(&sa.sa_mask, SIGTTIN);
	sigaddset(&sa.sa_mask, SIGTTOU);
	sigaddset(&sa.sa_mask, SIGCONT);
	if (sigaction(sig, &sa, NULL) < 0)
		err(EX_OSERR, "sigaction");
	if (fn == cleanup_on_stop)
		c->stop_sa = sa;
}

/* The stop signals, unless ignored from the start (a shell without job control). */
static void cleanup_job_control(struct cleanup *c)
{
	static const int stops[] = { SIGTSTP, SIGTTIN, SIGTTOU };
	struct sigaction old;

	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		if (sigaction(stops[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			cleanup_handle(c, stops[i], cleanup_on_stop, SA_RESTART);
	cleanup_handle(c, SIGCONT, cleanup_on_cont, SA_RESTART);
}

/* fn outside handlers, held as cleanup_hold holds, then the mask as it was. */
static void cleanup_held(struct cleanup *c, void (*fn)(struct cleanup *))
{
	sigset_t old;

	cleanup_hold(&old);
	fn(c);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void cleanup_down(struct cleanup *c)
{
	view_down(&c->view);
}

void cleanup_view_down(struct cleanup *c)
{
	cleanup_held(c, cleanup_down);
}

static void cleanup_at_exit(void)
{
	struct cleanup *c = cleanup_ctx;

	/* No handler's clean-up runs in the middle of this one: the process ends after it anyway. */
	cleanup_hold(NULL);
	cleanup_kill_child(c);
	/* A load that failed leaves no QEMU behind, not even for its parent-death signal. */
	qemu_kill(*c->qemu);
	/* Its last bytes reach the terminal before the terminal is given back. */
	consrv_stop(&c->consrv);
	cleanup_console(c);
	cleanup_drop(c);
	/* After the view, which reads them; not left to their parent-death signal, which comes late. */
	for (int i = 0; c->loader && i < c->loader->ndisks; i++)
		disk_export_stop(&c->loader->disks[i].info);
}

void cleanup_install(struct cleanup *c)
{
	consrv_init(&c->consrv);
	view_init(&c->view);
	claim_init(&c->claim);
	cleanup_ctx = c;
	atexit(cleanup_at_exit);
	cleanup_handle(c, SIGINT, cleanup_on_signal, 0);
	cleanup_handle(c, SIGTERM, cleanup_on_signal, 0);
	cleanup_handle(c, SIGHUP, cleanup_on_signal, 0);
	cleanup_handle(c, SIGQUIT, cleanup_on_signal, 0);
	cleanup_job_control(c);
	/* An inherited SIG_IGN would have the kernel reap the view daemon before we can. */
	signal(SIGCHLD, SIG_DFL);
}

void cleanup_watch_view(struct cleanup *c)
{
	cleanup_handle(c, SIGCHLD, cleanup_on_sigchld, SA_NOCLDSTOP | SA_RESTART);
	/* A daemon that died before the watch was there left no SIGCHLD for it: look once. */
	raise(SIGCHLD);
}
