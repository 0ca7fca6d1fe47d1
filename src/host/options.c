/* options.c: kvmload's options in one table with their help, and their parsing into struct opts: each value checked, each refusal exit 64 naming it. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "disk.h"
#include "env_var.h"
#include "log.h"
#include "memsize.h"
#include "options.h"
#include "opttab.h"
#include "release.h"
#include "rundir.h"
#include "vmopt.h"

#ifndef KVMLOAD_LOADER_DIR
#define KVMLOAD_LOADER_DIR "/usr/local/lib/kvmload"
#endif
#ifndef KVMLOAD_VERSION
#define KVMLOAD_VERSION "unknown"
#endif

enum {
	OPT_LOAD_ONLY = OPTTAB_LONG, OPT_LOADER_DIR, OPT_VIEW, OPT_BOOT_PART, OPT_TRUST, OPT_NO_SANDBOX,
	OPT_HELP, OPT_RUN, OPT_ACCEL, OPT_CPUS, OPT_NET, OPT_RO, OPT_RELEASE_FD, OPT_FORMAT, OPT_DISK_FD,
	OPT_USER, OPT_MAC, OPT_CONSOLE_SOCKET, OPT_LOADER_TIMEOUT
};

static const struct opttab options_table[] = {
	{ 'c', "console", "DEV", false, "console: a tty device or \"stdio\" (default)" },
	{ 'd', "disk", "PATH", false,
	  "guest disk: an image in any format QEMU reads, or a block device (up to " OPTTAB_STR(LOADER_NDISKS)
	  "; 30 on QEMU, 29 with --net); the loader reads it, the guest writes it unless --ro or it is read-only" },
	{ OPT_DISK_FD, "disk-fd", "N:PATH", false,
	  "the disk PATH, opened by the caller as descriptor N (as -d; kvmload-hotplug hands its disks on this way)" },
	{ OPT_FORMAT, "format", "FMT", false,
	  "the -d disks after it are FMT (raw, qcow2, vmdk, vpc, vhdx, ...); auto (default): an image file's "
	  "content says, a block device is raw" },
	{ 'e', "env", "NAME=VALUE", false, "loader environment variable (repeatable)" },
	{ 'h', "host", "PATH", false, "host directory shown to the loader as host0:" },
	{ 'l', "loader", "PATH", false,
	  "the userboot plugin to run (no interpreter swap); a name without a slash is looked for in the plugin "
	  "directory, then in the current directory" },
	{ OPT_LOADER_DIR, "loader-dir", "DIR", false,
	  "where userboot_<interp>.so and userboot.so are looked for first (default " KVMLOAD_LOADER_DIR
	  "), then in the guest's own /boot" },
	{ OPT_NO_SANDBOX, "no-sandbox", NULL, false,
	  "debugging only: run the plugin without its sandbox (seccomp, Landlock, no capabilities)" },
	{ OPT_TRUST, "trust-guest-loader", NULL, false,
	  "with --no-sandbox, allow a plugin from the guest's own /boot; without it, accepted and ignored "
	  "(such a plugin runs in the sandbox like any other)" },
	{ OPT_LOADER_TIMEOUT, "loader-timeout", "SECONDS", false,
	  "end the load (status 1) when the loader has not booted within SECONDS (1-86400, from the plugin's "
	  "start, time at the loader prompt included); default: no limit" },
	{ OPT_VIEW, "view", "DIR", false,
	  "read host files through this existing kvmload-fs view instead of starting one under " RUNDIR_BASE
	  "/VMNAME (not as root: $XDG_RUNTIME_DIR/kvmload/VMNAME)" },
	{ OPT_BOOT_PART, "boot-part", "NAME", false,
	  "the view directory served as host0: (e.g. disk0p2, or a ZFS dataset: zroot/ROOT/default); default "
	  "host0 with -h, else the first UFS partition, then ZFS boot dataset, holding /boot/loader or "
	  "/boot/kernel" },
	{ 'm', "memory", "SIZE", false,
	  "guest memory (default 256M): 2M to 64T in whole 4 KiB pages; a K, M, G or T suffix (either case) "
	  "scales by 1024s, a bare number below 1048576 is MiB, else bytes" },
	{ 'C', "core", NULL, false, "include guest memory in core dumps" },
	{ 'S', "wire", NULL, false, "lock guest memory into RAM" },
	{ OPT_RUN, "run", "MACHINE", false,
	  "qemu (default): the guest runs on QEMU; builtin: on kvmload's own minimal machine (COM1 only, test "
	  "kernels)" },
	{ OPT_LOAD_ONLY, "load-only", NULL, false,
	  "stop after the loader's exec and print the entry registers on stdout (the loader's console then "
	  "goes to stderr)" },
	{ OPT_ACCEL, "accel", "ACCEL", false, "QEMU's accelerator: kvm (default) or tcg (emulation)" },
	{ OPT_CPUS, "cpus", "N", false, "virtual CPUs (1-255, default 1)" },
	{ OPT_NET, "net", "NET", false, "none (default), user (QEMU's NAT) or tap:IFNAME, as virtio-net" },
	{ OPT_MAC, "mac", "MAC", false,
	  "the guest's MAC address (default: 52:54:00 and three bytes from vmname, so each VM has its own)" },
	{ OPT_RO, "ro", NULL, false, "the running guest gets its disks read-only" },
	{ OPT_USER, "user", "NAME", false,
	  "as root: the unprivileged user the view's daemon and QEMU run as (default " CONFINE_USER_DEFAULT ")" },
	{ OPT_CONSOLE_SOCKET, "console-socket", NULL, false,
	  "also serve the console on " RUNDIR_BASE "/VMNAME/console.sock, for kvmload-hotplug console VMNAME "
	  "(scrollback, readers, one writer)" },
	{ OPT_RELEASE_FD, "view-release-fd", "N", false,
	  "with --view: write " OPTTAB_STR(RELEASE_ASK) " to fd N once the loader is done and wait for "
	  OPTTAB_STR(RELEASE_DONE) " (the view is gone) before "
	  "QEMU opens the disks" },
	{ 'v', "verbose", NULL, false, "print diagnostics" },
	{ 'V', "version", NULL, true, "print the version" },
	{ OPT_HELP, "help", NULL, true, "this text" },
};

static const char *const options_forms[] = { "-V", NULL };

/* quiet: getopt's own messages would echo a bad option raw; options_bad escapes it. */
static const struct opttab_prog options_prog = { .name = "kvmload", .opts = options_table,
	.nopts = OPTTAB_COUNT(options_table), .operands = "vmname", .forms = options_forms, .quiet = true };

static void options_defaults(struct opts *o, int argc)
{
	memset(o, 0, sizeof(*o));
	o->release_fd = -1;
	o->qemu.cpus = 1;
	o->qemu.net = "none";
	o->memsize = GMEM_DEFAULT_SIZE;
	o->loader_dir = KVMLOAD_LOADER_DIR;
	o->env = calloc((size_t)argc, sizeof(char *));
	if (!o->env)
		err(EX_OSERR, "calloc");
}

/* -d PATH or --disk-fd N:PATH: one more disk, of the --format given before it. */
static void options_disk(struct opts *o, int ch, const char *arg)
{
	const char *opt = ch == 'd' ? "-d" : "--disk-fd";
	char *end;
	long n;

	if (o->ndisks == LOADER_NDISKS)
		errx(EX_USAGE, "%s %s: at most %d disks", opt, log_esc(arg), LOADER_NDISKS);
	o->formats[o->ndisks] = o->format;
	o->disk_fds[o->ndisks] = -1;
	o->disks[o->ndisks] = arg;
	if (ch == OPT_DISK_FD) {
		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || end == arg || *end != ':' || !end[1] || n < 3 || n > 1024 ||
		    fcntl((int)n, F_SETFD, FD_CLOEXEC) < 0)
			errx(EX_USAGE, "--disk-fd %s: expected N:PATH, N an open descriptor above 2", log_esc(arg));
		o->disk_fds[o->ndisks] = (int)n;
		o->disks[o->ndisks] = end + 1;
	}
	o->ndisks++;
}

/* --view-release-fd N: an open descriptor above 2. */
static int options_release_fd(const char *arg)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || end == arg || *end || n < 3 || n > 1024 || fcntl((int)n, F_GETFD) < 0)
		errx(EX_USAGE, "--view-release-fd %s: not an open descriptor above 2", log_esc(arg));
	return (int)n;
}

/* --run, --accel, --cpus, --net, --mac: the machine the guest runs on. */
static void options_machine(struct opts *o, int ch, const char *arg)
{
	switch (ch) {
	case OPT_RUN:
		if (strcmp(arg, "qemu") != 0 && strcmp(arg, "builtin") != 0)
			errx(EX_USAGE, "--run %s: expected qemu or builtin", log_esc(arg));
		o->builtin = strcmp(arg, "builtin") == 0;
		break;
	case OPT_ACCEL:
		if (!vmopt_accel_valid(arg))
			errx(EX_USAGE, "--accel %s: %s", log_esc(arg), VMOPT_ACCEL_RULE);
		o->qemu.accel = strcmp(arg, "tcg") == 0 ? QEMU_ACCEL_TCG : QEMU_ACCEL_KVM;
		break;
	case OPT_CPUS:
		o->qemu.cpus = vmopt_cpus(arg);
		if (o->qemu.cpus < 0)
			errx(EX_USAGE, "--cpus %s: %s", log_esc(arg), VMOPT_CPUS_RULE);
		break;
	case OPT_NET:
		if (!vmopt_net_valid(arg))
			errx(EX_USAGE, "--net %s: %s", log_esc(arg), VMOPT_NET_RULE);
		o->qemu.net = arg;
		break;
	case OPT_MAC:
		if (!vmopt_mac_valid(arg))
			errx(EX_USAGE, "--mac %s: %s", log_esc(arg), VMOPT_MAC_RULE);
		snprintf(o->qemu.mac, sizeof(o->qemu.mac), "%s", arg);
		break;
	}
}

/*
 * A malformed option (getopt_long returned ch, ':' or '?'): a message naming
 * it, the usage lines, exit 64.  optopt is 0 for a long option unknown or
 * ambiguous, a known one's value when it was given an argument it does not
 * take.
 */
static _Noreturn void options_bad(char **argv, int ch, const char *shortopts)
{
	if (ch == ':')
		warnx("option '%s' requires an argument", log_esc(argv[optind - 1]));
	else if (optopt == 0)
		warnx("unrecognized or ambiguous option '%s'", log_esc(argv[optind - 1]));
	else if (optopt >= OPTTAB_LONG || strchr(shortopts + 1, optopt))
		warnx("option '%s' takes no argument", log_esc(argv[optind - 1]));
	else
		warnx("invalid option -- '%s'", log_esc((char[]){ (char)optopt, '\0' }));
	opttab_usage(stderr, &options_prog);
	exit(EX_USAGE);
}

/* One option getopt_long returned, by its id in options_table. */
static void options_take(struct opts *o, int ch, char *arg)
{
	const char *why;

	switch (ch) {
	case 'c':
		o->cons = arg;
		break;
	case 'd':
	case OPT_DISK_FD:
		options_disk(o, ch, arg);
		break;
	case OPT_FORMAT:
		if (disk_format_arg(arg, &o->format) < 0)
			errx(EX_USAGE, "--format %s: not an image format kvmload takes (%s, or auto)", log_esc(arg),
			     disk_format_list());
		break;
	case 'e':
		if (!env_var_valid(arg))
			errx(EX_USAGE, "-e '%s': expected name=value", log_esc(arg));
		o->env[o->nenv++] = arg;
		break;
	case 'h':
		o->host = arg;
		break;
	case 'l':
		if (o->loader)
			errx(EX_USAGE, "-l %s: only one plugin may be given", log_esc(arg));
		o->loader = arg;
		break;
	case 'm':
		/* The rule kvmload-hotplug --check applies to memory = too. */
		if (memsize_arg(arg, &o->memsize, &why) < 0)
			errx(EX_USAGE, "-m %s: %s", log_esc(arg), why);
		break;
	case 'C':
		o->gmem_flags |= GMEM_F_INCORE;
		break;
	case 'S':
		o->gmem_flags |= GMEM_F_WIRED;
		break;
	case 'v':
		o->verbose++;
		break;
	case 'V':
		printf("kvmload %s\n", KVMLOAD_VERSION);
		exit(0);
	case OPT_HELP:
		opttab_help(stdout, &options_prog);
		exit(0);
	case OPT_LOAD_ONLY:
		o->load_only = true;
		break;
	case OPT_CONSOLE_SOCKET:
		o->console_socket = true;
		break;
	case OPT_LOADER_DIR:
		o->loader_dir = arg;
		o->loader_dir_given = true;
		break;
	case OPT_VIEW:
		o->view = arg;
		break;
	case OPT_BOOT_PART:
		if (!*arg)
			errx(EX_USAGE, "--boot-part '': name a directory of the view");
		o->boot_part = arg;
		break;
	case OPT_TRUST:
		o->trust_guest = true;
		break;
	case OPT_NO_SANDBOX:
		o->no_sandbox = true;
		break;
	case OPT_RUN:
	case OPT_ACCEL:
	case OPT_CPUS:
	case OPT_NET:
	case OPT_MAC:
		options_machine(o, ch, arg);
		break;
	case OPT_RO:
		o->qemu.ro = true;
		break;
	case OPT_RELEASE_FD:
		o->release_fd = options_release_fd(arg);
		break;
	case OPT_LOADER_TIMEOUT:
		o->loader_timeout = vmopt_loader_timeout(arg);
		if (o->loader_timeout < 0)
			errx(EX_USAGE, "--loader-timeout %s: %s", log_esc(arg), VMOPT_LOADER_TIMEOUT_RULE);
		break;
	case OPT_USER:
		o->user_name = arg;
		break;
	}
}

/* What no single option can say: options that exclude or need each other, the VM's name, the user. */
static void options_check(struct opts *o)
{
	char msg[256];
	int r;

	if (o->view && o->host)
		errx(EX_USAGE, "-h %s: not with --view; the view's own host0 is used (or name a "
		     "directory with --boot-part)", log_esc(o->host));
	if (o->console_socket && o->view)
		errx(EX_USAGE, "--console-socket: not with --view (the view's owner serves the console)");
	if (o->console_socket && !o->host && !o->ndisks)
		errx(EX_USAGE, "--console-socket: needs -d or -h (the socket is in the VM's runtime "
		     "directory, which kvmload holds with its view)");
	if (o->release_fd >= 0 && !o->view)
		errx(EX_USAGE, "--view-release-fd %d: only with --view (kvmload takes its own view down)",
		     o->release_fd);
	if (o->builtin && (o->qemu.accel != QEMU_ACCEL_KVM || o->qemu.cpus != 1 ||
			   strcmp(o->qemu.net, "none") != 0 || o->qemu.ro))
		errx(EX_USAGE, "--accel, --cpus, --net and --ro are QEMU's: not with --run builtin");
	if (!vmopt_name_valid(o->vmname))
		errx(EX_USAGE, "vmname '%s': %s", log_esc(o->vmname), VMOPT_NAME_RULE);
	if (o->qemu.mac[0] && strcmp(o->qemu.net, "none") == 0)
		errx(EX_USAGE, "--mac %s: only with --net user or tap:IFNAME", o->qemu.mac);
	if (!o->qemu.mac[0])
		vmopt_mac_default(o->vmname, o->qemu.mac);
	/* Whoever parses the guest's bytes (the view) or runs its code (QEMU) runs as this user. */
	r = confine_user(o->user_name, &o->user, msg, sizeof(msg));
	if (r < 0)
		errx(r == -ENOENT ? EX_NOUSER : EX_USAGE, "%s", log_esc(msg));
	o->qemu.user = &o->user;
}

void options_parse(int argc, char **argv, struct opts *o)
{
	struct opttab_getopt g;
	int ch;

	if (opttab_getopt(&options_prog, &g) < 0)
		errx(EX_SOFTWARE, "kvmload's option table does not fit opttab");
	options_defaults(o, argc);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) != -1) {
		if (ch == ':' || ch == '?')
			options_bad(argv, ch, g.shortopts);
		options_take(o, ch, optarg);
	}
	if (argc - optind != 1) {
		opttab_usage(stderr, &options_prog);
		exit(EX_USAGE);
	}
	o->vmname = argv[optind];
	options_check(o);
}
