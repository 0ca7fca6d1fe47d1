/* main.c: kvmload's fixed phase order: options (options.c), console, memory and the stopped QEMU, disks, view, loader choice, VM, sandboxed plugin, hand-off, run. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "boot_part.h"
#include "cb.h"
#include "chipset.h"
#include "confine.h"
#include "consrv.h"
#include "disk.h"
#include "kvm.h"
#include "loader.h"
#include "plugin_child.h"
#include "plugin_pick.h"
#include "log.h"
#include "options.h"
#include "paths.h"
#include "plugin.h"
#include "qemu.h"
#include "release.h"
#include "uart.h"
#include "rundir.h"
#include "view.h"
#include "build_paths.h"
#include "handoff.h"

/* Exit status when the view cannot be made or its daemon dies (bhyve's "error"). */
#define MAIN_EX_VIEW 4
/* ... and when the loaded guest cannot be handed to QEMU. */
#define MAIN_EX_VMM 4

/*
 * The console to restore, the view to take down and the plugin's process
 * to kill: the only global state, because signal handlers and atexit get
 * no context argument.
 */
static struct console *main_cons;
static struct consrv main_consrv; /* --console-socket's server */
static struct loader *main_loader; /* its disks' exporters end with kvmload, on every way out */
static struct view *main_view;
static struct qemu *volatile main_qemu; /* started paused while the loader runs */
static struct handoff_stub main_stub; /* the entry stub's image, read as QEMU starts */
static volatile pid_t main_child = -1;
static struct sigaction main_stop_sa; /* main_on_stop, put back after each stop */

static void main_restore_console(void)
{
	if (main_cons)
		console_restore(main_cons);
}

/* Async-signal-safe: the plugin's process goes first, so nothing reads the view as it goes away. */
static void main_kill_child(void)
{
	pid_t pid = main_child;

	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	main_child = -1;
}

static void main_on_signal(int sig)
{
	main_kill_child();
	qemu_kill(main_qemu);
	main_restore_console();
	if (main_view)
		view_stop(main_view);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The view daemon died under the loader: its files now fail with ENOTCONN. */
static void main_on_sigchld(int sig)
{
	(void)sig;
	if (!main_view || !view_child_died(main_view))
		return;
	main_kill_child();
	qemu_kill(main_qemu);
	main_restore_console();
	view_report_death(main_view);
	view_stop(main_view);
	_exit(MAIN_EX_VIEW);
}

/*
 * ^Z, or the terminal read or written from the background: the terminal
 * goes back to its own settings, then the process stops as it would by
 * default (the plugin's process, in our process group, is stopped by the
 * kernel with us).  Continued, it is raw again.  In an orphaned process
 * group the kernel drops the stop and raise returns at once: raw again too.
 */
static void main_on_stop(int sig)
{
	int e = errno;
	sigset_t one;

	if (main_cons)
		console_suspend(main_cons);
	signal(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	raise(sig);
	sigaction(sig, &main_stop_sa, NULL);
	if (main_cons)
		console_resume(main_cons);
	errno = e;
}

/* Continued after a stop we did not see (SIGSTOP): raw again. */
static void main_on_cont(int sig)
{
	int e = errno;

	(void)sig;
	if (main_cons)
		console_resume(main_cons);
	errno = e;
}

/* Every handler blocks the others, so view_stop never runs twice at once. */
static void main_handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	view_sigset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTSTP);
	sigaddset(&sa.sa_mask, SIGTTIN);
	sigaddset(&sa.sa_mask, SIGTTOU);
	sigaddset(&sa.sa_mask, SIGCONT);
	if (sigaction(sig, &sa, NULL) < 0)
		err(EX_OSERR, "sigaction");
	if (fn == main_on_stop)
		main_stop_sa = sa;
}

/* The stop signals, unless ignored from the start (a shell without job control). */
static void main_job_control(void)
{
	static const int stops[] = { SIGTSTP, SIGTTIN, SIGTTOU };
	struct sigaction old;

	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		if (sigaction(stops[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			main_handle(stops[i], main_on_stop, SA_RESTART);
	main_handle(SIGCONT, main_on_cont, SA_RESTART);
}

/*
 * Outside handlers: with the signals held and the SIGCHLD watch off (our
 * SIGTERM is no death).  Phase 11 takes only the view down (all false): the
 * VM stays held until kvmload ends, since the guest runs on its disks.
 */
static void main_stop_view(bool all)
{
	sigset_t block, old;

	if (!main_view)
		return;
	view_sigset(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	signal(SIGCHLD, SIG_DFL);
	if (all) {
		view_stop(main_view);
		main_view = NULL;
	} else {
		view_down(main_view);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void main_at_exit(void)
{
	main_kill_child();
	/* A load that failed leaves no QEMU behind, not even for its parent-death signal. */
	qemu_kill(main_qemu);
	/* Its last bytes reach the terminal before the terminal is given back. */
	consrv_stop(&main_consrv);
	main_restore_console();
	main_stop_view(true);
	/* After the view, which reads them; not left to their parent-death signal, which comes late. */
	for (int i = 0; main_loader && i < main_loader->ndisks; i++)
		disk_export_stop(&main_loader->disks[i].info);
}

/*
 * Phase 3: each -d opened once (disk.h: read-only, its format, its backing
 * files, a non-raw image's guest-visible bytes); the loader and the view read
 * those descriptors, and QEMU gets the same files.  For a guest that writes
 * its disks, the image is opened for writing now, through its descriptor: a
 * read-only device or file is given to the guest read-only, said once.
 */
static void main_open_disks(struct loader *l, struct opts *o, bool on_qemu)
{
	for (int i = 0; i < o->ndisks; i++) {
		struct loader_disk *d = &l->disks[i];
		struct qemu_disk *q = &o->qemu.disks[i];
		char msg[1400];
		int r;

		r = disk_open_fd(o->disk_fds[i], o->disks[i], o->formats[i], &o->user, &d->info, msg, sizeof(msg));
		/* disk_open_fd opened its own copy: the caller's descriptor is done with. */
		if (o->disk_fds[i] >= 0)
			close(o->disk_fds[i]);
		if (r < 0)
			errx(r == -ENOMEM ? EX_OSERR : r == -ETIMEDOUT || r == -ENOPKG ? EX_UNAVAILABLE :
			     r == -EIO ? EX_IOERR : EX_USAGE, "-d %s: %s",
			     log_esc(o->disks[i]), log_esc(msg));
		d->path = o->disks[i];
		d->fd = d->info.fd;
		d->size = d->info.size;
		d->secsize = d->info.secsize;
		l->ndisks++;
		if (strcmp(d->info.layer[0].format, "raw") != 0)
			log_debug("-d %s: %s, %llu bytes for the guest, %d backing file(s)", log_esc(d->path),
				  d->info.layer[0].format, (unsigned long long)d->size, d->info.nlayers - 1);
		q->info = &d->info;
		q->rw_fd = -1;
		if (!on_qemu || o->qemu.ro)
			continue;
		r = disk_reopen_rw(&d->info, &q->rw_fd, msg, sizeof(msg));
		if (r == -EROFS || r == -EACCES || r == -EPERM)
			log_info("-d %s: read-only (%s): the guest gets it read-only", log_esc(d->path),
				 log_esc(msg));
		else if (r < 0)
			errx(EX_OSERR, "-d %s: opening it for the guest to write: %s", log_esc(d->path),
			     log_esc(msg));
	}
}

/*
 * -h and --loader-dir are checked here, before any view exists, so a bad
 * path is a usage error (a missing --loader-dir would silently leave only
 * the guest's own plugins).
 */
static void main_check_dirs(const struct opts *o)
{
	int fd;

	if (o->host) {
		fd = open(o->host, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			err(EX_USAGE, "-h %s", log_esc(o->host));
		close(fd);
	}
	if (o->loader_dir_given) {
		fd = open(o->loader_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			err(EX_USAGE, "--loader-dir %s", log_esc(o->loader_dir));
		close(fd);
	}
}

/*
 * --console-socket, once the VM's runtime directory is ours: a console
 * server there serves what the console had so far (terminal or stdio) and
 * the socket; the console becomes the server's guest side.
 */
static void main_serve_console(struct loader *l, const struct opts *o, const struct view *v)
{
	char sock[PATH_MAX + 16], msg[PATH_MAX + 64];
	struct consrv_spec spec = {
		.sock = sock, .log_dir = -1, .local_in = l->cons.eof ? -1 : l->cons.in_fd,
		.local_out = l->cons.out_err ? -1 : l->cons.out_fd, .vm = o->vmname,
	};
	int sv[2], r;

	if (!o->console_socket)
		return;
	if ((size_t)snprintf(sock, sizeof(sock), "%s/%s", v->rundir, RUNDIR_CONSOLE) >= sizeof(sock))
		errx(EX_USAGE, "%s/%s: path too long", log_esc(v->rundir), RUNDIR_CONSOLE);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		err(EX_OSERR, "console socket");
	spec.guest = sv[1];
	r = consrv_start(&main_consrv, &spec, msg, sizeof(msg));
	close(sv[1]);
	if (r < 0)
		errx(EX_OSERR, "--console-socket: %s", log_esc(msg));
	console_serve(&l->cons, sv[0]);
	log_debug("console on %s (kvmload-hotplug console %s)", log_esc(sock), o->vmname);
}

/*
 * Phase 5: the view and the directory of it that the host-file callbacks
 * read (l->host_fd).  bootdir gets that directory's path; "" when there is
 * none (no -h, -d or --view; or -l and no partition to boot from).
 */
static void main_make_view(struct loader *l, const struct opts *o, struct view *v, char *bootdir,
		      size_t len)
{
	char msg[1536], fs[PATH_MAX], name[PATH_MAX], dataset[256];
	const char *want = o->boot_part;
	int r;

	view_init(v);
	l->host_fd = -1;
	bootdir[0] = '\0';
	if (o->view) {
		r = view_attach(v, o->view);
		if (r < 0)
			errx(EX_USAGE, "--view %s: %s", log_esc(o->view), strerror(-r));
		main_view = v;
	} else if (o->host || o->ndisks) {
		int fds[LOADER_NDISKS];
		const struct view_spec spec = {
			.prog = fs, .vmname = o->vmname, .host = o->host,
			.disks = o->disks, .disk_fds = fds, .ndisks = o->ndisks, .user = o->user_name,
		};

		/* The view reads the very bytes the loader reads: our descriptors, never the paths again. */
		for (int i = 0; i < l->ndisks; i++)
			fds[i] = l->disks[i].fd;

		view_fs_program(fs, sizeof(fs));
		main_view = v; /* before anything exists, so every exit path takes it down */
		r = view_start(v, &spec, msg, sizeof(msg));
		if (r < 0)
			errx(MAIN_EX_VIEW, "%s", log_esc(msg));
		main_handle(SIGCHLD, main_on_sigchld, SA_NOCLDSTOP | SA_RESTART);
		log_debug("view of %s%s%d disk(s) at %s (kvmload-fs pid %ld)",
			  o->host ? log_esc(o->host) : "", o->host ? " and " : "", o->ndisks,
			  log_esc(v->mnt), (long)v->d.pid);
	} else {
		return; /* nothing to show: host0: stays empty, as in bhyveload without -h */
	}
	if (!want && (o->host || (o->view && boot_part_has(v->root_fd, "host0"))))
		want = "host0";
	r = boot_part_open(v->root_fd, v->mnt, want, name, sizeof(name), dataset, sizeof(dataset), msg,
			   sizeof(msg));
	if (r == -ENOENT && !want && o->loader) {
		/* The user's plugin may read the disks itself (ZFS, say). */
		log_warnx("%s; host0: stays empty", log_esc(msg));
		return;
	}
	if (r < 0)
		errx(1, "%s%s", o->boot_part ? "--boot-part " : "", log_esc(msg));
	l->host_fd = r;
	if ((size_t)snprintf(bootdir, len, "%s/%s", v->mnt, name) >= len)
		errx(1, "%s/%s: path too long", log_esc(v->mnt), log_esc(name));
	if (dataset[0])
		log_info("host0: is %s of the view, ZFS dataset %s (%s)", log_esc(name), log_esc(dataset),
			 log_esc(bootdir));
	else
		log_info("host0: is %s of the view (%s)", log_esc(name), log_esc(bootdir));
}

/* "P: why; P2: why ..." for the candidates that were tried. */
static void main_pick_tried(const struct plugin_pick *p, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int i = 0; i < p->n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s: %s", i ? "; " : "", p->c[i].path,
				       strerror(p->c[i].err));
}

/* Where a chosen plugin came from, for the message saying why it was chosen. */
static const char *main_pick_origin(const struct opts *o, const struct plugin_pick_cand *c,
				    const char *interp, char *buf, size_t len)
{
	if (c->guest)
		return o->no_sandbox ? "the guest's own /boot: untrusted, allowed without the sandbox by "
				       "--trust-guest-loader"
				     : "the guest's own /boot: untrusted, confined by the sandbox";
	if (c->generic && *interp) {
		snprintf(buf, len, "host plugin directory, which has no userboot_%s.so", interp);
		return buf;
	}
	return "host plugin directory";
}

/* Phase 6: choose among the candidates, or end the load naming what was tried. */
static const struct plugin_pick_cand *main_pick(const struct opts *o, const struct plugin_pick_where *w,
						 const char *interp, bool swap, const char *why,
						 struct plugin_pick *p)
{
	char tried[4 * (PATH_MAX + 64)];
	int i = plugin_pick_find(p, w, interp, swap);

	if (i < 0) {
		main_pick_tried(p, tried, sizeof(tried));
		errx(1, "%s: %s", why, log_esc(tried));
	}
	/* Without the sandbox, code from the guest's disk needs the user's word. */
	if (p->c[i].guest && o->no_sandbox && !o->trust_guest)
		errx(1, "%s: the only plugin found is the guest's own %s, untrusted code that would run "
		     "with kvmload's privileges under --no-sandbox; pass --trust-guest-loader to use it",
		     why, log_esc(p->c[i].path));
	return &p->c[i];
}

/*
 * -l: a path as given; a bare name (no slash) in the plugin directory first,
 * where bhyveload's users keep userboot.so, then in the current directory.
 * Returns the plugin's fd, opened once: what is found is what is loaded.
 */
static int main_named_loader(const struct opts *o, char *path, size_t len)
{
	char tried[4 * (PATH_MAX + 64)];
	struct plugin_pick p = { .n = 0 };
	int fd;

	if (strchr(o->loader, '/')) {
		if ((size_t)snprintf(path, len, "%s", o->loader) >= len)
			errx(EX_USAGE, "-l %s: path too long", log_esc(o->loader));
		fd = plugin_pick_open(path);
		if (fd < 0)
			errx(1, "%s: %s", log_esc(path), strerror(-fd));
		return fd;
	}
	for (int i = 0; i < 2; i++) {
		struct plugin_pick_cand *c = &p.c[p.n++];
		int n = snprintf(c->path, sizeof(c->path), "%s/%s", i == 0 ? o->loader_dir : ".", o->loader);

		fd = n < 0 || (size_t)n >= sizeof(c->path) ? -ENAMETOOLONG : plugin_pick_open(c->path);
		if (fd >= 0) {
			snprintf(path, len, "%s", c->path);
			return fd;
		}
		c->err = -fd;
	}
	main_pick_tried(&p, tried, sizeof(tried));
	errx(1, "-l %s: not in the plugin directory or the current directory: %s", log_esc(o->loader),
	     log_esc(tried));
}

/* The plugin to start with, opened: -l, else the one the guest's /boot/loader asks for. */
static int main_initial_loader(const struct opts *o, const struct plugin_pick_where *w,
			       char *path, size_t len)
{
	char interp[PLUGIN_INTERP_MAX + 1], why[128], origin[128];
	const struct plugin_pick_cand *c;
	struct plugin_pick p;

	if (o->loader)
		return main_named_loader(o, path, len);
	switch (plugin_pick_interp(w->guest_fd, interp)) {
	case PLUGIN_PICK_MARKER:
		snprintf(why, sizeof(why), "guest /boot/loader says %s", interp);
		break;
	case PLUGIN_PICK_NOMARKER:
		snprintf(why, sizeof(why), "guest /boot/loader has no $Interpreter: marker, so 4th");
		break;
	case PLUGIN_PICK_NOLOADER:
		snprintf(why, sizeof(why), "%s", w->guest_fd < 0 ? "no guest /boot to read"
								 : "the guest has no /boot/loader");
		break;
	}
	c = main_pick(o, w, interp, false, why, &p);
	log_info("%s: using %s (%s)", why, log_esc(c->path),
		 main_pick_origin(o, c, interp, origin, sizeof(origin)));
	snprintf(path, len, "%s", c->path);
	return c->fd;
}

/* The watch on QEMU while a plugin runs: its start served, its death noticed. */
static int main_watch_qemu(void *arg)
{
	return qemu_watch(arg);
}

/* QEMU run to its end: out of the handlers' reach (every signal held meanwhile), then freed. */
static enum vm_exit main_qemu_run(struct loader *l, int *killed_by)
{
	enum vm_exit why = qemu_run(main_qemu, &l->cons, killed_by);
	struct qemu *q;
	sigset_t all, old;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	q = main_qemu;
	main_qemu = NULL;
	sigprocmask(SIG_SETMASK, &old, NULL);
	qemu_free(q);
	return why;
}

/* QEMU ended while the loader ran: the loader is stopped, and kvmload ends as a run that ended so would. */
static _Noreturn void main_qemu_ended(struct loader *l)
{
	int killed_by;

	log_warnx("QEMU ended before the loader was done: stopped the loader");
	exit((int)main_qemu_run(l, &killed_by));
}

/*
 * Run plugins, each in its own sandboxed process, until one reaches exec;
 * the loop (and every decision on what a plugin asked for) stays here.
 * Returns only on exec, with l->regs checked; every other way out of the
 * loader ends the process with bhyveload's status.
 */
static void main_run_loader(struct loader *l, const struct opts *o, const struct plugin_pick_where *w,
			    const struct sandbox *sb)
{
	char path[PATH_MAX], msg[512], why[64], origin[128];
	const struct plugin_pick_cand *c;
	struct plugin_pick pick;
	struct sandbox_result res;
	struct timespec deadline, *until = NULL;
	struct plugin p;
	struct plugin_watch watch = { .fd = -1, .fn = main_watch_qemu, .arg = main_qemu };
	int swaps = 0, fd, r;

	if (main_qemu)
		watch.fd = qemu_watch_fd(main_qemu);
	fd = main_initial_loader(o, w, path, sizeof(path));
	for (;;) {
		/*
		 * Read through the descriptor the choice opened and mapped here, before the
		 * child is confined; no plugin code runs in this process.
		 */
		r = plugin_load_fd(&p, fd, path, msg, sizeof(msg));
		close(fd);
		if (r < 0)
			errx(1, "%s", log_esc(msg)); /* msg names the path */
		log_info("plugin %s: %s", log_esc(path), p.gen.label);
		/* One clock for the whole load, from the first plugin's start: a swap gets no more. */
		if (o->loader_timeout && !until) {
			clock_gettime(CLOCK_MONOTONIC, &deadline);
			deadline.tv_sec += o->loader_timeout;
			until = &deadline;
		}
		r = plugin_child_run(l, &p, path, sb, until, main_qemu ? &watch : NULL, &main_child, &res, msg,
				     sizeof(msg));
		plugin_unload(&p);
		if (r == -ECANCELED)
			main_qemu_ended(l);
		if (r == -ETIMEDOUT)
			errx(1, "the loader did not finish within %d s (--loader-timeout); stopped it",
			     o->loader_timeout);
		if (r < 0)
			errx(1, "%s", log_esc(msg));
		switch (res.leave) {
		case LEAVE_EXEC:
			l->regs = res.regs;
			l->written = res.written;
			return;
		case LEAVE_EXIT:
			/* bhyveload's status: 1 after `quit`, 2 after `reboot`. */
			main_restore_console();
			exit(res.exit_value);
		case LEAVE_SWAP:
			if (o->loader)
				errx(1, "requested loader interpreter does not match guest userboot "
				     "(guest wants '%s'; -l %s forbids swapping)", res.interp, log_esc(o->loader));
			if (swaps++ > 0)
				errx(1, "%s asked to swap to '%s' after a swap already happened",
				     log_esc(path), res.interp);
			snprintf(why, sizeof(why), "guest wants interpreter '%s'", res.interp);
			c = main_pick(o, w, res.interp, true, why, &pick);
			snprintf(path, sizeof(path), "%s", c->path);
			fd = c->fd;
			log_info("the guest's /boot/loader wants interpreter '%s': swapping to %s%s%s%s",
				 res.interp, log_esc(path), c->guest ? " (" : "",
				 c->guest ? main_pick_origin(o, c, res.interp, origin, sizeof(origin)) : "",
				 c->guest ? ")" : "");
			/* A fresh plugin gets fresh guest memory, as after bhyveload's vm_reinit. */
			if (gmem_reset(&l->gmem) < 0)
				err(EX_OSERR, "resetting guest memory");
			continue;
		case LEAVE_ERROR:
		case LEAVE_NONE:
			/* The child said why on stderr. */
			exit(1);
		}
	}
}

/* The files QEMU needs, said before anything is loaded if one is missing. */
static void main_qemu_spec(struct opts *o, char *stub, size_t len)
{
	const char *qemu = getenv("KVMLOAD_QEMU"), *fw = getenv("KVMLOAD_FIRMWARE");
	const char *when = getenv("KVMLOAD_QEMU_START");
	char msg[512];
	int r;

	if (when && *when && strcmp(when, "early") != 0 && strcmp(when, "late") != 0)
		errx(EX_USAGE, "KVMLOAD_QEMU_START=%s: early (the default) or late", log_esc(when));
	o->qemu_late = when && !strcmp(when, "late");

	paths_find(stub, len, "KVMLOAD_PVH_STUB", VIEW_BUILD_DIR, QEMU_STUB_BUILD, NULL,
		   QEMU_STUB_INSTALLED);
	o->qemu.qemu = qemu && *qemu ? qemu : "qemu-system-x86_64";
	o->qemu.firmware = fw && *fw ? fw : QEMU_DEFAULT_FIRMWARE;
	o->qemu.stub = stub;
	o->qemu.vmname = o->vmname;
	o->qemu.ndisks = o->ndisks; /* the disks themselves are opened later: QEMU gets them at the hand-over */
	o->qemu.memsize = o->memsize;
	o->qemu.core = o->gmem_flags & GMEM_F_INCORE;
	o->qemu.verbose = o->verbose;
	r = qemu_check(&o->qemu, msg, sizeof(msg));
	if (r < 0)
		errx(r == -ERANGE ? EX_USAGE : EX_UNAVAILABLE, "%s", log_esc(msg));
}

/*
 * With --view, the view is someone else's (kvmload-hotplug's): ask its owner
 * to take it down, and wait, before QEMU opens the disks for writing.
 */
static void main_release_view(const struct opts *o)
{
	int r;

	if (o->release_fd < 0) {
		if (o->view && !o->qemu.ro)
			log_warnx("--view %s stays mounted while the guest writes its disks: its files may "
				  "show stale data", log_esc(o->view));
		return;
	}
	r = release_ask(o->release_fd);
	if (r < 0) {
		errno = -r;
		err(MAIN_EX_VIEW, "--view-release-fd %d", o->release_fd);
	}
	if (release_await(o->release_fd, RELEASE_WAIT_MS) < 0)
		errx(MAIN_EX_VIEW, "the view at %s was not released (no '%c' on --view-release-fd %d "
		     "within %d s)", log_esc(o->view), RELEASE_DONE, o->release_fd,
		     RELEASE_WAIT_MS / 1000);
	close(o->release_fd);
}

/* Phase 3 on QEMU: QEMU started, stopped, on the guest memory; kvmload goes on while it builds its machine. */
static void main_start_qemu(struct loader *l, struct opts *o)
{
	if (qemu_start(&main_qemu, &o->qemu, l->gmem.memfd, &main_stub) < 0)
		exit(MAIN_EX_VMM);
}

/* Phase 13 on QEMU: the module and the stub into guest memory, then QEMU gets the disks and runs the guest. */
static enum vm_exit main_run_qemu(struct loader *l, struct opts *o, int *killed_by)
{
	struct handoff h;
	char msg[512];
	enum vm_exit why;

	if (o->qemu_late)
		main_start_qemu(l, o);
	if (handoff_build(&h, &l->regs, &l->written, &main_stub, &l->gmem, msg, sizeof(msg)) < 0)
		errx(MAIN_EX_VMM, "cannot hand the loaded guest to QEMU: %s", log_esc(msg));
	log_debug("hand-off module: %llu bytes at 0x%llx, %u chunk(s), %llu loader bytes carried%s",
		  (unsigned long long)h.size, (unsigned long long)HANDOFF_MODULE_BASE, h.nchunks,
		  (unsigned long long)h.carried, h.smap_trimmed ? "; SMAP cut at the EBDA" : "");
	/* The exporters go (QEMU takes the images' locks); QEMU gets the files kvmload opened. */
	for (int i = 0; i < l->ndisks; i++)
		disk_unexport(&l->disks[i].info);
	why = main_qemu_run(l, killed_by);
	/*
	 * What the guest wrote is on the disk before kvmload says the guest
	 * ended (a hotplugged disk may be pulled next), also when QEMU had to
	 * be killed before it closed its disks.
	 */
	for (int i = 0; i < l->ndisks; i++)
		if (o->qemu.disks[i].rw_fd >= 0 && fdatasync(o->qemu.disks[i].rw_fd) < 0)
			log_warn("%s: flushing what the guest wrote", log_esc(o->disks[i]));
	return why;
}

static void main_close(struct loader *l, struct opts *o)
{
	for (int i = 0; i < l->ndisks; i++) {
		disk_close(&l->disks[i].info);
		if (o->qemu.disks[i].rw_fd >= 0)
			close(o->qemu.disks[i].rw_fd);
	}
	l->ndisks = 0;
	if (l->host_fd >= 0)
		close(l->host_fd);
	l->host_fd = -1;
	gmem_fini(&l->gmem);
	env_free(l);
	free(o->env);
	main_cons = NULL;
	console_close(&l->cons);
}

int main(int argc, char **argv)
{
	/* Static: main_at_exit reads them after main has returned. */
	static struct loader l;
	static struct view v;
	struct opts o;
	struct kvm_vm vm;
	struct uart uart;
	enum vm_exit why;
	char bootdir[PATH_MAX];
	struct plugin_pick_where where;
	struct sandbox sb;
	char stub[PATH_MAX];
	bool on_qemu;
	int r;

	options_parse(argc, argv, &o);
	on_qemu = !o.builtin && !o.load_only;
	log_init("kvmload", o.verbose);
	if (o.no_sandbox)
		log_warnx("WARNING: --no-sandbox: the userboot plugin runs with kvmload's privileges, "
			  "every system call and every file; use it only to debug a plugin");
	memset(&l, 0, sizeof(l));
	l.host_fd = -1;
	consrv_init(&main_consrv);
	memset(&vm, 0, sizeof(vm));
	vm.sys_fd = vm.vm_fd = vm.vcpu_fd = -1;

	r = console_open(&l.cons, o.cons);
	if (r < 0)
		errx(EX_USAGE, "-c %s: %s", log_esc(o.cons), r == -ENOTTY ? "not a terminal" : strerror(-r));
	/* --load-only: standard output carries the registers alone; the loader's console goes to stderr. */
	if (o.load_only && !l.cons.own_fds) {
		l.cons.out_fd = STDERR_FILENO;
		l.cons.out_err = 0;
	}
	main_cons = &l.cons;
	atexit(main_at_exit);
	main_handle(SIGINT, main_on_signal, 0);
	main_handle(SIGTERM, main_on_signal, 0);
	main_handle(SIGHUP, main_on_signal, 0);
	main_handle(SIGQUIT, main_on_signal, 0);
	main_job_control();
	/* An inherited SIG_IGN would have the kernel reap the view daemon before we can. */
	signal(SIGCHLD, SIG_DFL);

	main_check_dirs(&o);
	/* After the usage checks (their errors come first), before anything is opened or loaded. */
	if (on_qemu)
		main_qemu_spec(&o, stub, sizeof(stub));
	/* -m checked the size already (memsize_arg): what fails here is the host. */
	r = gmem_init(&l.gmem, o.memsize, o.gmem_flags);
	if (r < 0)
		errx(EX_OSERR, "guest memory of %llu bytes: %s", (unsigned long long)o.memsize,
		     strerror(-r));
	/* As early as its inputs exist: QEMU's own start overlaps the disks, the view and the loader. */
	if (on_qemu && !o.qemu_late)
		main_start_qemu(&l, &o);
	main_open_disks(&l, &o, on_qemu);
	main_loader = &l;
	r = env_build(&l, o.env, o.nenv);
	if (r < 0)
		errx(EX_OSERR, "environment: %s", strerror(-r));

	main_make_view(&l, &o, &v, bootdir, sizeof(bootdir));
	main_serve_console(&l, &o, &v);
	where = (struct plugin_pick_where){
		.loader_dir = o.loader_dir, .guest_fd = l.host_fd, .guest_dir = bootdir,
	};

	if (!on_qemu) {
		if (kvm_vm_create(&vm, &l.gmem) < 0 || kvm_vcpu_create(&vm) < 0)
			exit(EX_OSERR);
		/*
		 * The VM exists before the loader runs, so a missing /dev/kvm or
		 * memory KVM refuses is said first.  The plugin's process never
		 * holds it: its descriptors are closed there (plugin_child.c) and
		 * the vCPU's shared kvm_run page is not inherited at all.
		 */
		if (madvise(vm.run, vm.run_size, MADV_DONTFORK) < 0)
			err(EX_OSERR, "madvise(kvm_run, MADV_DONTFORK)");
	}

	sandbox_init(&sb, !o.no_sandbox);
	main_run_loader(&l, &o, &where, &sb);

	/* Nothing reads the view once the loader is done: release it before the guest runs. */
	if (l.host_fd >= 0)
		close(l.host_fd);
	l.host_fd = -1;
	main_stop_view(false);
	main_release_view(&o);

	if (on_qemu) {
		int killed_by;

		why = main_run_qemu(&l, &o, &killed_by);
		main_close(&l, &o);
		/* A signal that had to end QEMU by force ends kvmload by it, after the same clean-up. */
		if (killed_by)
			main_on_signal(killed_by);
		return (int)why;
	}
	if (kvm_x86_apply(&vm, &l.regs, &l.gmem) < 0)
		exit(1);
	if (o.load_only) {
		if (kvm_vcpu_dump(&vm, stdout) < 0)
			exit(EX_OSERR);
		why = 0;
	} else {
		uart_init(&uart, &l.cons);
		r = uart_register(&uart, &vm.io);
		if (r == 0)
			r = chipset_register(&vm.io);
		if (r < 0)
			errx(EX_SOFTWARE, "builtin machine ports: %s", strerror(-r));
		/*
		 * The guest runs in this process: no capability from here on (the
		 * VM's descriptors are open, and what is left to remove is root's
		 * own files), and nothing gained by exec.
		 */
		r = confine_caps(NULL, 0);
		if (r < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			errx(EX_OSERR, "giving up capabilities before the guest runs: %s",
			     strerror(r < 0 ? -r : errno));
		why = kvm_vcpu_run(&vm, &l.cons);
	}
	kvm_vm_destroy(&vm);
	main_close(&l, &o);
	return (int)why;
}
