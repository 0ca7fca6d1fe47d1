/* guest.c: the entry points on one VM: add (start and supervise its guest), remove, find. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confine.h"
#include "guest_int.h"
#include "log.h"

/*
 * What holds vm now, under its lock: 0 when nothing does (or only what an
 * ended holder left, cleared now), 1 when its supervisor runs already, or
 * -errno (logged; -EBUSY: someone else holds it).
 */
static int guest_add_holder(struct hotplug *h, const struct conf_vm *vm, const struct dev *d)
{
	struct rundir_holder who;
	struct state_rec last;
	int r;

	if (!state_exists(h->run_dir, vm->name))
		return 0;
	r = rundir_holder(h->run_dir, vm->name, &who);
	if (r < 0) {
		log_warnx("vm %s: who holds it: %s/%s/%s: %s; not starting", vm->name, h->run_dir,
			  vm->name, RUNDIR_HOLDER, strerror(-r));
		return r;
	}
	if (r == 1 && strcmp(who.prog, STATE_PROG) == 0) {
		log_info("vm %s: already running; nothing to do for %s", vm->name, d->node);
		return 1;
	}
	if (r == 1) {
		/* A kvmload started by hand, say: its view and its guest are not ours to touch. */
		log_warnx("vm %s: held by %s (pid %ld); not starting it for %s", vm->name,
			  log_esc(who.prog), (long)who.pid, d->node);
		return -EBUSY;
	}
	if (state_get(h->run_dir, vm->name, &last) == 0 && last.kind == STATE_STOPPED)
		log_info("vm %s: its last guest ended; starting a new one", vm->name);
	else
		log_info("vm %s: clearing what an ended holder left in %s", vm->name, h->run_dir);
	return guest_teardown(h, vm->name);
}

/* The event may be old: start only for the device that is there now (false: logged). */
static bool guest_add_present(const struct conf_vm *vm, const struct dev *d)
{
	struct stat st;

	if (stat(d->node, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != d->devnum || !d->disknode) {
		log_warnx("vm %s: %s is gone; not starting", vm->name, d->node);
		return false;
	}
	return true;
}

int guest_signalfd(sigset_t *old)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, old);
	fd = signalfd(-1, &mask, SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The supervisor's signals, blocked (the old mask kept for its children) and read from s->sfd.  0 or -errno. */
static int guest_add_signals(struct guest_sup *s)
{
	s->sfd = guest_signalfd(&s->oldmask);
	return s->sfd < 0 ? s->sfd : 0;
}

/*
 * Claim the VM, find its disks and start its guest; the VM lock *lock_fd is
 * held (guest_find_disks may take it anew).  What failed is logged and what
 * started is stopped again.  0 or -errno.
 */
static int guest_add_start(struct guest_sup *s, int *lock_fd)
{
	int r = guest_add_signals(s);

	if (r == 0)
		r = guest_claim(s);
	if (r == 0)
		r = guest_find_disks(s, lock_fd);
	if (r == 0)
		r = guest_start(s);
	/*
	 * The pool's wait and the disk check logged why; a signal or a remove while it waited is
	 * a stop, not a failure.
	 */
	if (r < 0 && r != -ETIMEDOUT && r != -EINTR && r != -ECANCELED && r != -EEXIST &&
	    r != -E2BIG && r != -ENOSPC && r != -ENOMEDIUM && r != -ENOTTY)
		log_warnx("vm %s: not started: %s", s->vm->name, strerror(-r));
	if (r < 0 && s->claim_fd >= 0 && *lock_fd >= 0)
		guest_sup_teardown(s);
	return r;
}

/* Whatever the supervisor still has open, closed; its children are gone by now. */
static void guest_add_free(struct guest_sup *s)
{
	consrv_stop(&s->cons);
	argv_free(&s->loader);
	guest_images_close(&s->disks, s->images);
	guest_disks_free(&s->disks);
	guest_release_close(s);
	if (s->claim_fd >= 0)
		close(s->claim_fd);
	if (s->sfd >= 0)
		close(s->sfd);
	sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
}

int guest_add(struct hotplug *h, const struct conf_vm *vm, const struct dev *d, int lock_fd)
{
	struct guest_sup s = { .h = h, .vm = vm, .d = d, .sfd = -1, .claim_fd = -1,
			       .release_fd = -1, .guest = -1, .cons = { .pid = -1, .ctl = -1 } };
	struct confine_user user;
	char why[256];
	int r;

	/* Who its view and QEMU would run as: a user the host lacks starts nothing (as kvmload refuses). */
	r = confine_user(vm->user, &user, why, sizeof(why));
	if (r < 0) {
		log_warnx("vm %s: %s; not starting", vm->name, why);
		return -ENOENT;
	}
	if (lock_fd < 0)
		lock_fd = rundir_lock(h->run_dir, vm->name);
	if (lock_fd < 0) {
		log_warnx("vm %s: lock in %s: %s", vm->name, h->run_dir, strerror(-lock_fd));
		return lock_fd;
	}
	viewd_init(&s.fs);
	for (int i = 0; i < VIEWD_MAXDISKS; i++)
		s.images[i] = -1;
	r = guest_add_holder(h, vm, d);
	if (r == 0 && !guest_add_present(vm, d))
		r = 1;
	if (r != 0) {
		rundir_unlock(h->run_dir, vm->name, lock_fd);
		return r < 0 ? r : 0;
	}
	r = guest_add_start(&s, &lock_fd);
	if (lock_fd >= 0)
		rundir_unlock(h->run_dir, vm->name, lock_fd);
	if (r == 0) {
		guest_supervise(&s);
		r = s.failed;
	} else if (r == -EINTR || r == -ECANCELED) {
		r = 0;
	}
	guest_add_free(&s);
	return r;
}

static int guest_remove_locked(struct hotplug *h, const char *vm)
{
	struct rundir_holder who;
	int r = 0;

	if (state_exists(h->run_dir, vm)) {
		/* Only a live one: between runs (a back-off wait) the record names a kvmload that ended. */
		int fd = rundir_pidfd(h->run_dir, vm, STATE_GUEST);
		pid_t pid = fd >= 0 ? rundir_read_pid(h->run_dir, vm, STATE_GUEST) : -1;

		if (fd >= 0)
			close(fd);

		/* A retired VM taken since by a kvmload started by hand: its records are not ours. */
		r = rundir_holder(h->run_dir, vm, &who);
		if (r != 0 && (r < 0 || strcmp(who.prog, STATE_PROG) != 0)) {
			if (r > 0)
				log_info("vm %s: held by %s (pid %ld), not by a supervisor; left alone",
					 vm, log_esc(who.prog), (long)who.pid);
			return r < 0 ? r : 0;
		}

		if (pid > 0)
			log_info("vm %s: stopping the guest (kvmload pid %d)", vm, (int)pid);
		r = guest_teardown(h, vm);
		if (r == 0)
			log_info(pid > 0 ? "vm %s: stopped; view unmounted, %s/%s removed"
					 : "vm %s: the disk went; %s/%s removed", vm, h->run_dir, vm);
	}
	return r;
}

struct guest_node_arg {
	struct hotplug *h;
	const char *node;
	bool also_disk;
	int r;
};

/* Under the VM's lock, so a guest being set up for node is waited for, not missed. */
static int guest_remove_one(const char *vm, void *arg)
{
	struct guest_node_arg *a = arg;
	char node[4096], disk[4096];
	int lock = rundir_lock(a->h->run_dir, vm), found = 0;

	if (lock < 0)
		return 0;
	if (state_device(a->h->run_dir, vm, node, sizeof(node), disk, sizeof(disk)) == 0 &&
	    (strcmp(node, a->node) == 0 || (a->also_disk && strcmp(disk, a->node) == 0))) {
		found = 1;
		a->r = guest_remove_locked(a->h, vm);
	}
	rundir_unlock(a->h->run_dir, vm, lock);
	return found;
}

int guest_remove_node(struct hotplug *h, const char *node, bool also_disk)
{
	struct guest_node_arg a = { h, node, also_disk, 0 };
	int r = rundir_each(h->run_dir, guest_remove_one, &a);

	if (r < 0)
		return r;
	return r == 0 ? 0 : a.r < 0 ? a.r : 1;
}

struct guest_find_arg {
	const struct hotplug *h;
	const char *node;
	bool also_disk;
	char *vm;
	size_t len;
};

static int guest_find_one(const char *vm, void *arg)
{
	struct guest_find_arg *f = arg;
	char node[4096], disk[4096];

	if (state_device(f->h->run_dir, vm, node, sizeof(node), disk, sizeof(disk)) < 0)
		return 0;
	if (strcmp(node, f->node) != 0 && (!f->also_disk || strcmp(disk, f->node) != 0))
		return 0;
	snprintf(f->vm, f->len, "%s", vm);
	return 1;
}

int guest_find(const struct hotplug *h, const char *node, bool also_disk, char *vm, size_t len)
{
	struct guest_find_arg f = { h, node, also_disk, vm, len };

	return rundir_each(h->run_dir, guest_find_one, &f) == 1 ? 0 : -ENOENT;
}
