/* monitor.c: --monitor: a libudev listener that starts and stops guests where systemd does not. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "hotplug.h"
#include "log.h"
#include "state.h"

/* A device already handed to a supervisor, until its removal: change storms start nothing. */
struct monitor_seen {
	char *syspath;
	char *diskseq;
};

struct monitor {
	struct hotplug *h;
	struct udev_monitor *mon;
	int sfd;
	sigset_t oldmask;
	pid_t *kids; /* supervisors we forked and have not reaped */
	size_t nkids;
	struct monitor_seen *seen;
	size_t nseen;
};

static ssize_t monitor_seen_find(const struct monitor *m, const char *syspath)
{
	for (size_t i = 0; i < m->nseen; i++)
		if (strcmp(m->seen[i].syspath, syspath) == 0)
			return (ssize_t)i;
	return -1;
}

static void monitor_seen_drop(struct monitor *m, const char *syspath)
{
	ssize_t i = monitor_seen_find(m, syspath);

	if (i < 0)
		return;
	free(m->seen[i].syspath);
	free(m->seen[i].diskseq);
	m->seen[i] = m->seen[--m->nseen];
}

/* Returns false when the device (same disk sequence number) was handed over before. */
static bool monitor_seen_add(struct monitor *m, const char *syspath, const char *diskseq)
{
	ssize_t i = monitor_seen_find(m, syspath);
	struct monitor_seen *s;

	if (i >= 0 && strcmp(m->seen[i].diskseq, diskseq) == 0)
		return false;
	monitor_seen_drop(m, syspath);
	s = realloc(m->seen, (m->nseen + 1) * sizeof(*s));
	if (!s)
		return true; /* forgetting only costs an "already running" line */
	m->seen = s;
	s[m->nseen].syspath = strdup(syspath);
	s[m->nseen].diskseq = strdup(diskseq);
	if (s[m->nseen].syspath && s[m->nseen].diskseq) {
		m->nseen++;
	} else {
		free(s[m->nseen].syspath);
		free(s[m->nseen].diskseq);
	}
	return true;
}

/*
 * Fork a supervisor that inherits the VM lock, so events for one VM keep their
 * order; guest_add decides under it whether the VM is free (rundir's holder).
 */
static void monitor_start(struct monitor *m, const struct conf_vm *vm, const struct dev *d)
{
	pid_t *kids, pid;
	int lock = rundir_lock(m->h->run_dir, vm->name);

	if (lock < 0) {
		log_warnx("vm %s: lock in %s: %s", vm->name, m->h->run_dir, strerror(-lock));
		return;
	}
	kids = realloc(m->kids, (m->nkids + 1) * sizeof(*kids));
	if (!kids) {
		log_warnx("vm %s: out of memory", vm->name);
		rundir_unlock(m->h->run_dir, vm->name, lock);
		return;
	}
	m->kids = kids;
	pid = fork();
	if (pid < 0) {
		log_warn("vm %s: fork", vm->name);
		rundir_unlock(m->h->run_dir, vm->name, lock);
		return;
	}
	if (pid == 0) {
		close(m->sfd);
		udev_monitor_unref(m->mon);
		sigprocmask(SIG_SETMASK, &m->oldmask, NULL);
		int r = guest_add(m->h, vm, d, lock);

		_exit(r < 0 ? 1 : r);
	}
	/* Only close: the child holds the same lock and unlinks it when done. */
	close(lock);
	m->kids[m->nkids++] = pid;
}

static void monitor_event(struct monitor *m, struct udev_device *ud, const char *action)
{
	const struct conf_vm *vm;
	bool ambiguous;
	struct dev d;

	if (dev_from_udev(ud, &d) < 0)
		return;
	if (strcmp(action, "remove") == 0) {
		monitor_seen_drop(m, udev_device_get_syspath(ud));
		guest_remove_node(m->h, d.node, true);
	} else if (strcmp(action, "add") == 0 || strcmp(action, "change") == 0) {
		const char *size = udev_device_get_sysattr_value(ud, "size");

		if (size && strcmp(size, "0") == 0) {
			/* Media gone (a loop device detached, a card pulled): its guest goes too. */
			monitor_seen_drop(m, udev_device_get_syspath(ud));
			guest_remove_node(m->h, d.node, true);
		} else if (!dev_is_freebsd(&d)) {
			/* A guest's own device no longer holds FreeBSD (rewritten): stop it. */
			guest_remove_node(m->h, d.node, false);
		} else if (!(vm = conf_match(&m->h->conf, dev_prop, &d, &ambiguous))) {
			if (ambiguous)
				log_warnx("%s: more than one vm names this disk; ignored", d.node);
			else
				log_debug("%s: no vm names this disk; ignored", d.node);
		} else if (!monitor_seen_add(m, udev_device_get_syspath(ud), d.diskseq) &&
			   strcmp(action, "change") == 0) {
			log_debug("vm %s: %s changed; handled already", vm->name, d.node);
		} else {
			monitor_start(m, vm, &d);
		}
	}
	dev_free(&d);
}

/* Devices present before we listened ("coldplug"); events after subscribing are queued meanwhile. */
static void monitor_coldplug(struct monitor *m)
{
	struct udev_enumerate *e = udev_enumerate_new(m->h->udev);
	struct udev_list_entry *l;

	if (!e || udev_enumerate_add_match_subsystem(e, "block") < 0 ||
	    udev_enumerate_add_match_is_initialized(e) < 0 || udev_enumerate_scan_devices(e) < 0) {
		log_warnx("coldplug: cannot enumerate block devices");
		udev_enumerate_unref(e);
		return;
	}
	udev_list_entry_foreach(l, udev_enumerate_get_list_entry(e)) {
		struct udev_device *ud = udev_device_new_from_syspath(m->h->udev,
								      udev_list_entry_get_name(l));

		if (ud) {
			monitor_event(m, ud, "add");
			udev_device_unref(ud);
		}
	}
	udev_enumerate_unref(e);
}

static void monitor_reap(struct monitor *m, bool block)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, block ? 0 : WNOHANG)) > 0) {
		for (size_t i = 0; i < m->nkids; i++)
			if (m->kids[i] == pid)
				m->kids[i] = m->kids[--m->nkids];
		log_debug("supervisor %d ended (status %d)", (int)pid,
			  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		if (block && m->nkids == 0)
			break;
	}
}

static int monitor_loop(struct monitor *m)
{
	struct pollfd p[2] = {
		{ .fd = udev_monitor_get_fd(m->mon), .events = POLLIN },
		{ .fd = m->sfd, .events = POLLIN },
	};
	struct signalfd_siginfo si;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			return EX_OSERR;
		}
		if (p[1].revents & POLLIN) {
			if (read(m->sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGCHLD) {
				monitor_reap(m, false);
				continue;
			}
			log_info("stopping on signal %u: stopping %zu supervisor(s)", si.ssi_signo,
				 m->nkids);
			for (size_t i = 0; i < m->nkids; i++)
				kill(m->kids[i], SIGTERM);
			if (m->nkids)
				monitor_reap(m, true);
			return 0;
		}
		if (p[0].revents & POLLIN) {
			struct udev_device *ud = udev_monitor_receive_device(m->mon);

			if (ud) {
				const char *action = udev_device_get_action(ud);

				log_debug("event %s %s", action ? action : "?", udev_device_get_syspath(ud));
				if (action)
					monitor_event(m, ud, action);
				udev_device_unref(ud);
			}
		}
	}
}

int monitor_run(struct hotplug *h)
{
	struct monitor m = { .h = h, .sfd = -1 };
	int status;

	m.sfd = guest_signalfd(&m.oldmask);
	if (m.sfd < 0) {
		errno = -m.sfd;
		log_warn("signalfd");
		return EX_OSERR;
	}
	/* Source "udev": events after the rules ran, with the blkid properties we match on. */
	m.mon = udev_monitor_new_from_netlink(h->udev, "udev");
	if (!m.mon || udev_monitor_filter_add_match_subsystem_devtype(m.mon, "block", NULL) < 0 ||
	    udev_monitor_enable_receiving(m.mon) < 0) {
		log_warnx("cannot listen to udev events");
		close(m.sfd);
		udev_monitor_unref(m.mon);
		return EX_OSERR;
	}
	/* A storm of events must not be lost while a remove waits for a guest to stop. */
	udev_monitor_set_receive_buffer_size(m.mon, 16 * 1024 * 1024);
	log_info("monitoring block devices for %zu vm(s); runtime directory %s", h->conf.nvms,
		 h->run_dir);
	monitor_coldplug(&m);
	status = monitor_loop(&m);
	udev_monitor_unref(m.mon);
	close(m.sfd);
	for (size_t i = 0; i < m.nseen; i++) {
		free(m.seen[i].syspath);
		free(m.seen[i].diskseq);
	}
	free(m.seen);
	free(m.kids);
	sigprocmask(SIG_SETMASK, &m.oldmask, NULL);
	return status;
}
