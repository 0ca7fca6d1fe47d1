/* guest.c: one VM's life under its lock: a pool's devices, view mount, kvmload child, view release, restart on reset with back-off, its state, teardown. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "confine.h"
#include "consrv.h"
#include "disk.h"
#include "hotplug.h"
#include "log.h"
#include "monotime.h"
#include "release.h"
#include "spawn.h"
#include "state.h"
#include "stop.h"
#include "viewd.h"

#define GUEST_FD_DISK0 (RELEASE_FD + 1) /* kvmload finds the disks from here on */
_Static_assert(RELEASE_FD == STDERR_FILENO + 1, "guest_spawn places the release socket after stderr");
#define GUEST_POOL_POLL_MS 250 /* how often a pool's supervisor looks for its devices */
/*
 * restart = yes: a guest that reset within GUEST_QUICK_S of its kvmload's
 * start is loaded again only after GUEST_BACKOFF_S << (n - 1) seconds, n its
 * consecutive quick resets (1, 2, 4, 8, 16 s); the GUEST_QUICK_MAX-th in a
 * row retires it (a reset loop: a kernel that panics at boot, say).  One that
 * ran longer starts the count again and is loaded again at once.  The limits
 * are kvmload-hotplug(8)'s and kvmload.conf(5)'s (restart).
 */
#define GUEST_QUICK_S 60
#define GUEST_BACKOFF_S 1
#define GUEST_QUICK_MAX 6

/*
 * The disks a guest gets: its device's whole disk, or each of its pool's
 * devices' whole disks; then the definition's disk = lines.
 */
struct guest_disks {
	const char *v[VIEWD_MAXDISKS];
	int n;
	int ndev; /* v[0..ndev) are the device's disk(s), the rest the disk = lines */
	struct dev_member *pool; /* the pool's devices (they own the strings in v) */
	size_t npool;
	uint64_t guid;    /* the pool's GUID, from the device that started the VM */
	const char *name; /* the pool's name, likewise */
};

static void guest_disks_free(struct guest_disks *g)
{
	dev_pool_free(g->pool, g->npool);
	g->pool = NULL;
	g->npool = 0;
	g->n = 0;
	g->ndev = 0;
}

/* After the device's disk(s): the definition's disk = lines.  0, or -ENOSPC past kvmload's 32. */
static int guest_disks_extra(const struct conf_vm *vm, struct guest_disks *g)
{
	g->ndev = g->n;
	if (g->n + vm->ndisks > VIEWD_MAXDISKS)
		return -ENOSPC;
	for (int i = 0; i < vm->ndisks; i++)
		g->v[g->n++] = vm->disks[i].path;
	return 0;
}

/*
 * Look for the disks now.  A VM without a pool gets d's whole disk.  A pool's
 * devices are the ones with d's pool GUID (the definition may name the pool
 * by its name alone: the device that matched says which pool of that name);
 * each whole disk goes once, in the order of the devices' vdev GUIDs.
 * Then the disk = lines.
 * Returns 0, -EEXIST when two devices carry one vdev GUID (*dup set: a
 * copied disk, and which of the two is the pool's is not ours to guess),
 * -E2BIG (the pool is on more than kvmload's 32 disks), -ENOSPC (with the
 * disk = lines it is), or another -errno.
 */
static int guest_disks_find(const struct hotplug *h, const struct conf_vm *vm, const struct dev *d,
			    struct guest_disks *g, const struct dev_member **dup)
{
	int r;

	guest_disks_free(g);
	*dup = NULL;
	if (!conf_vm_zpool(vm)) {
		g->v[0] = d->disknode;
		g->n = 1;
		return guest_disks_extra(vm, g);
	}
	if (!dev_zpool_guid(d, &g->guid))
		return -EINVAL; /* conf_match made sure it is one */
	g->name = udev_device_get_property_value(d->ud, "ID_FS_LABEL");
	if (!g->name)
		g->name = "?";
	r = dev_pool_members(h->udev, g->guid, &g->pool, &g->npool);
	if (r < 0)
		return r;
	for (size_t i = 1; i < g->npool; i++)
		if (g->pool[i].vdev && g->pool[i].vdev == g->pool[i - 1].vdev) {
			*dup = &g->pool[i];
			return -EEXIST;
		}
	for (size_t i = 0; i < g->npool; i++) {
		const char *disk = g->pool[i].d.disknode;
		bool seen = false;

		for (int j = 0; j < g->n && !seen; j++)
			seen = strcmp(g->v[j], disk) == 0;
		if (seen)
			continue;
		if (g->n == CONF_ZPOOL_MEMBERS_MAX)
			return -E2BIG;
		g->v[g->n++] = disk;
	}
	return guest_disks_extra(vm, g);
}

/*
 * Each disk opened as kvmload will open it (disk_open: a regular file or a
 * block device, its format, its backing files) and closed again, before
 * anything starts: through fds[i] when given (the descriptors the view and
 * kvmload will get), else by name.  0, or -ENOMEDIUM for the first that is
 * refused, *bad its index and why the reason.
 */
static int guest_disks_open(const struct conf_vm *vm, const struct guest_disks *g, const int *fds, int *bad,
			    char *why, size_t len)
{
	for (int i = 0; i < g->n; i++) {
		struct disk_info info;

		if (disk_open_fd(fds ? fds[i] : -1, g->v[i], conf_vm_format(vm), NULL, &info, why, len) < 0) {
			*bad = i;
			return -ENOMEDIUM;
		}
		disk_close(&info);
	}
	return 0;
}

static void guest_images_close(const struct guest_disks *g, int *fds)
{
	for (int i = 0; i < g->n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/*
 * Every disk opened once (disk_open_image) for one start: the view and
 * kvmload get these descriptors (--disk-fd), so both read the very files
 * the guest gets, whatever their names say meanwhile.  0, or -ENOMEDIUM with
 * *bad and why as guest_disks_open; nothing left open then.
 */
static int guest_images_open(const struct guest_disks *g, int *fds, int *bad, char *why, size_t len)
{
	for (int i = 0; i < g->n; i++)
		fds[i] = -1;
	for (int i = 0; i < g->n; i++)
		if (disk_open_image(g->v[i], &fds[i], why, len) < 0) {
			*bad = i;
			guest_images_close(g, fds);
			return -ENOMEDIUM;
		}
	return 0;
}

/* Which disk a message names: "/dev/sdb", or "/srv/data.img (vm.conf:7)" for a disk = line. */
static const char *guest_disk_name(const struct conf_vm *vm, const struct guest_disks *g, int i,
				   char *buf, size_t len)
{
	if (i < g->ndev)
		snprintf(buf, len, "%s", log_esc(g->v[i]));
	else
		snprintf(buf, len, "%s (%s:%d)", log_esc(g->v[i]), vm->file,
			 vm->disks[i - g->ndev].line);
	return buf;
}

/* The pool's devices for a message: "/dev/loop1 (vdev 123), /dev/loop2 (vdev 456)", or "none". */
static const char *guest_pool_list(const struct guest_disks *g, char *buf, size_t len)
{
	size_t off = 0;

	snprintf(buf, len, "none");
	for (size_t i = 0; i < g->npool && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s (vdev %" PRIu64 ")", i ? ", " : "",
				 log_esc(g->pool[i].d.node), g->pool[i].vdev);

		if (w < 0)
			break;
		off += (size_t)w;
	}
	return buf;
}

/*
 * The view's daemon on the whole disk (nosuid,nodev,noexec, as every
 * kvmload-fs mount: kvmload reads its userboot.so and maps it itself), serving
 * as the VM's user.  mnt (PATH_MAX) receives the mount point the spec points to.
 */
static int guest_fs_spec(const struct hotplug *h, const struct conf_vm *vm,
			 const struct guest_disks *g, const int *fds, char *mnt, struct viewd_spec *spec)
{
	if (rundir_path(mnt, PATH_MAX, h->run_dir, vm->name, RUNDIR_VIEW) < 0)
		return -ENAMETOOLONG;
	*spec = (struct viewd_spec){ .prog = h->kvmload_fs, .mnt = mnt, .disks = g->v, .disk_fds = fds,
				     .format = conf_vm_format(vm), .ndisks = g->n, .user = vm->user };
	return 0;
}

static int guest_loader_args(const struct hotplug *h, const struct conf_vm *vm,
			     const struct guest_disks *g, struct argv *a)
{
	char view[4096];

	if (rundir_path(view, sizeof(view), h->run_dir, vm->name, RUNDIR_VIEW) < 0)
		return -ENAMETOOLONG;
	argv_add(a, h->kvmload);
	argv_add(a, "--view");
	argv_add(a, view);
	argv_add(a, "--view-release-fd");
	argv_addf(a, "%d", RELEASE_FD);
	if (conf_vm_format(vm)) {
		argv_add(a, "--format");
		argv_add(a, conf_vm_format(vm));
	}
	for (int i = 0; i < g->n; i++) {
		argv_add(a, "--disk-fd");
		argv_addf(a, "%d:%s", GUEST_FD_DISK0 + i, g->v[i]);
	}
	if (vm->memory) {
		argv_add(a, "-m");
		argv_add(a, vm->memory);
	}
	if (vm->loader) {
		argv_add(a, "-l");
		argv_add(a, vm->loader);
	}
	if (vm->loader_dir) {
		argv_add(a, "--loader-dir");
		argv_add(a, vm->loader_dir);
	}
	if (vm->boot_part) {
		argv_add(a, "--boot-part");
		argv_add(a, vm->boot_part);
	}
	if (vm->cpus) {
		char n[16];

		snprintf(n, sizeof(n), "%d", vm->cpus);
		argv_add(a, "--cpus");
		argv_add(a, n);
	}
	if (vm->net) {
		argv_add(a, "--net");
		argv_add(a, vm->net);
	}
	if (vm->accel) {
		argv_add(a, "--accel");
		argv_add(a, vm->accel);
	}
	if (vm->ro)
		argv_add(a, "--ro");
	if (vm->user) {
		argv_add(a, "--user");
		argv_add(a, vm->user);
	}
	if (vm->mac) {
		argv_add(a, "--mac");
		argv_add(a, vm->mac);
	}
	if (vm->loader_timeout) {
		argv_add(a, "--loader-timeout");
		argv_addf(a, "%d", vm->loader_timeout);
	}
	for (int i = 0; i < vm->nenv; i++) {
		argv_add(a, "-e");
		argv_add(a, vm->env[i]);
	}
	argv_add(a, vm->name);
	return a->oom ? -ENOMEM : 0;
}

static void guest_print_args(const struct argv *a)
{
	for (int i = 0; i < a->n; i++)
		printf("%s%s", i ? " " : "", a->v[i]);
}

/*
 * kvmload with stdin/stdout given, release_fd as 3 (its view-release
 * socket) and the disks' descriptors from GUEST_FD_DISK0 on, nothing else.
 * The child gets the caller's original signal mask back and SIGTERM when
 * its parent dies, so a killed supervisor never leaves a guest behind.
 * *pid set (reaped by the supervisor's waitpid loop, even if it failed to
 * exec), or -errno with *pid -1.
 */
static int guest_spawn(pid_t *pid, const struct argv *a, int in_fd, int out_fd, int release_fd, const int *fds,
		       int nfds, const sigset_t *mask)
{
	int want[GUEST_FD_DISK0 + VIEWD_MAXDISKS] = { in_fd, out_fd, STDERR_FILENO, release_fd };
	struct spawn_spec spec = { .argv = a->v, .fds = want, .nfds = GUEST_FD_DISK0 + nfds,
				   .deathsig = SIGTERM, .mask = mask };
	struct spawn_proc p;
	int r;

	for (int i = 0; i < nfds; i++)
		want[GUEST_FD_DISK0 + i] = fds[i];
	r = spawn_child(&spec, &p);
	spawn_release(&p);
	if (r < 0 && p.failed == SPAWN_EXEC)
		dprintf(STDERR_FILENO, "kvmload-hotplug: %s: %s\n", log_esc(a->v[0]), strerror(-r));
	/* A child that failed has ended 127: the waitpid loop reaps it as any kvmload that ended. */
	*pid = p.pid;
	return p.pid > 0 ? 0 : r;
}

/* SIGTERM to SIGKILL: kvmload's SIGTERM is a power-down with its own wait (stop.h). */
static int guest_stop_seconds(const struct hotplug *h)
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
static void guest_stop_loader(const struct hotplug *h, const char *vm, pid_t *pid)
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
static int guest_stop_fs(const struct hotplug *h, const char *vm, struct viewd *fs, bool detach)
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
static int guest_teardown(const struct hotplug *h, const char *vm)
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

/* A supervisor's state: everything guest_add started and must stop. */
struct guest_sup {
	struct hotplug *h;
	const struct conf_vm *vm;
	const struct dev *d;
	sigset_t oldmask;
	int sfd, claim_fd;
	int release_fd; /* our end of kvmload's --view-release-fd socket, -1 once done with */
	pid_t guest;
	struct viewd fs;
	/*
	 * kvmload said 'R' and the view was stopped for it: no view and no
	 * kvmload-fs on purpose, which is not a view that died.  A restart
	 * mounts a fresh one.
	 */
	bool view_released;
	struct argv loader;
	struct guest_disks disks;
	int images[VIEWD_MAXDISKS]; /* the disks, opened for one start of the view and kvmload */
	struct consrv cons;         /* the console's server, for every kvmload this supervisor starts */
	int failed; /* kvmload's own failure (a sysexits status, 64 and up) that ended it; 0: none */
	long loaded_ms;  /* CLOCK_MONOTONIC ms of this kvmload's start: a run's length */
	int quick;       /* consecutive quick resets (GUEST_QUICK_S) */
	long restart_at; /* CLOCK_MONOTONIC ms at which a back-off wait ends; 0: none */
	bool exited;     /* last holds the latest end of a kvmload */
	struct state_exit last;
};

static void guest_release_close(struct guest_sup *s)
{
	if (s->release_fd >= 0)
		close(s->release_fd);
	s->release_fd = -1;
}

static void guest_sup_teardown(struct guest_sup *s)
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
static void guest_state(struct guest_sup *s, enum state_kind kind, const char *why)
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
static void guest_sup_retire(struct guest_sup *s, const char *why)
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
static void guest_release(struct guest_sup *s)
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
static int guest_reload_view(struct guest_sup *s)
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
static int guest_reload(struct guest_sup *s)
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
static int guest_claim(struct guest_sup *s)
{
	struct rundir_holder who;

	s->claim_fd = state_claim(s->h->run_dir, s->vm->name, s->d->node, s->d->disknode, &who);
	if (s->claim_fd == -EBUSY)
		log_warnx("vm %s: held by %s (pid %ld)", s->vm->name, log_esc(who.prog), (long)who.pid);
	return s->claim_fd < 0 ? s->claim_fd : 0;
}

/* The guest's disks as they are now (a pool's, complete or not); trouble is logged. */
static int guest_disks_look(struct guest_sup *s)
{
	const struct dev_member *dup;
	char list[4096];
	int r = guest_disks_find(s->h, s->vm, s->d, &s->disks, &dup);

	if (r == -EEXIST)
		log_warnx("vm %s: pool %s: %s and %s carry the same vdev GUID %" PRIu64
			  " (a copied disk?); not starting", s->vm->name, log_esc(s->disks.name),
			  log_esc(dup[-1].d.node), log_esc(dup->d.node), dup->vdev);
	else if (r == -E2BIG)
		log_warnx("vm %s: pool %s: its devices are on more than %d disks (%s); not starting",
			  s->vm->name, log_esc(s->disks.name), CONF_ZPOOL_MEMBERS_MAX,
			  guest_pool_list(&s->disks, list, sizeof(list)));
	else if (r == -ENOSPC)
		log_warnx("vm %s: %d disk(s) of its device(s) and %d disk = lines are more than "
			  "kvmload's %d disks; not starting", s->vm->name, s->disks.ndev,
			  s->vm->ndisks, VIEWD_MAXDISKS);
	else if (r < 0)
		log_warnx("vm %s: looking for the pool's devices: %s", s->vm->name, strerror(-r));
	return r;
}

/*
 * A pool VM whose devices are not all there yet: wait for them, holding the
 * VM but not its lock (another add finds it running, a remove may take it;
 * the monitor goes on with other events).  Looks every GUEST_POOL_POLL_MS
 * until zpool-wait seconds have passed.  0 with s->disks complete;
 * -ETIMEDOUT (logged: who is there, how many are missing), -EINTR (a signal:
 * stop), -ECANCELED (a remove took the VM), or another -errno (logged).
 */
static int guest_pool_wait(struct guest_sup *s)
{
	const struct conf_vm *vm = s->vm;
	long deadline = monotime_ms() + vm->zpool_wait * 1000L;
	char list[4096];
	int r;

	log_info("vm %s: pool %s: %zu of %d devices present (%s); waiting up to %d s for the rest",
		 vm->name, log_esc(s->disks.name), s->disks.npool, vm->zpool_members,
		 guest_pool_list(&s->disks, list, sizeof(list)), vm->zpool_wait);
	for (;;) {
		struct pollfd p = { .fd = s->sfd, .events = POLLIN };
		struct signalfd_siginfo si;
		long left = deadline - monotime_ms();

		if (left <= 0) {
			log_warnx("vm %s: pool %s: %zu of %d devices present after %d s (%s), %zu "
				  "missing; not starting", vm->name, log_esc(s->disks.name),
				  s->disks.npool, vm->zpool_members, vm->zpool_wait,
				  guest_pool_list(&s->disks, list, sizeof(list)),
				  (size_t)vm->zpool_members - s->disks.npool);
			return -ETIMEDOUT;
		}
		r = poll(&p, 1, left < GUEST_POOL_POLL_MS ? (int)left : GUEST_POOL_POLL_MS);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && read(s->sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD) {
			log_info("vm %s: stopping on signal %u while waiting for the pool", vm->name,
				 si.ssi_signo);
			return -EINTR;
		}
		if (!rundir_owns(s->h->run_dir, vm->name, s->claim_fd))
			return -ECANCELED;
		r = guest_disks_look(s);
		if (r < 0)
			return r;
		if (s->disks.npool >= (size_t)vm->zpool_members)
			return 0;
	}
}

/*
 * The guest's disks: a pool VM's devices, waited for unless all are there.
 * Called with the VM lock *lock_fd held, which the wait lets go of and takes
 * again (*lock_fd is then the new one, or -1 when it could not be had).
 */
static int guest_find_disks(struct guest_sup *s, int *lock_fd)
{
	const struct conf_vm *vm = s->vm;
	char list[4096];
	int r = guest_disks_look(s);

	if (r < 0 || !conf_vm_zpool(vm))
		return r;
	if (s->disks.npool < (size_t)vm->zpool_members) {
		rundir_unlock(s->h->run_dir, vm->name, *lock_fd);
		r = guest_pool_wait(s);
		*lock_fd = rundir_lock(s->h->run_dir, vm->name);
		if (*lock_fd < 0) {
			log_warnx("vm %s: lock in %s: %s", vm->name, s->h->run_dir, strerror(-*lock_fd));
			return *lock_fd;
		}
		/* A remove cleared the VM meanwhile (perhaps someone holds it anew): nothing is ours. */
		if (!rundir_owns(s->h->run_dir, vm->name, s->claim_fd)) {
			log_info("vm %s: stopped while waiting for the pool's devices", vm->name);
			close(s->claim_fd);
			s->claim_fd = -1;
			return -ECANCELED;
		}
		if (r < 0)
			return r;
		log_info("vm %s: pool %s: all %d devices present (%s)", vm->name,
			 log_esc(s->disks.name), vm->zpool_members,
			 guest_pool_list(&s->disks, list, sizeof(list)));
	}
	if (s->disks.npool > (size_t)vm->zpool_members)
		log_warnx("vm %s: pool %s: %zu devices present, more than zpool-members = %d; "
			  "the guest gets all of them (%s)", vm->name, log_esc(s->disks.name),
			  s->disks.npool, vm->zpool_members,
			  guest_pool_list(&s->disks, list, sizeof(list)));
	return 0;
}

/* Everything up to a running guest, once the VM is held and its disks are known; the VM lock is held. */
static int guest_start(struct guest_sup *s)
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

static void guest_supervise(struct guest_sup *s)
{
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

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
			int lock = rundir_lock(s->h->run_dir, s->vm->name);

			log_info("vm %s: stopping on signal %u", s->vm->name, si.ssi_signo);
			if (rundir_owns(s->h->run_dir, s->vm->name, s->claim_fd)) {
				guest_sup_teardown(s);
			} else {
				guest_stop_loader(s->h, s->vm->name, &s->guest);
				guest_stop_fs(s->h, s->vm->name, &s->fs, false);
			}
			if (lock >= 0)
				rundir_unlock(s->h->run_dir, s->vm->name, lock);
			return;
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == s->cons.pid) {
				/* The guest's output now fails (EPIPE): kvmload powers it down and says so. */
				log_warnx("vm %s: the console server ended", s->vm->name);
				s->cons.pid = -1;
			}
			if ((pid == s->guest || pid == s->fs.pid) && !guest_child_ended(s, pid, status))
				return;
		}
	}
}

int guest_add(struct hotplug *h, const struct conf_vm *vm, const struct dev *d, int lock_fd)
{
	struct guest_sup s = { .h = h, .vm = vm, .d = d, .sfd = -1, .claim_fd = -1,
			       .release_fd = -1, .guest = -1, .cons = { .pid = -1, .ctl = -1 } };
	struct confine_user user;
	struct state_rec last;
	char why[256];
	sigset_t mask;
	struct stat st;
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
	if (state_exists(h->run_dir, vm->name)) {
		struct rundir_holder who;

		r = rundir_holder(h->run_dir, vm->name, &who);
		if (r < 0) {
			log_warnx("vm %s: who holds it: %s/%s/%s: %s; not starting", vm->name,
				  h->run_dir, vm->name, RUNDIR_HOLDER, strerror(-r));
			rundir_unlock(h->run_dir, vm->name, lock_fd);
			return r;
		}
		if (r == 1 && strcmp(who.prog, STATE_PROG) == 0) {
			log_info("vm %s: already running; nothing to do for %s", vm->name, d->node);
			rundir_unlock(h->run_dir, vm->name, lock_fd);
			return 0;
		}
		if (r == 1) {
			/* A kvmload started by hand, say: its view and its guest are not ours to touch. */
			log_warnx("vm %s: held by %s (pid %ld); not starting it for %s", vm->name,
				  log_esc(who.prog), (long)who.pid, d->node);
			rundir_unlock(h->run_dir, vm->name, lock_fd);
			return -EBUSY;
		}
		if (state_get(h->run_dir, vm->name, &last) == 0 && last.kind == STATE_STOPPED)
			log_info("vm %s: its last guest ended; starting a new one", vm->name);
		else
			log_info("vm %s: clearing what an ended holder left in %s", vm->name,
				 h->run_dir);
		r = guest_teardown(h, vm->name);
		if (r < 0) {
			rundir_unlock(h->run_dir, vm->name, lock_fd);
			return r;
		}
	}
	/* The event may be old: start only for the device that is there now. */
	if (stat(d->node, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != d->devnum || !d->disknode) {
		log_warnx("vm %s: %s is gone; not starting", vm->name, d->node);
		rundir_unlock(h->run_dir, vm->name, lock_fd);
		return 0;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &s.oldmask);
	s.sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	r = s.sfd < 0 ? -errno : guest_claim(&s);
	if (r == 0)
		r = guest_find_disks(&s, &lock_fd);
	if (r == 0)
		r = guest_start(&s);
	/*
	 * The pool's wait and the disk check logged why; a signal or a remove while it waited is
	 * a stop, not a failure.
	 */
	if (r < 0 && r != -ETIMEDOUT && r != -EINTR && r != -ECANCELED && r != -EEXIST &&
	    r != -E2BIG && r != -ENOSPC && r != -ENOMEDIUM && r != -ENOTTY)
		log_warnx("vm %s: not started: %s", vm->name, strerror(-r));
	if (r < 0 && s.claim_fd >= 0 && lock_fd >= 0)
		guest_sup_teardown(&s);
	if (lock_fd >= 0)
		rundir_unlock(h->run_dir, vm->name, lock_fd);
	if (r == 0) {
		guest_supervise(&s);
		r = s.failed;
	} else if (r == -EINTR || r == -ECANCELED) {
		r = 0;
	}
	consrv_stop(&s.cons);
	argv_free(&s.loader);
	guest_images_close(&s.disks, s.images);
	guest_disks_free(&s.disks);
	guest_release_close(&s);
	if (s.claim_fd >= 0)
		close(s.claim_fd);
	if (s.sfd >= 0)
		close(s.sfd);
	sigprocmask(SIG_SETMASK, &s.oldmask, NULL);
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

void guest_plan_add(const struct hotplug *h, const struct conf_vm *vm, const struct dev *d)
{
	struct guest_disks g = { .v = { d->disknode ? d->disknode : "?" }, .n = 1 };
	const struct dev_member *dup;
	struct argv fs = { 0 }, loader = { 0 };
	struct rundir_holder who;
	struct viewd_spec spec;
	char dir[4096], mnt[PATH_MAX], list[4096], why[1400], name[PATH_MAX + 64];
	int r, bad, plan_fds[VIEWD_MAXDISKS];

	rundir_path(dir, sizeof(dir), h->run_dir, vm->name, NULL);
	printf("vm %s: %s matches (%s:%d)\n", vm->name, d->node, vm->file, vm->line);
	if (rundir_holder(h->run_dir, vm->name, &who) == 1) {
		printf(strcmp(who.prog, STATE_PROG) == 0 ? "vm %s: already running; nothing to do\n"
							  : "vm %s: held by %s (pid %ld); not starting\n",
		       vm->name, log_esc(who.prog), (long)who.pid);
		return;
	}
	if (d->disknode && conf_vm_zpool(vm)) {
		r = guest_disks_find(h, vm, d, &g, &dup);
		if (r == -EEXIST) {
			printf("vm %s: pool %s: %s and %s carry the same vdev GUID %" PRIu64
			       "; not starting\n", vm->name, g.name, dup[-1].d.node, dup->d.node,
			       dup->vdev);
		} else if (r == -E2BIG) {
			printf("vm %s: pool %s: its devices are on more than %d disks; not starting\n",
			       vm->name, g.name, CONF_ZPOOL_MEMBERS_MAX);
		} else if (r < 0 && r != -ENOSPC) {
			printf("vm %s: looking for the pool's devices: %s; not starting\n", vm->name,
			       strerror(-r));
		} else {
			printf("vm %s: pool %s (guid %" PRIu64 "): %zu of %d devices present: %s\n",
			       vm->name, g.name, g.guid, g.npool, vm->zpool_members,
			       guest_pool_list(&g, list, sizeof(list)));
			if (g.npool < (size_t)vm->zpool_members)
				printf("wait up to %d s for the rest; then, with all of them:\n",
				       vm->zpool_wait);
		}
	} else {
		r = guest_disks_extra(vm, &g);
	}
	if (r == -ENOSPC)
		printf("vm %s: %d disk(s) of its device(s) and %d disk = lines are more than kvmload's "
		       "%d disks; not starting\n", vm->name, g.ndev, vm->ndisks, VIEWD_MAXDISKS);
	if (r == 0 && d->disknode && guest_disks_open(vm, &g, NULL, &bad, why, sizeof(why)) < 0) {
		printf("vm %s: disk %s: %s; not starting\n", vm->name,
		       guest_disk_name(vm, &g, bad, name, sizeof(name)), log_esc(why));
		r = -ENOMEDIUM;
	}
	if (r < 0) {
		guest_disks_free(&g);
		return;
	}
	/* The plan names the descriptors add would pass (viewd_argv numbers them itself). */
	for (int i = 0; i < g.n; i++)
		plan_fds[i] = GUEST_FD_DISK0 + i;
	if (guest_fs_spec(h, vm, &g, plan_fds, mnt, &spec) == 0 && viewd_argv(&spec, &fs) == 0 &&
	    guest_loader_args(h, vm, &g, &loader) == 0) {
		printf("console server: %s/%s, log %s/%s%s%s\n", dir, RUNDIR_CONSOLE, dir, STATE_CONSOLE,
		       vm->console ? ", terminal " : "", vm->console ? vm->console : "");
		printf("mkdir %s/%s\n", dir, RUNDIR_VIEW);
		guest_print_args(&fs);
		printf("\n");
		guest_print_args(&loader);
		printf(" <>console-server\n");
		printf("on '%c' from fd %d: stop kvmload-fs, umount %s/%s, answer '%c'\n", RELEASE_ASK,
		       RELEASE_FD, dir, RUNDIR_VIEW, RELEASE_DONE);
		if (vm->restart)
			printf("on exit: load again after a reset (status 0): at once after a run of %d s"
			       " or more, else after %d s doubling per quick reset in a row, stopping at the"
			       " %dth; else stop\n", GUEST_QUICK_S, GUEST_BACKOFF_S, GUEST_QUICK_MAX);
		else
			printf("on exit: stop\n");
	}
	argv_free(&fs);
	argv_free(&loader);
	guest_disks_free(&g);
}

void guest_plan_remove(const struct hotplug *h, const char *vm)
{
	char dir[4096];

	rundir_path(dir, sizeof(dir), h->run_dir, vm, NULL);
	printf("vm %s: stop kvmload pid %d (SIGTERM, SIGKILL after %d s)\n", vm,
	       (int)rundir_read_pid(h->run_dir, vm, STATE_GUEST), guest_stop_seconds(h));
	printf("vm %s: stop kvmload-fs pid %d\n", vm, (int)rundir_read_pid(h->run_dir, vm, RUNDIR_FS));
	printf("umount %s/%s\n", dir, RUNDIR_VIEW);
	printf("rm -r %s\n", dir);
}
