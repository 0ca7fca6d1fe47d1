/* owner.h: the mount owner: it opens, the server reads; it forwards signals, waits, and removes the mount it made. */
#ifndef KVMLOAD_OWNER_H
#define KVMLOAD_OWNER_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

/* The process that mounted the view and forked the server. */
struct owner {
	pid_t server;
	const char *mnt;  /* absolute (mnt_abs_path) */
	int mnt_id;       /* the mount made, from mountinfo right after it */
	uint64_t mnt_unique; /* and its never-reused id, 0 where the kernel has none */
	sigset_t signals; /* blocked before the mount: SIGTERM, SIGINT, SIGHUP, SIGCHLD */
};

/* The signals owner_wait takes, to be blocked before the mount and the fork. */
void owner_signals(sigset_t *set);

/*
 * How a child that read the disks ended (status from waitpid): its exit
 * status, or for one killed by a signal 128 + the signal, said on stderr as
 * "WHO (pid PID) was killed by signal ..." and then tail.
 */
int owner_status(const char *who, pid_t pid, int status, const char *tail);

/*
 * Until the server ends: SIGTERM, SIGINT and SIGHUP go on to it; then the
 * mount goes (a lazy detach; fusermount3 when not root) if the topmost mount
 * at the mount point is still the one made.  The server's exit status, or
 * for a server killed by a signal (said on stderr) 128 + the signal.
 */
int owner_wait(const struct owner *ow);

#endif
