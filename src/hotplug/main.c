/* main.c: kvmload-hotplug's command line: add, remove, console, list, --monitor, --check and --dry-run. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "attach.h"
#include "hotplug.h"
#include "log.h"
#include "rundir.h"

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

static void main_usage(FILE *f)
{
	fprintf(f,
		"usage: kvmload-hotplug [options] add DEVNODE\n"
		"       kvmload-hotplug [options] remove DEVNODE\n"
		"       kvmload-hotplug [--run-dir DIR] console [--read-only | --force] VM\n"
		"       kvmload-hotplug [--run-dir DIR] list [--json]\n"
		"       kvmload-hotplug [options] --monitor\n"
		"       kvmload-hotplug [--config-dir DIR] --check\n"
		"\n"
		"Load the FreeBSD guest configured for a disk when it appears, stop it when it goes.\n"
		"\n"
		"  add DEVNODE          start the guest whose disk identity DEVNODE carries (stays\n"
		"                       in the foreground while the guest runs)\n"
		"  remove DEVNODE       stop the guest started from DEVNODE or its disk\n"
		"  console VM           attach the terminal to VM's console (kvmload-hotplug's\n"
		"                       guests, and kvmload --console-socket's); ~. detaches\n"
		"  --read-only          with console: watch only\n"
		"  --force              with console: take the input from whoever has it\n"
		"  list                 every VM in the runtime directory: state (loading, running,\n"
		"                       restarting, stopped), holder and pid, disk, uptime, last exit\n"
		"  --json               list as a JSON array of objects\n"
		"  --monitor            listen to udev and do add/remove for every FreeBSD disk\n"
		"  --check              validate the configuration, open each disk = as kvmload\n"
		"                       would, and exit\n"
		"  --dry-run            print what add or remove would do, do nothing\n"
		"  --config-dir DIR     VM definitions, DIR/*.conf (default %s)\n"
		"  --run-dir DIR        runtime state and locks (default $KVMLOAD_RUN_DIR, else %s)\n"
		"  --kvmload PATH       the kvmload binary (default %s)\n"
		"  --kvmload-fs PATH    the view daemon (default %s)\n"
		"  --stop-timeout SEC   SIGTERM to SIGKILL delay when stopping a guest (default 10)\n"
		"  -v, --verbose        also log ignored disks and every udev event\n"
		"  -h, --help           this help\n"
		"  -V, --version        print the version\n",
		MAIN_CONFIG_DIR, RUNDIR_BASE, KVMLOAD_PATH, KVMLOAD_FS_PATH);
}

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
	enum { OPT_MONITOR = 256, OPT_CHECK, OPT_DRY_RUN, OPT_CONFIG, OPT_RUN, OPT_KVMLOAD,
	       OPT_KVMLOAD_FS, OPT_STOP, OPT_READ_ONLY, OPT_FORCE, OPT_JSON };
	static const struct option longopts[] = {
		{ "monitor", no_argument, NULL, OPT_MONITOR },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "config-dir", required_argument, NULL, OPT_CONFIG },
		{ "run-dir", required_argument, NULL, OPT_RUN },
		{ "kvmload", required_argument, NULL, OPT_KVMLOAD },
		{ "kvmload-fs", required_argument, NULL, OPT_KVMLOAD_FS },
		{ "stop-timeout", required_argument, NULL, OPT_STOP },
		{ "read-only", no_argument, NULL, OPT_READ_ONLY },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->config_dir = MAIN_CONFIG_DIR;
	while ((c = getopt_long(argc, argv, "vhV", longopts, NULL)) != -1) {
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
			main_usage(stdout);
			exit(0);
		case 'V':
			printf("kvmload-hotplug %s\n", KVMLOAD_VERSION);
			exit(0);
		default:
			main_usage(stderr);
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
		main_usage(stderr);
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
		.stop_timeout = 10,
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
