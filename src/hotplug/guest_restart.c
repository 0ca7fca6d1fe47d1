/* guest_restart.c: the supervisor's wait: a kvmload's end recorded, a reset loaded again with back-off, signals, the end. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest_int.h"
#include "log.h"
#include "monotime.h"

static const char *guest_status_text(int status, char *buf, size_t len)
{
	static const char *bhyve[] = { "reset", "powered off", "halted", "triple fault", "error" };

	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else if (WEXITSTATUS(status) < 5)
		snprintf(buf, len, "status %d, %s", WEXITSTATUS(status), bhyve[WEXITSTATUS(status)]);
	else
		snprintf(buf, len, "status %d", WEXITSTATUS(status));
	return buf;
}

/* A kvmload ended: its end first in the status history, with the console's last lines. */
static void guest_exit_record(struct guest_sup *s, int status)
{
	const char *vm = s->vm->name;
	char tail[STATE_TAIL_MAX];
	int r;

	guest_status_text(status, s->last.status, sizeof(s->last.status));
	clock_gettime(CLOCK_REALTIME, &s->last.at);
	s->last.ran_ms = monotime_ms() - s->loaded_ms;
	s->exited = true;
	/* The sync: once it answers, the server has logged all this kvmload wrote. */
	r = consrv_tail(&s->cons, NULL, 0);
	if (r < 0 && r != -EPIPE)
		log_warnx("vm %s: the console server: %s", vm, strerror(-r));
	r = state_console_tail(s->h->run_dir, vm, tail, sizeof(tail));
	if (r < 0)
		log_warnx("vm %s: the last lines of %s/%s/%s: %s", vm, s->h->run_dir, vm, STATE_CONSOLE,
			  strerror(-r));
	r = state_exit_add(s->h->run_dir, vm, &s->last, r < 0 ? "" : tail);
	if (r < 0)
		log_warnx("vm %s: %s/%s/%s: %s", vm, s->h->run_dir, vm, STATE_STATUS, strerror(-r));
}

/*
 * The guest reset and restart = yes: after a run of GUEST_QUICK_S or more it
 * is loaded again at once; after a quick one, a fresh view now and kvmload
 * once the back-off is over (guest_backoff_end); the GUEST_QUICK_MAX-th
 * quick reset in a row retires it.  The lock is held.  Returns true while
 * the supervisor goes on.
 */
static bool guest_reset(struct guest_sup *s)
{
	const char *vm = s->vm->name;
	long ran = s->last.ran_ms, due;
	char why[160];
	int delay;

	if (ran >= GUEST_QUICK_S * 1000L) {
		s->quick = 0;
		log_info("vm %s: the guest reset (%s) after %ld s; loading it again", vm, s->last.status,
			 ran / 1000);
		if (guest_reload_view(s) == 0 && guest_reload(s) == 0)
			return true;
		guest_sup_teardown(s);
		return false;
	}
	if (++s->quick >= GUEST_QUICK_MAX) {
		snprintf(why, sizeof(why), "a reset loop: %d resets in a row, each within %d s of its start",
			 s->quick, GUEST_QUICK_S);
		log_warnx("vm %s: the guest reset %d times in a row within %d s of its start (a reset "
			  "loop); not loading it again", vm, s->quick, GUEST_QUICK_S);
		guest_sup_retire(s, why);
		return false;
	}
	delay = GUEST_BACKOFF_S << (s->quick - 1);
	due = monotime_ms() + delay * 1000L;
	snprintf(why, sizeof(why), "quick reset %d in a row (it ran %ld.%03ld s, under %d s); loading "
		 "it again in %d s", s->quick, ran / 1000, ran % 1000, GUEST_QUICK_S, delay);
	log_info("vm %s: the guest reset (%s): %s", vm, s->last.status, why);
	if (guest_reload_view(s) < 0) {
		guest_sup_teardown(s);
		return false;
	}
	s->restart_at = due;
	guest_state(s, STATE_RESTARTING, why);
	return true;
}

/* The guest ended for good (not a reset that restart = yes loads again): retire it, saying why. */
static void guest_ended(struct guest_sup *s, int status)
{
	bool reset = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	char why[160];

	log_info("vm %s: the guest exited (%s)%s", s->vm->name, s->last.status,
		 reset && !s->vm->restart ? "; restart = no" : "");
	/* bhyve's statuses (0-4) are the guest's end; from 64 on kvmload itself failed. */
	if (WIFEXITED(status) && WEXITSTATUS(status) >= 64) {
		s->failed = WEXITSTATUS(status);
		snprintf(why, sizeof(why), "kvmload failed (%s)", s->last.status);
	} else if (reset && !s->vm->restart) {
		snprintf(why, sizeof(why), "the guest reset; restart = no");
	} else {
		snprintf(why, sizeof(why), "the guest exited (%s)", s->last.status);
	}
	guest_sup_retire(s, why);
}

/*
 * A child ended.  Under the lock: if the directory is no longer ours, a
 * remove did the teardown; else restart after a reset or tear down.
 * Returns true while the supervisor goes on.
 */
static bool guest_child_ended(struct guest_sup *s, pid_t pid, int status)
{
	const char *vm = s->vm->name;
	bool going_on = false;
	char text[64];
	int lock = rundir_lock(s->h->run_dir, vm);
	bool was_guest = pid == s->guest;

	if (was_guest) {
		s->guest = -1;
		guest_release_close(s);
	} else {
		viewd_reaped(&s->fs, status);
	}
	if (!rundir_owns(s->h->run_dir, vm, s->claim_fd)) {
		/* Stopped by a remove: reap what it stopped. */
		guest_stop_loader(s->h, vm, &s->guest);
		guest_stop_fs(s->h, vm, &s->fs, false);
	} else if (was_guest) {
		guest_exit_record(s, status);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && s->vm->restart &&
		    ((s->fs.pid > 0 && !s->fs.reaped) || s->view_released))
			going_on = guest_reset(s);
		else
			guest_ended(s, status);
	} else {
		log_warnx("vm %s: the view daemon exited (%s); stopping the guest", vm,
			  guest_status_text(status, text, sizeof(text)));
		guest_sup_teardown(s);
	}
	if (lock >= 0)
		rundir_unlock(s->h->run_dir, vm, lock);
	return going_on;
}

/*
 * The back-off wait is over: kvmload again, under the lock, unless a remove
 * took the VM meanwhile (then stop what it stopped).  Returns true while the
 * supervisor goes on.
 */
static bool guest_backoff_end(struct guest_sup *s)
{
	const char *vm = s->vm->name;
	int lock = rundir_lock(s->h->run_dir, vm);
	bool going_on = false;

	s->restart_at = 0;
	if (!rundir_owns(s->h->run_dir, vm, s->claim_fd)) {
		guest_images_close(&s->disks, s->images);
		guest_stop_fs(s->h, vm, &s->fs, false);
	} else if (guest_reload(s) == 0) {
		going_on = true;
	} else {
		guest_sup_teardown(s);
	}
	if (lock >= 0)
		rundir_unlock(s->h->run_dir, vm, lock);
	return going_on;
}

/* How long poll may wait: until the back-off is over, or for ever. */
static int guest_wait_ms(const struct guest_sup *s)
{
	long left = s->restart_at - monotime_ms();

	if (!s->restart_at)
		return -1;
	return left > 0 ? (int)left : 0;
}

/* A stop signal (or a wait that failed): stop the guest and its view; tear down what is still ours. */
static void guest_signalled(struct guest_sup *s, uint32_t signo)
{
	int lock = rundir_lock(s->h->run_dir, s->vm->name);

	log_info("vm %s: stopping on signal %u", s->vm->name, signo);
	if (rundir_owns(s->h->run_dir, s->vm->name, s->claim_fd)) {
		guest_sup_teardown(s);
	} else {
		guest_stop_loader(s->h, s->vm->name, &s->guest);
		guest_stop_fs(s->h, s->vm->name, &s->fs, false);
	}
	if (lock >= 0)
		rundir_unlock(s->h->run_dir, s->vm->name, lock);
}

/* SIGCHLD: every child that ended, reaped.  Returns true while the supervisor goes on. */
static bool guest_reap(struct guest_sup *s)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == s->cons.pid) {
			/* The guest's output now fails (EPIPE): kvmload powers it down and says so. */
			log_warnx("vm %s: the console server ended", s->vm->name);
			s->cons.pid = -1;
		}
		if ((pid == s->guest || pid == s->fs.pid) && !guest_child_ended(s, pid, status))
			return false;
	}
	return true;
}

void guest_supervise(struct guest_sup *s)
{
	struct signalfd_siginfo si;

	for (;;) {
		/* A negative fd (no hand-off pending) is left out by poll. */
		struct pollfd p[2] = { { .fd = s->sfd, .events = POLLIN },
				       { .fd = s->release_fd, .events = POLLIN } };
		int n = poll(p, 2, guest_wait_ms(s));

		if (n == 0) {
			if (!guest_backoff_end(s))
				return;
			continue;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("vm %s: poll", s->vm->name);
			si.ssi_signo = SIGTERM;
		} else if (!(p[0].revents & POLLIN)) {
			if (p[1].revents)
				guest_release(s);
			continue;
		} else if (read(s->sfd, &si, sizeof(si)) != sizeof(si)) {
			if (errno == EINTR)
				continue;
			log_warn("vm %s: signalfd", s->vm->name);
			si.ssi_signo = SIGTERM;
		}
		if (si.ssi_signo != SIGCHLD) {
			guest_signalled(s, si.ssi_signo);
			return;
		}
		if (!guest_reap(s))
			return;
	}
}
