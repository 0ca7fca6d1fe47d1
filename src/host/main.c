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
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cb.h"
#include "cleanup.h"
#include "disks.h"
#include "chipset.h"
#include "confine.h"
#include "disk.h"
#include "kvm.h"
#include "loader.h"
#include "loader_choice.h"
#include "plugin_child.h"
#include "plugin_pick.h"
#include "log.h"
#include "options.h"
#include "paths.h"
#include "plugin.h"
#include "qemu.h"
#include "release.h"
#include "uart.h"
#include "view_setup.h"
#include "build_paths.h"
#include "handoff.h"

/* Exit status when the view cannot be made or its daemon dies (bhyve's "error"). */
#define MAIN_EX_VIEW CLEANUP_EX_VIEW
/* ... and when the loaded guest cannot be handed to QEMU. */
#define MAIN_EX_VMM 4

/*
 * QEMU and what the clean-up undoes (main_end): the only global state,
 * because signal handlers and atexit get no context argument.
 */
static struct qemu *volatile main_qemu; /* started paused while the loader runs */
static struct handoff_stub main_stub; /* the entry stub's image, read as QEMU starts */
static struct cleanup main_end = { .child = -1, .qemu = &main_qemu };

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

/* Phase 5 follows these options. */
static void main_view_setup(const struct opts *o, struct view_setup *vs)
{
	*vs = (struct view_setup){
		.vmname = o->vmname, .view = o->view, .host = o->host, .disks = o->disks,
		.ndisks = o->ndisks, .user = o->user_name, .boot_part = o->boot_part,
		.named_loader = o->loader != NULL, .console_socket = o->console_socket,
	};
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
	const struct loader_choice lc = { .loader = o->loader, .no_sandbox = o->no_sandbox,
					  .trust_guest = o->trust_guest, .where = w };
	int swaps = 0, fd, r;

	if (main_qemu)
		watch.fd = qemu_watch_fd(main_qemu);
	fd = loader_choice_first(&lc, path, sizeof(path));
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
		r = plugin_child_run(l, &p, path, sb, until, main_qemu ? &watch : NULL, &main_end.child, &res, msg,
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
			cleanup_console(&main_end);
			exit(res.exit_value);
		case LEAVE_SWAP:
			if (o->loader)
				errx(1, "requested loader interpreter does not match guest userboot "
				     "(guest wants '%s'; -l %s forbids swapping)", res.interp, log_esc(o->loader));
			if (swaps++ > 0)
				errx(1, "%s asked to swap to '%s' after a swap already happened",
				     log_esc(path), res.interp);
			snprintf(why, sizeof(why), "guest wants interpreter '%s'", res.interp);
			c = loader_choice_pick(&lc, res.interp, true, why, &pick);
			snprintf(path, sizeof(path), "%s", c->path);
			fd = c->fd;
			log_info("the guest's /boot/loader wants interpreter '%s': swapping to %s%s%s%s",
				 res.interp, log_esc(path), c->guest ? " (" : "",
				 c->guest ? loader_choice_origin(&lc, c, res.interp, origin, sizeof(origin)) : "",
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

/* Phase 2: the console, the loader's and then the guest's. */
static void main_open_console(struct loader *l, const struct opts *o)
{
	int r = console_open(&l->cons, o->cons);

	if (r < 0)
		errx(EX_USAGE, "-c %s: %s", log_esc(o->cons), r == -ENOTTY ? "not a terminal" : strerror(-r));
	/* --load-only: standard output carries the registers alone; the loader's console goes to stderr. */
	if (o->load_only && !l->cons.own_fds) {
		l->cons.out_fd = STDERR_FILENO;
		l->cons.out_err = 0;
	}
}

/* Phase 4 on the builtin machine: the VM exists before the loader runs, so a missing /dev/kvm or memory KVM refuses is said first. */
static void main_make_vm(struct kvm_vm *vm, struct loader *l)
{
	if (kvm_vm_create(vm, &l->gmem) < 0 || kvm_vcpu_create(vm) < 0)
		exit(EX_OSERR);
	/*
	 * The plugin's process never holds it: its descriptors are closed
	 * there (plugin_child.c) and the vCPU's shared kvm_run page is not
	 * inherited at all.
	 */
	if (madvise(vm->run, vm->run_size, MADV_DONTFORK) < 0)
		err(EX_OSERR, "madvise(kvm_run, MADV_DONTFORK)");
}

/* Phase 13 on the builtin machine: the loaded registers applied, then --load-only's dump or the guest run here. */
static enum vm_exit main_run_builtin(struct kvm_vm *vm, struct loader *l, const struct opts *o)
{
	struct uart uart;
	int r;

	if (kvm_x86_apply(vm, &l->regs, &l->gmem) < 0)
		exit(1);
	if (o->load_only) {
		if (kvm_vcpu_dump(vm, stdout) < 0)
			exit(EX_OSERR);
		return 0; /* the status of a load that succeeded */
	}
	uart_init(&uart, &l->cons);
	r = uart_register(&uart, &vm->io);
	if (r == 0)
		r = chipset_register(&vm->io);
	if (r < 0)
		errx(EX_SOFTWARE, "builtin machine ports: %s", strerror(-r));
	/*
	 * The guest runs in this process: no capability from here on (the
	 * VM's descriptors are open, and what is left to remove is root's own
	 * files), and nothing gained by exec.
	 */
	r = confine_caps(NULL, 0);
	if (r < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		errx(EX_OSERR, "giving up capabilities before the guest runs: %s",
		     strerror(r < 0 ? -r : errno));
	return kvm_vcpu_run(vm, &l->cons);
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
	main_end.cons = NULL;
	console_close(&l->cons);
}

int main(int argc, char **argv)
{
	/* Static: the clean-up reads them after main has returned. */
	static struct loader l;
	struct opts o;
	struct kvm_vm vm;
	enum vm_exit why;
	char bootdir[PATH_MAX];
	struct plugin_pick_where where;
	struct view_setup vs;
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
	memset(&vm, 0, sizeof(vm));
	vm.sys_fd = vm.vm_fd = vm.vcpu_fd = -1;

	main_open_console(&l, &o);
	main_end.cons = &l.cons;
	cleanup_install(&main_end);

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
	disks_open(&(const struct disks_spec){ .paths = o.disks, .formats = o.formats, .fds = o.disk_fds,
					       .n = o.ndisks, .user = &o.user,
					       .writable = on_qemu && !o.qemu.ro },
		   &l, o.qemu.disks);
	main_end.loader = &l;
	r = env_build(&l, o.env, o.nenv);
	if (r < 0)
		errx(EX_OSERR, "environment: %s", strerror(-r));

	main_view_setup(&o, &vs);
	view_setup_make(&vs, &l, &main_end, bootdir, sizeof(bootdir));
	view_setup_console(&vs, &l, &main_end);
	where = (struct plugin_pick_where){
		.loader_dir = o.loader_dir, .guest_fd = l.host_fd, .guest_dir = bootdir,
	};

	if (!on_qemu)
		main_make_vm(&vm, &l);

	sandbox_init(&sb, !o.no_sandbox);
	main_run_loader(&l, &o, &where, &sb);

	/* Nothing reads the view once the loader is done: release it before the guest runs. */
	if (l.host_fd >= 0)
		close(l.host_fd);
	l.host_fd = -1;
	cleanup_view_down(&main_end);
	main_release_view(&o);

	if (on_qemu) {
		int killed_by;

		why = main_run_qemu(&l, &o, &killed_by);
		main_close(&l, &o);
		/* A signal that had to end QEMU by force ends kvmload by it, after the same clean-up. */
		if (killed_by)
			cleanup_on_signal(killed_by);
		return (int)why;
	}
	why = main_run_builtin(&vm, &l, &o);
	kvm_vm_destroy(&vm);
	main_close(&l, &o);
	return (int)why;
}
