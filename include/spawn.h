/* spawn.h: the one way kvmload's programs start a supervised child (the view daemon, QEMU, the guest's kvmload, the image exporter) and reap it. */
#ifndef KVMLOAD_SPAWN_H
#define KVMLOAD_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#define SPAWN_FD_NULL (-2) /* in spawn_spec.fds: /dev/null at that number */

struct spawn_proc;

/* What a child is started with; every pointer is read only until spawn_child returns. */
struct spawn_spec {
	char *const *argv;     /* what it runs; NULL: in_child is the child's whole life and never returns */
	bool search;           /* argv[0] looked for in $PATH (execvp), else run as named (execv) */
	const int *fds;        /* fds[k] at k for k < nfds (-1: k closed, SPAWN_FD_NULL), nothing else open */
	int nfds;
	int deathsig;          /* sent when the parent dies: checked against a parent already gone, armed again after in_child */
	bool own_pgrp;         /* its own process group (a terminal's ^C is the parent's to handle) */
	const sigset_t *mask;  /* its signal mask at exec; NULL: empty */
	/*
	 * In the child after the common steps, before its descriptors are placed
	 * (async-signal-safe): 0 or -errno.  With argv NULL, after they are
	 * placed, with every signal still held (it sets its own dispositions,
	 * then its mask), and it never returns.
	 */
	int (*in_child)(void *arg);
	void *arg;
	/*
	 * In the parent, with every signal still held, as soon as the child and
	 * its pidfd exist (before its exec is waited for): where a signal
	 * handler must find it (QEMU's, which the clean-up kills).  May be NULL.
	 */
	void (*started)(const struct spawn_proc *p, void *arg);
	void *started_arg;
};

/* Which step of the child failed (spawn_proc.failed). */
enum spawn_step { SPAWN_OK, SPAWN_PREPARE, SPAWN_IN_CHILD, SPAWN_PLACE, SPAWN_EXEC };

/* A started child; pidfd pins it, so a signal or a reap through it never reaches a recycled pid. */
struct spawn_proc {
	pid_t pid;             /* -1 when none */
	int pidfd;
	enum spawn_step failed;
};

/*
 * fork with every signal held (so no parent handler runs in the child, and
 * none reaps it before its pidfd is open), then in the child: its own
 * process group, deathsig, the parent's handlers back to their defaults
 * (ignored signals stay ignored), in_child, the descriptors placed, the
 * mask, exec.  Returns once the child's close-on-exec report pipe is
 * closed: it has exec'd, or failed a step and said which, or died first
 * (then 0 too: its status tells); with argv NULL, once its descriptors are
 * placed.  0; -errno of the step that failed in the child (out->failed; the
 * child has exited 127 and is the caller's to reap, through out as ever);
 * or -errno before any child (out->pid -1).
 */
int spawn_child(const struct spawn_spec *spec, struct spawn_proc *out);

/*
 * Async-signal-safe: wait up to timeout_ms (-1: no limit, 0: a look) for the
 * child to end, and reap it through its pidfd; *status (may be NULL) as
 * waitpid gives it.  0, -ETIMEDOUT, or -ECHILD (already reaped elsewhere).
 */
int spawn_wait(const struct spawn_proc *p, int timeout_ms, int *status);

/* Closes the pidfd (once reaped, or to leave the child to someone else's waitpid). */
void spawn_release(struct spawn_proc *p);

/*
 * In a child (async-signal-safe): sig when the parent dies, then the parent
 * checked to be there still (it may have died before this).  A change of
 * uid clears it: call it again after one.  0, -errno (prctl), or -ESRCH
 * (the parent is gone).
 */
int spawn_deathsig(pid_t parent, int sig);

/*
 * In a freshly forked child (async-signal-safe): every handler the parent
 * installed back to its default (they clean up the parent's files and must
 * never run there); ignored signals stay ignored.  spawn_child does it too.
 */
void spawn_default_signals(void);

#endif
