/* guest_stop.c: stopping a VM's children (kvmload, then kvmload-fs) and tearing its runtime directory down from the records alone. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest_int.h"
#include "log.h"
#include "stop.h"

/* SIGTERM to SIGKILL: kvmload's SIGTERM is a power-down with its own wait (stop.h). */
int guest_stop_seconds(const struct hotplug *h)
{
	return h->stop_timeout < STOP_LOADER_S ? STOP_LOADER_S : h->stop_timeout;
}

/* SIGTERM to the guest's kvmload, then SIGKILL; returns once it has exited. */
static void guest_stop_pidfd(const struct hotplug *h, const char *vm, int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int seconds = guest_stop_seconds(h);

	if (syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0) < 0 && errno == ESRCH)
		return;
	if (poll(&p, 1, seconds * 1000) > 0)
		return;
	log_warnx("vm %s: the guest did not stop within %d s; killing it", vm, seconds);
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	if (poll(&p, 1, STOP_KILLED_S * 1000) <= 0)
		log_warnx("vm %s: the guest survived SIGKILL", vm);
}

/* Stop and reap our own kvmload child. */
void guest_stop_loader(const struct hotplug *h, const char *vm, pid_t *pid)
{
	int fd;

	if (*pid <= 0)
		return;
	fd = (int)syscall(SYS_pidfd_open, *pid, 0);
	if (fd >= 0) {
		guest_stop_pidfd(h, vm, fd);
		close(fd);
	}
	while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
		;
	*pid = -1;
}

/*
 * Stop our own view daemon; viewd detaches its mount only while we hold the
 * VM (detach): once a remove took it, the mount point may be the next
 * holder's.  0 or -errno (logged).
 */
int guest_stop_fs(const struct hotplug *h, const char *vm, struct viewd *fs, bool detach)
{
	int r = viewd_stop(fs, h->stop_timeout * 1000, detach);

	if (r == 1)
		log_warnx("vm %s: the view daemon did not stop within %d s; killed it", vm,
			  h->stop_timeout);
	else if (r < 0)
		log_warnx("vm %s: unmounting the view: %s", vm, strerror(-r));
	return r < 0 ? r : 0;
}

/*
 * Teardown from the records alone, by whichever process (a remove, or an add
 * finding what an ended supervisor left); the VM lock is held.  The guest
 * first, then the view by rundir's rule, then the directory.
 */
int guest_teardown(const struct hotplug *h, const char *vm)
{
	int fd = rundir_pidfd(h->run_dir, vm, STATE_GUEST), r;
	pid_t fs = -1;

	if (fd >= 0) {
		guest_stop_pidfd(h, vm, fd);
		close(fd);
	}
	r = rundir_clear_view(h->run_dir, vm, h->stop_timeout * 1000, &fs);
	if (r == -EBUSY)
		log_warnx("vm %s: its view is still served by kvmload-fs (pid %ld), which does not stop;"
			  " leaving %s/%s", vm, (long)fs, h->run_dir, vm);
	if (r == 0)
		r = state_clear(h->run_dir, vm);
	if (r < 0 && r != -EBUSY)
		log_warnx("vm %s: removing %s/%s: %s", vm, h->run_dir, vm, strerror(-r));
	return r;
}
