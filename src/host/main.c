/* main.c: kvmload's fixed phase order: options, console, memory and the stopped QEMU, disks, view, loader choice, VM, the load, view release, hand-off, run; each phase's work is in the file it names. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cleanup.h"
#include "disks.h"
#include "kvm.h"
#include "load.h"
#include "loader.h"
#include "loader_choice.h"
#include "log.h"
#include "options.h"
#include "release.h"
#include "run_builtin.h"
#include "run_qemu.h"
#include "sandbox.h"
#include "view_setup.h"

/* Exit status when the view's owner does not release it (bhyve's "error"). */
#define MAIN_EX_VIEW CLEANUP_EX_VIEW

/*
 * QEMU and what the clean-up undoes (main_end): the only global state,
 * because signal handlers and atexit get no context argument.
 */
static struct run_qemu main_qemu;
static struct cleanup main_end = { .child = -1, .qemu = &main_qemu.q };

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
	struct loader_choice lc;
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
		run_qemu_spec(&main_qemu, &o);
	/* -m checked the size already (memsize_arg): what fails here is the host. */
	r = gmem_init(&l.gmem, o.memsize, o.gmem_flags);
	if (r < 0)
		errx(EX_OSERR, "guest memory of %llu bytes: %s", (unsigned long long)o.memsize,
		     strerror(-r));
	/* As early as its inputs exist: QEMU's own start overlaps the disks, the view and the loader. */
	if (on_qemu && !o.qemu_late)
		run_qemu_start(&main_qemu, &l, &o);
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
		run_builtin_make(&vm, &l);

	sandbox_init(&sb, !o.no_sandbox);
	lc = (struct loader_choice){ .loader = o.loader, .no_sandbox = o.no_sandbox,
				     .trust_guest = o.trust_guest, .where = &where };
	r = load_run(&l, &(const struct load_spec){ .choice = &lc, .sb = &sb, .timeout_s = o.loader_timeout,
						    .watch = run_qemu_watch(&main_qemu), .end = &main_end });
	if (r == -ECANCELED)
		run_qemu_ended(&main_qemu, &l);

	/* Nothing reads the view once the loader is done: release it before the guest runs. */
	if (l.host_fd >= 0)
		close(l.host_fd);
	l.host_fd = -1;
	cleanup_view_down(&main_end);
	main_release_view(&o);

	if (on_qemu) {
		int killed_by;

		why = run_qemu_guest(&main_qemu, &l, &o, &killed_by);
		main_close(&l, &o);
		/* A signal that had to end QEMU by force ends kvmload by it, after the same clean-up. */
		if (killed_by)
			cleanup_die_by(&main_end, killed_by);
		return (int)why;
	}
	why = run_builtin_guest(&vm, &l, &o);
	kvm_vm_destroy(&vm);
	main_close(&l, &o);
	return (int)why;
}
