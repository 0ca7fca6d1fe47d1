/* guest_sup.c: the supervisor's pieces of a VM's life: its claim, its state, the console, view and kvmload started and started again, the view's release. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest_int.h"
#include "log.h"
#include "monotime.h"
#include "stop.h"

void guest_release_close(struct guest_sup *s)
{
	if (s->release_fd >= 0)
		close(s->release_fd);
	s->release_fd = -1;
}

void guest_sup_teardown(struct guest_sup *s)
{
	int r;

	guest_stop_loader(s->h, s->vm->name, &s->guest);
	/* After kvmload: its last words (a power-down's) still reach the log and whoever watches. */
	consrv_stop(&s->cons);
	if (guest_stop_fs(s->h, s->vm->name, &s->fs, true) < 0)
		return; /* a view that may still be mounted keeps its directory */
	r = state_clear(s->h->run_dir, s->vm->name);
	if (r < 0)
		log_warnx("vm %s: removing %s/%s: %s", s->vm->name, s->h->run_dir, s->vm->name,
			  strerror(-r));
}

/* Record what the VM does now (RUN/VM/state), with why (NULL: nothing to say); trouble is logged. */
void guest_state(struct guest_sup *s, enum state_kind kind, const char *why)
{
	struct state_rec rec = { .kind = kind, .exited = s->exited, .last = s->last };
	int r;

	clock_gettime(CLOCK_REALTIME, &rec.since);
	snprintf(rec.why, sizeof(rec.why), "%s", why ? why : "");
	r = state_set(s->h->run_dir, s->vm->name, &rec);
	if (r < 0)
		log_warnx("vm %s: %s/%s/%s: %s", s->vm->name, s->h->run_dir, s->vm->name, STATE_RECORD,
			  strerror(-r));
}

/*
 * The guest ended for good (why: restart = no, a reset loop, ...): unmount,
 * but leave the console log, the state and the status for whoever wants to
 * know why.
 */
void guest_sup_retire(struct guest_sup *s, const char *why)
{
	int r;

	consrv_stop(&s->cons);
	if (guest_stop_fs(s->h, s->vm->name, &s->fs, true) < 0)
		return;
	guest_state(s, STATE_STOPPED, why);
	r = state_retire(s->h->run_dir, s->vm->name);
	if (r < 0)
		log_warnx("vm %s: %s/%s: %s", s->vm->name, s->h->run_dir, s->vm->name, strerror(-r));
	else
		log_info("vm %s: view unmounted; the console log stays in %s/%s/%s until the disk goes",
			 s->vm->name, s->h->run_dir, s->vm->name, STATE_CONSOLE);
}

static int guest_start_fs(struct guest_sup *s)
{
	const char *disk = s->disks.v[0];
	struct viewd_spec spec;
	char mnt[PATH_MAX];
	sigset_t now;
	int r;

	r = guest_fs_spec(s->h, s->vm, &s->disks, s->images, mnt, &spec);
	if (r == 0 && mkdir(mnt, 0755) < 0)
		r = -errno;
	if (r < 0)
		return r;
	/* Our signals stay blocked while we wait: they are read from the signalfd. */
	sigprocmask(SIG_SETMASK, NULL, &now);
	r = viewd_start(&s->fs, &spec, &now, VIEWD_READY_MS);
	if (r == -ETIMEDOUT || r == -EIO)
		log_warnx("vm %s: the view of %s did not come up (%s)", s->vm->name, disk,
			  r == -ETIMEDOUT ? "timed out" : "kvmload-fs failed");
	if (r < 0)
		return r;
	return rundir_write_pid(s->h->run_dir, s->vm->name, RUNDIR_FS, s->fs.pid);
}

/*
 * The console's server, for the supervisor's whole life (restarts
 * included): RUN/VM/console.sock, the capped RUN/VM/console.log, and the
 * console = terminal if the VM names one.
 */
static int guest_start_console(struct guest_sup *s)
{
	char sock[PATH_MAX], dir[PATH_MAX], err[PATH_MAX + 64];
	struct consrv_spec spec = { .sock = sock, .log_name = STATE_CONSOLE, .local_in = -1,
				    .local_out = -1, .guest = -1, .vm = s->vm->name };
	int r = rundir_path(sock, sizeof(sock), s->h->run_dir, s->vm->name, RUNDIR_CONSOLE);

	if (r == 0)
		r = rundir_path(dir, sizeof(dir), s->h->run_dir, s->vm->name, NULL);
	if (r < 0)
		return r;
	spec.log_dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (spec.log_dir < 0)
		return -errno;
	if (s->vm->console) {
		/* Not blocking: a serial line without carrier would hold the open, and us, for ever. */
		spec.local_in = spec.local_out = open(s->vm->console, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		spec.local_raw = true;
		r = spec.local_in < 0 ? -errno : isatty(spec.local_in) ? 0 : -ENOTTY;
		if (r < 0) {
			/* As kvmload -c would: anything else would swallow the console, or feed it. */
			log_warnx("vm %s: console %s: %s; not starting", s->vm->name, log_esc(s->vm->console),
				  r == -ENOTTY ? "not a terminal" : strerror(-r));
			if (spec.local_in >= 0)
				close(spec.local_in);
			close(spec.log_dir);
			return r;
		}
	}
	r = consrv_start(&s->cons, &spec, err, sizeof(err));
	if (r < 0)
		log_warnx("vm %s: %s", s->vm->name, log_esc(err));
	close(spec.log_dir);
	if (spec.local_in >= 0)
		close(spec.local_in);
	return r;
}

/* kvmload with the console server's new guest side as its stdin and stdout. */
static int guest_start_loader(struct guest_sup *s)
{
	int sv[2], con[2], r;

	/* Both ends close-on-exec: the child's are placed by guest_spawn, ours stay ours. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	r = consrv_guest(&s->cons, con[0]);
	close(con[0]);
	if (r < 0)
		log_warnx("vm %s: the console server: %s", s->vm->name, strerror(-r));
	if (r == 0) {
		r = guest_spawn(&s->guest, &s->loader, con[1], con[1], sv[1], s->images, s->disks.n,
				&s->oldmask);
	}
	close(sv[1]);
	close(con[1]);
	if (r == 0)
		s->release_fd = sv[0];
	else
		close(sv[0]);
	if (r == 0)
		r = rundir_write_pid(s->h->run_dir, s->vm->name, STATE_GUEST, s->guest);
	if (r == 0)
		log_info("vm %s: guest started from %s (kvmload pid %d)", s->vm->name, s->d->node,
			 (int)s->guest);
	return r;
}

/* A kvmload started (guest_start_loader): the run's clock starts, the VM is loading. */
static void guest_loaded(struct guest_sup *s)
{
	s->loaded_ms = monotime_ms();
	guest_state(s, STATE_LOADING, NULL);
}

/*
 * The view's daemon stopped, nothing mounted on the view, its record and
 * directory gone: only then may kvmload let the guest open the disk
 * writable.  0 or -errno.
 */
_Static_assert(STOP_VIEW_S * 1000 < RELEASE_WAIT_MS,
	       "with the default --stop-timeout the view is down before kvmload stops waiting");
static int guest_view_stop(struct guest_sup *s)
{
	int r;

	r = guest_stop_fs(s->h, s->vm->name, &s->fs, true);
	if (r == 0)
		r = state_view_gone(s->h->run_dir, s->vm->name);
	return r;
}

/*
 * kvmload wrote on its --view-release-fd, or closed it.  'R': it closed
 * everything it had open in the view and waits for 'K' before the guest
 * runs; we answer only once the view is gone, and close without 'K'
 * otherwise, which makes kvmload give up (exit 4).  EOF: kvmload ended
 * without handing over (a loader error); its SIGCHLD follows and is
 * handled as before.
 */
void guest_release(struct guest_sup *s)
{
	const char *vm = s->vm->name;
	unsigned char byte;
	int lock, r;

	r = release_heard(s->release_fd, &byte);
	if (r == -EPROTO)
		log_warnx("vm %s: kvmload sent 0x%02x, not '%c'; the view is not released", vm, byte,
			  RELEASE_ASK);
	else if (r < 0)
		log_warnx("vm %s: reading kvmload's view release: %s", vm, strerror(-r));
	if (r != 1) {
		guest_release_close(s);
		return;
	}
	lock = rundir_lock(s->h->run_dir, vm);
	if (lock < 0) {
		log_warnx("vm %s: lock in %s: %s; the view is not released", vm, s->h->run_dir,
			  strerror(-lock));
	} else if (!rundir_owns(s->h->run_dir, vm, s->claim_fd)) {
		log_debug("vm %s: a remove is stopping it; the view is not released", vm);
	} else if ((r = guest_view_stop(s)) < 0) {
		log_warnx("vm %s: the view could not be stopped (%s); kvmload will not start the guest",
			  vm, strerror(-r));
	} else {
		s->view_released = true;
		log_info("vm %s: kvmload released the view; it is unmounted and the guest starts", vm);
		/* kvmload may be gone meanwhile: its SIGCHLD tells. */
		r = release_answer(s->release_fd);
		if (r < 0)
			log_warnx("vm %s: answering kvmload's view release: %s", vm, strerror(-r));
		else
			guest_state(s, STATE_RUNNING, NULL);
	}
	if (lock >= 0)
		rundir_unlock(s->h->run_dir, vm, lock);
	guest_release_close(s);
}

/*
 * After a reset, the first half of loading again: the disks opened anew
 * (s->images, for the view and the next kvmload) and a fresh view if the
 * last guest took the disk.  Its kvmload is gone (and its QEMU with it), so
 * the view is the disk's one reader again.  0 or -errno (logged; nothing
 * left open).
 */
int guest_reload_view(struct guest_sup *s)
{
	char why[1400], name[PATH_MAX + 64];
	int r, bad;

	r = guest_images_open(&s->disks, s->images, &bad, why, sizeof(why));
	if (r < 0) {
		log_warnx("vm %s: disk %s: %s; not loaded again", s->vm->name,
			  guest_disk_name(s->vm, &s->disks, bad, name, sizeof(name)), log_esc(why));
		return r;
	}
	if (s->view_released) {
		r = guest_start_fs(s);
		if (r == 0)
			s->view_released = false;
	}
	if (r < 0) {
		guest_images_close(&s->disks, s->images);
		log_warnx("vm %s: not loaded again: %s", s->vm->name, strerror(-r));
	}
	return r;
}

/* The second half: kvmload again on the view guest_reload_view made.  0 or -errno (logged). */
int guest_reload(struct guest_sup *s)
{
	int r = guest_start_loader(s);

	guest_images_close(&s->disks, s->images);
	if (r < 0)
		log_warnx("vm %s: not loaded again: %s", s->vm->name, strerror(-r));
	else
		guest_loaded(s);
	return r;
}

/* Hold the VM and record its device; the VM lock is held. */
int guest_claim(struct guest_sup *s)
{
	struct rundir_holder who;

	s->claim_fd = state_claim(s->h->run_dir, s->vm->name, s->d->node, s->d->disknode, &who);
	if (s->claim_fd == -EBUSY)
		log_warnx("vm %s: held by %s (pid %ld)", s->vm->name, log_esc(who.prog), (long)who.pid);
	return s->claim_fd < 0 ? s->claim_fd : 0;
}

/* Everything up to a running guest, once the VM is held and its disks are known; the VM lock is held. */
int guest_start(struct guest_sup *s)
{
	char why[1400], name[PATH_MAX + 64];
	int r, bad;

	/* A disk kvmload would refuse: said here, with nothing started. */
	r = guest_images_open(&s->disks, s->images, &bad, why, sizeof(why));
	if (r == 0) {
		r = guest_disks_open(s->vm, &s->disks, s->images, &bad, why, sizeof(why));
		if (r < 0)
			guest_images_close(&s->disks, s->images);
	}
	if (r < 0) {
		log_warnx("vm %s: disk %s: %s; not starting", s->vm->name,
			  guest_disk_name(s->vm, &s->disks, bad, name, sizeof(name)), log_esc(why));
		return r;
	}
	r = guest_loader_args(s->h, s->vm, &s->disks, &s->loader);
	if (r == 0)
		r = guest_start_console(s);
	if (r == 0)
		r = guest_start_fs(s);
	if (r == 0)
		r = guest_start_loader(s);
	if (r == 0)
		guest_loaded(s);
	/* The view and kvmload have their copies: ours go. */
	guest_images_close(&s->disks, s->images);
	return r;
}
