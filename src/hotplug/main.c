/* main.c: kvmload-hotplug's command line: add, remove, console, list, --monitor, --check and --dry-run. */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "attach.h"
#include "hotplug.h"
#include "log.h"
#include "opttab.h"
#include "rundir.h"
#include "stop.h"

#ifndef KVMLOAD_PATH
#define KVMLOAD_PATH "/usr/local/sbin/kvmload"
#endif
#ifndef KVMLOAD_FS_PATH
#define KVMLOAD_FS_PATH "/usr/local/bin/kvmload-fs"
#endif
#define MAIN_CONFIG_DIR "/etc/kvmload"

enum main_mode { MODE_NONE, MODE_ADD, MODE_REMOVE, MODE_CONSOLE, MODE_LIST, MODE_MONITOR, MODE_CHECK };

struct main_opts {
	enum main_mode mode;
	const char *config_dir;
	const char *node;   /* add, remove: the device; console: the VM */
	bool read_only;     /* console --read-only */
	bool force;         /* console --force */
	bool json;          /* list --json */
	int verbose;
};

enum { OPT_MONITOR = OPTTAB_LONG, OPT_CHECK, OPT_DRY_RUN, OPT_CONFIG, OPT_RUN, OPT_KVMLOAD, OPT_KVMLOAD_FS,
       OPT_STOP, OPT_READ_ONLY, OPT_FORCE, OPT_JSON };

static const struct opttab main_commands[] = {
	{ 0, "add", "DEVNODE", false,
	  "start the guest whose disk identity DEVNODE carries (stays in the foreground while the guest runs)" },
	{ 0, "remove", "DEVNODE", false, "stop the guest started from DEVNODE or its disk" },
	{ 0, "console", "VM", false,
	  "attach the terminal to VM's console (kvmload-hotplug's guests, and kvmload --console-socket's); ~. "
	  "detaches" },
	{ 0, "list", NULL, false,
	  "every VM in the runtime directory: state (loading, running, restarting, stopped), holder and pid, "
	  "disk, uptime, last exit" },
};

static const struct opttab main_options[] = {
	{ OPT_READ_ONLY, "read-only", NULL, false, "with console: watch only" },
	{ OPT_FORCE, "force", NULL, false, "with console: take the input from whoever has it" },
	{ OPT_JSON, "json", NULL, false, "with list: a JSON array of objects" },
	{ OPT_MONITOR, "monitor", NULL, false, "listen to udev and do add/remove for every FreeBSD disk" },
	{ OPT_CHECK, "check", NULL, false,
	  "validate the configuration, open each disk = as kvmload would, and exit" },
	{ OPT_DRY_RUN, "dry-run", NULL, false, "print what add or remove would do, do nothing" },
	{ OPT_CONFIG, "config-dir", "DIR", false, "VM definitions, DIR/*.conf (default " MAIN_CONFIG_DIR ")" },
	{ OPT_RUN, "run-dir", "DIR", false,
	  "runtime state and locks (default $KVMLOAD_RUN_DIR, else " RUNDIR_BASE ")" },
	{ OPT_KVMLOAD, "kvmload", "PATH", false, "the kvmload binary (default " KVMLOAD_PATH ")" },
	{ OPT_KVMLOAD_FS, "kvmload-fs", "PATH", false, "the view daemon (default " KVMLOAD_FS_PATH ")" },
	{ OPT_STOP, "stop-timeout", "SEC", false,
	  "SIGTERM to SIGKILL delay when stopping a guest (default " OPTTAB_STR(STOP_VIEW_S) ")" },
	{ 'v', "verbose", NULL, false, "also log ignored disks and every udev event" },
	{ 'h', "help", NULL, true, "this help" },
	{ 'V', "version", NULL, true, "print the version" },
};

static const char *const main_forms[] = {
	"[options] add DEVNODE",
	"[options] remove DEVNODE",
	"[--run-dir DIR] console [--read-only | --force] VM",
	"[--run-dir DIR] list [--json]",
	"[options] --monitor",
	"[--config-dir DIR] --check",
	NULL,
};

static const struct opttab_prog main_cli = { .name = "kvmload-hotplug", .opts = main_options,
	.nopts = OPTTAB_COUNT(main_options), .cmds = main_commands, .ncmds = OPTTAB_COUNT(main_commands),
	.forms = main_forms,
	.about = "Load the FreeBSD guest configured for a disk when it appears, stop it when it goes." };

static int main_seconds(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 3600)
		errx(EX_USAGE, "--stop-timeout %s: expected 1 to 3600 seconds", log_esc(s));
	return (int)v;
}

static void main_parse(int argc, char **argv, struct main_opts *o, struct hotplug *h)
{
	struct opttab_getopt g;
	int c;

	if (opttab_getopt(&main_cli, &g) < 0)
		errx(EX_SOFTWARE, "kvmload-hotplug's option table does not fit opttab");
	memset(o, 0, sizeof(*o));
	o->config_dir = MAIN_CONFIG_DIR;
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MONITOR:
		case OPT_CHECK:
			if (o->mode != MODE_NONE)
				errx(EX_USAGE, "--monitor and --check exclude each other");
			o->mode = c == OPT_MONITOR ? MODE_MONITOR : MODE_CHECK;
			break;
		case OPT_DRY_RUN:
			h->dry_run = true;
			break;
		case OPT_CONFIG:
			o->config_dir = optarg;
			break;
		case OPT_RUN:
			h->run_dir = optarg;
			break;
		case OPT_KVMLOAD:
			h->kvmload = optarg;
			break;
		case OPT_KVMLOAD_FS:
			h->kvmload_fs = optarg;
			break;
		case OPT_STOP:
			h->stop_timeout = main_seconds(optarg);
			break;
		case OPT_READ_ONLY:
			o->read_only = true;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			opttab_help(stdout, &main_cli);
			exit(0);
		case 'V':
			printf("kvmload-hotplug %s\n", KVMLOAD_VERSION);
			exit(0);
		default:
			opttab_usage(stderr, &main_cli);
			exit(EX_USAGE);
		}
	}
	if (o->mode == MODE_NONE && optind < argc && strcmp(argv[optind], "list") == 0) {
		if (argc - optind > 1)
			errx(EX_USAGE, "list %s: list takes no argument", log_esc(argv[optind + 1]));
		o->mode = MODE_LIST;
		optind++;
	} else if (o->mode == MODE_NONE && argc - optind == 2) {
		if (strcmp(argv[optind], "add") == 0)
			o->mode = MODE_ADD;
		else if (strcmp(argv[optind], "remove") == 0)
			o->mode = MODE_REMOVE;
		else if (strcmp(argv[optind], "console") == 0)
			o->mode = MODE_CONSOLE;
		else
			errx(EX_USAGE, "%s: unknown command (add, remove, console or list)", log_esc(argv[optind]));
		o->node = argv[optind + 1];
		optind += 2;
	}
	if (o->mode == MODE_NONE || optind != argc) {
		opttab_usage(stderr, &main_cli);
		exit(EX_USAGE);
	}
	if (h->dry_run && o->mode != MODE_ADD && o->mode != MODE_REMOVE)
		errx(EX_USAGE, "--dry-run goes with add or remove");
	if ((o->read_only || o->force) && o->mode != MODE_CONSOLE)
		errx(EX_USAGE, "--%s goes with console", o->force ? "force" : "read-only");
	if (o->read_only && o->force)
		errx(EX_USAGE, "--read-only and --force exclude each other");
	if (o->json && o->mode != MODE_LIST)
		errx(EX_USAGE, "--json goes with list");
}

/*
 * Load the VMs; any error in any file stops everything, as with --check.
 * --check also opens every disk = as kvmload would (add does it for its VM
 * before starting anything: a disk missing now may be there by then).
 */
static void main_config(struct hotplug *h, const char *dir, bool check)
{
	int r = conf_load(&h->conf, dir, stderr);

	if (r < 0)
		errx(r == -ENOMEM ? EX_OSERR : EX_CONFIG, "%s: %s", dir, strerror(-r));
	conf_check_formats(&h->conf);
	if (check) {
		conf_check_disks(&h->conf);
		conf_check_host(&h->conf);
	}
	if (h->conf.errors && check)
		errx(EX_CONFIG, "%s: %d error%s", dir, h->conf.errors, h->conf.errors == 1 ? "" : "s");
	if (h->conf.errors)
		errx(EX_CONFIG, "%s: %d error%s in the configuration; nothing done (see --check)", dir,
		     h->conf.errors, h->conf.errors == 1 ? "" : "s");
}

static int main_add(struct hotplug *h, const char *node)
{
	const struct conf_vm *vm;
	bool ambiguous;
	struct dev d;
	int r;

	r = dev_from_node(h->udev, node, &d);
	if (r == -ENODEV)
		errx(EX_UNAVAILABLE, "%s: udev has no record of it (is systemd-udevd running?)",
		     log_esc(node));
	if (r < 0)
		errx(EX_NOINPUT, "%s: %s", log_esc(node), strerror(-r));
	vm = conf_match(&h->conf, dev_prop, &d, &ambiguous);
	if (!vm) {
		dev_free(&d);
		if (ambiguous)
			errx(EX_CONFIG, "%s: more than one vm names this disk; nothing done", log_esc(node));
		log_debug("%s: no vm names this disk; ignored", log_esc(node));
		return 0;
	}
	if (h->dry_run)
		guest_plan_add(h, vm, &d);
	else
		r = guest_add(h, vm, &d, -1);
	dev_free(&d);
	/*
	 * Another process holds the VM, or its pool's devices did not all come:
	 * worth another try once it lets go, or once they do.
	 */
	if (r == -EBUSY || r == -ETIMEDOUT)
		return EX_TEMPFAIL;
	/* A console = that is no terminal (logged), as --check says: nothing was started. */
	if (r == -ENOTTY)
		return EX_CONFIG;
	/* A disk of the VM that kvmload would refuse (logged): nothing was started. */
	if (r == -ENOMEDIUM)
		return EX_NOINPUT;
	/* Its user is missing or root (logged), as kvmload would say: nothing was started. */
	if (r == -ENOENT)
		return EX_NOUSER;
	/* kvmload refused to run the guest: its status, not a success. */
	if (r > 0)
		return r;
	return r < 0 ? EX_SOFTWARE : 0;
}

static int main_remove(struct hotplug *h, const char *node)
{
	char vm[256];
	int r;

	if (h->dry_run) {
		if (guest_find(h, node, true, vm, sizeof(vm)) == 0)
			guest_plan_remove(h, vm);
		else
			printf("%s: no guest runs from it; nothing to stop\n", node);
		return 0;
	}
	r = guest_remove_node(h, node, true);
	if (r == 0)
		log_debug("%s: no guest runs from it; nothing to stop", log_esc(node));
	return r < 0 ? EX_SOFTWARE : 0;
}

int main(int argc, char **argv)
{
	char run[4096];
	struct hotplug h = {
		.run_dir = rundir_base(run, sizeof(run)), /* kvmload's own rule: they must meet */
		.kvmload = KVMLOAD_PATH,
		.kvmload_fs = KVMLOAD_FS_PATH,
		.stop_timeout = STOP_VIEW_S,
	};
	struct main_opts o;
	int status;

	main_parse(argc, argv, &o, &h);
	log_init("kvmload-hotplug", o.verbose);
	if (o.mode == MODE_CONSOLE)
		return attach_run(h.run_dir, o.node, !o.read_only, o.force);
	if (o.mode == MODE_REMOVE) {
		/* The device may be gone already: its record in the runtime directory says which VM. */
		return main_remove(&h, o.node);
	}
	if (o.mode == MODE_LIST) {
		/* The runtime directory alone: no configuration, no udev. */
		int r = list_run(&h, o.json);

		if (r < 0)
			errx(EX_NOINPUT, "%s: %s", log_esc(h.run_dir), strerror(-r));
		return 0;
	}
	main_config(&h, o.config_dir, o.mode == MODE_CHECK);
	if (o.mode == MODE_CHECK) {
		printf("%s: %zu vm%s, no errors\n", o.config_dir, h.conf.nvms, h.conf.nvms == 1 ? "" : "s");
		conf_free(&h.conf);
		return 0;
	}
	h.udev = udev_new();
	if (!h.udev)
		errx(EX_OSERR, "udev_new");
	status = o.mode == MODE_ADD ? main_add(&h, o.node) : monitor_run(&h);
	udev_unref(h.udev);
	conf_free(&h.conf);
	return status;
}
