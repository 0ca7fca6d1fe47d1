/* viewd.c: kvmload-fs as a supervised child, for kvmload's own view and kvmload-hotplug's. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "argv.h"
#include "log.h"
#include "monotime.h"
#include "rundir.h"
#include "spawn.h"
#include "viewd.h"

void viewd_init(struct viewd *d)
{
	memset(d, 0, sizeof(*d));
	d->pid = -1;
	d->proc = (struct spawn_proc){ .pid = -1, .pidfd = -1 };
}

int viewd_argv(const struct viewd_spec *s, struct argv *a)
{
	argv_add(a, s->prog);
	argv_add(a, "-f");
	if (s->user) {
		argv_add(a, "--user");
		argv_add(a, s->user);
	}
	argv_add(a, "--ready-fd");
	argv_add(a, "3");
	if (s->host) {
		argv_add(a, "--host");
		argv_add(a, s->host);
	}
	if (s->format && !s->disk_fds_raw) {
		argv_add(a, "--format");
		argv_add(a, s->format);
	}
	for (int i = 0; i < s->ndisks; i++) {
		if (s->disk_fds) {
			argv_add(a, s->disk_fds_raw ? "--raw-fd" : "--disk-fd");
			argv_addf(a, "%d:%s", VIEWD_FD_DISK0 + i, s->disks[i]);
		} else {
			argv_add(a, "--disk");
			argv_add(a, s->disks[i]);
		}
	}
	argv_add(a, s->mnt);
	return a->oom ? -ENOMEM : 0;
}

void viewd_reaped(struct viewd *d, int status)
{
	d->status = status;
	d->reaped = true;
}

/* The ready byte within timeout_ms: 0, -ETIMEDOUT, or -EIO (end of file: the daemon ended). */
static int viewd_ready(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char byte;
	int r = monotime_poll(&p, 1, timeout_ms);

	if (r <= 0)
		return r == 0 ? -ETIMEDOUT : r;
	do
		r = (int)read(fd, &byte, 1);
	while (r < 0 && errno == EINTR);
	return r == 1 ? 0 : -EIO;
}

/* The ready byte's pipe at 3, the disks' descriptors at 4 on (viewd_argv names them so), nothing else. */
static int viewd_fork(struct viewd *d, char **argv, int ready, const int *disk_fds, int ndisks)
{
	int want[VIEWD_FD_DISK0 + VIEWD_MAXDISKS] = { SPAWN_FD_NULL, SPAWN_FD_NULL, STDERR_FILENO, ready };
	struct spawn_spec spec = { .argv = argv, .fds = want, .nfds = VIEWD_FD_DISK0 + ndisks,
				   .deathsig = SIGTERM, .own_pgrp = true };
	int r;

	for (int i = 0; i < ndisks; i++)
		want[VIEWD_FD_DISK0 + i] = disk_fds[i];
	r = spawn_child(&spec, &d->proc);
	d->pid = d->proc.pid;
	/* A child that failed has ended: the ready pipe's end of file says so, as when the daemon fails. */
	if (r < 0 && d->pid > 0) {
		if (d->proc.failed == SPAWN_EXEC)
			fprintf(stderr, "%s: %s\n", log_esc(argv[0]), strerror(-r));
		r = 0;
	}
	return r;
}

int viewd_start(struct viewd *d, const struct viewd_spec *s, const sigset_t *wait_mask,
		int timeout_ms)
{
	struct argv a = { 0 };
	sigset_t held;
	int p[2], r, status = 0;

	if ((size_t)snprintf(d->mnt, sizeof(d->mnt), "%s", s->mnt) >= sizeof(d->mnt))
		return -ENAMETOOLONG;
	if (access(s->prog, X_OK) < 0)
		return -errno;
	if (s->ndisks > VIEWD_MAXDISKS)
		return -E2BIG;
	r = viewd_argv(s, &a);
	if (r == 0 && pipe2(p, O_CLOEXEC) < 0)
		r = -errno;
	if (r < 0) {
		argv_free(&a);
		return r;
	}
	r = viewd_fork(d, a.v, p[1], s->disk_fds, s->disk_fds ? s->ndisks : 0);
	close(p[1]);
	argv_free(&a);
	if (r == 0) {
		/* The only wait: a signal now may stop the child through the caller's handler. */
		sigprocmask(SIG_SETMASK, wait_mask, &held);
		r = viewd_ready(p[0], timeout_ms);
		sigprocmask(SIG_SETMASK, &held, NULL);
	}
	close(p[0]);
	if (r == -EIO && !d->reaped) {
		spawn_wait(&d->proc, -1, &status);
		viewd_reaped(d, status);
	}
	return r;
}

bool viewd_died(struct viewd *d)
{
	int status;

	if (d->pid <= 0 || d->reaped)
		return false;
	if (spawn_wait(&d->proc, 0, &status) < 0)
		return false;
	viewd_reaped(d, status);
	return true;
}

void viewd_how(const struct viewd *d, char *buf, size_t len)
{
	if (WIFEXITED(d->status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(d->status));
	else
		snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(d->status),
			 strsignal(WTERMSIG(d->status)));
}

/* SIGTERM, then SIGKILL after wait_ms; true when SIGKILL was needed. */
static bool viewd_reap(struct viewd *d, int wait_ms)
{
	bool killed = false;
	int status = 0, r;

	syscall(SYS_pidfd_send_signal, d->proc.pidfd, SIGTERM, NULL, 0);
	r = spawn_wait(&d->proc, wait_ms, &status);
	if (r == -ETIMEDOUT) {
		syscall(SYS_pidfd_send_signal, d->proc.pidfd, SIGKILL, NULL, 0);
		killed = true;
		r = spawn_wait(&d->proc, -1, &status);
	}
	/* A status we could not read is no clean exit: the mount is detached whoever we are. */
	if (r < 0)
		status = W_EXITCODE(127, 0);
	viewd_reaped(d, status);
	return killed;
}

int viewd_stop(struct viewd *d, int wait_ms, bool detach)
{
	bool killed = false;
	int r = 0;

	if (d->pid <= 0)
		return 0;
	if (!d->reaped)
		killed = viewd_reap(d, wait_ms);
	if (detach && (geteuid() == 0 || !WIFEXITED(d->status) || WEXITSTATUS(d->status) != 0))
		r = rundir_unmount(d->mnt);
	spawn_release(&d->proc);
	d->pid = -1;
	d->reaped = false;
	return r < 0 ? r : killed;
}
