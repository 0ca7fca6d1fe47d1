/* main.c: kvmload's command line and the fixed phase order: options, console, disks, memory, VM, plugin, exec, run. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cb.h"
#include "kvm.h"
#include "loader.h"
#include "log.h"
#include "plugin.h"
#include "uart.h"

#ifndef KVMLOAD_LOADER_DIR
#define KVMLOAD_LOADER_DIR "/usr/local/lib/kvmload"
#endif

struct opts {
	const char *cons;
	const char *disks[LOADER_NDISKS];
	int ndisks;
	char **env;
	int nenv;
	const char *host;
	const char *loader;
	const char *loader_dir;
	uint64_t memsize;
	unsigned gmem_flags;
	bool load_only;
	int verbose;
	const char *vmname;
};

/*
 * The console a signal handler must restore: the one piece of global state,
 * because a handler gets no context argument.
 */
static struct console *main_cons;

static void main_restore_console(void)
{
	if (main_cons)
		console_restore(main_cons);
}

static void main_on_signal(int sig)
{
	main_restore_console();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void main_usage(FILE *f)
{
	fprintf(f,
		"usage: kvmload [-CS] [-c cons-dev] [-d disk-path] [-e name=value] [-h host-path]\n"
		"               [-l os-loader] [-m memsize[K|k|M|m|G|g|T|t]] [--load-only]\n"
		"               [--loader-dir dir] [-v] vmname\n"
		"\n"
		"  -c, --console DEV     console: a tty device or \"stdio\" (default)\n"
		"  -d, --disk PATH       guest disk image or block device, read-only (up to 32)\n"
		"  -e, --env NAME=VALUE  loader environment variable (repeatable)\n"
		"  -h, --host PATH       host directory shown to the loader as host0:\n"
		"  -l, --loader PATH     the userboot plugin to run (no interpreter swap)\n"
		"      --loader-dir DIR  where userboot.so and userboot_<interp>.so are found\n"
		"                        (default %s)\n"
		"  -m, --memory SIZE     guest memory (default 256M)\n"
		"  -C, --core            include guest memory in core dumps\n"
		"  -S, --wire            lock guest memory into RAM\n"
		"      --load-only       stop after the loader's exec and print the entry registers\n"
		"  -v, --verbose         print diagnostics\n"
		"      --help            this text\n",
		KVMLOAD_LOADER_DIR);
}

/* VM names become file names later (runtime directories): keep them plain. */
static bool main_vmname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static void main_parse(int argc, char **argv, struct opts *o)
{
	enum { OPT_LOAD_ONLY = 256, OPT_LOADER_DIR, OPT_HELP };
	static const struct option longopts[] = {
		{ "console", required_argument, NULL, 'c' },
		{ "disk", required_argument, NULL, 'd' },
		{ "env", required_argument, NULL, 'e' },
		{ "host", required_argument, NULL, 'h' },
		{ "loader", required_argument, NULL, 'l' },
		{ "memory", required_argument, NULL, 'm' },
		{ "core", no_argument, NULL, 'C' },
		{ "wire", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "load-only", no_argument, NULL, OPT_LOAD_ONLY },
		{ "loader-dir", required_argument, NULL, OPT_LOADER_DIR },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int ch, r;

	memset(o, 0, sizeof(*o));
	o->memsize = GMEM_DEFAULT_SIZE;
	o->loader_dir = KVMLOAD_LOADER_DIR;
	o->env = calloc((size_t)argc, sizeof(char *));
	if (!o->env)
		err(EX_OSERR, "calloc");
	while ((ch = getopt_long(argc, argv, "c:d:e:h:l:m:CSv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->cons = optarg;
			break;
		case 'd':
			if (o->ndisks == LOADER_NDISKS)
				errx(EX_USAGE, "-d %s: at most %d disks", optarg, LOADER_NDISKS);
			o->disks[o->ndisks++] = optarg;
			break;
		case 'e':
			if (!env_valid(optarg))
				errx(EX_USAGE, "-e '%s': expected name=value", optarg);
			o->env[o->nenv++] = optarg;
			break;
		case 'h':
			o->host = optarg;
			break;
		case 'l':
			if (o->loader)
				errx(EX_USAGE, "-l %s: only one loader may be given", optarg);
			o->loader = optarg;
			break;
		case 'm':
			r = gmem_parse_size(optarg, &o->memsize);
			if (r < 0)
				errx(EX_USAGE, "-m %s: %s", optarg,
				     r == -ERANGE ? "size too large" : "invalid memory size");
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
		case OPT_LOAD_ONLY:
			o->load_only = true;
			break;
		case OPT_LOADER_DIR:
			o->loader_dir = optarg;
			break;
		case OPT_HELP:
			main_usage(stdout);
			exit(0);
		default:
			main_usage(stderr);
			exit(EX_USAGE);
		}
	}
	if (argc - optind != 1) {
		main_usage(stderr);
		exit(EX_USAGE);
	}
	o->vmname = argv[optind];
	if (!main_vmname_ok(o->vmname))
		errx(EX_USAGE, "vmname '%s': use 1-64 of A-Z a-z 0-9 . _ -, not starting with . or -",
		     o->vmname);
}

static void main_open_disks(struct loader *l, const struct opts *o)
{
	for (int i = 0; i < o->ndisks; i++) {
		struct loader_disk *d = &l->disks[i];
		struct stat st;
		int ssz;

		d->path = o->disks[i];
		/* Read-only, always: guest disks are never modified. */
		d->fd = open(d->path, O_RDONLY | O_CLOEXEC);
		if (d->fd < 0)
			err(EX_USAGE, "-d %s", d->path);
		if (fstat(d->fd, &st) < 0)
			err(EX_OSERR, "-d %s: fstat", d->path);
		d->secsize = 512;
		if (S_ISREG(st.st_mode)) {
			d->size = (uint64_t)st.st_size;
		} else if (S_ISBLK(st.st_mode)) {
			if (ioctl(d->fd, BLKGETSIZE64, &d->size) < 0)
				err(EX_OSERR, "-d %s: BLKGETSIZE64", d->path);
			if (ioctl(d->fd, BLKSSZGET, &ssz) == 0 && ssz > 0)
				d->secsize = (uint32_t)ssz;
		} else {
			errx(EX_USAGE, "-d %s: not a regular file or block device", d->path);
		}
		l->ndisks++;
	}
}

static void main_open_host(struct loader *l, const struct opts *o)
{
	l->host_fd = -1;
	if (!o->host)
		return;
	l->host_fd = open(o->host, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (l->host_fd < 0)
		err(EX_USAGE, "-h %s", o->host);
}

/* The plugin to start with: -l, else the loader directory's userboot.so. */
static void main_initial_loader(const struct opts *o, char *path, size_t len)
{
	int n;

	if (o->loader)
		n = snprintf(path, len, "%s", o->loader);
	else
		n = snprintf(path, len, "%s/userboot.so", o->loader_dir);
	if (n < 0 || (size_t)n >= len)
		errx(EX_USAGE, "loader path too long");
}

/*
 * Run plugins until one reaches exec.  Returns only on exec; every other
 * way out of the loader ends the process with bhyveload's status.
 */
static void main_run_loader(struct loader *l, const struct opts *o)
{
	char path[4096], msg[512];
	struct plugin p;
	void *table[CB_TABLE_MAX];
	int swaps = 0, r;

	main_initial_loader(o, path, sizeof(path));
	for (;;) {
		r = plugin_load(&p, path, msg, sizeof(msg));
		if (r < 0)
			errx(1, "%s: %s", path, msg);
		log_warnx("loader %s: %s", path, p.gen.label);
		cb_table_build(table, &p.gen);
		memset(&l->regs, 0, sizeof(l->regs));
		l->leave = LEAVE_NONE;
		r = plugin_run(&p, table, l, l->ndisks, &l->recover);
		plugin_unload(&p);
		if (r == 0)
			errx(1, "%s: loader_main returned without booting", path);
		switch (l->leave) {
		case LEAVE_EXEC:
			return;
		case LEAVE_EXIT:
			/* bhyveload's status: 1 after `quit`, 2 after `reboot`. */
			main_restore_console();
			exit(l->exit_value);
		case LEAVE_SWAP:
			if (o->loader)
				errx(1, "requested loader interpreter does not match guest userboot "
				     "(guest wants '%s'; -l %s forbids swapping)", l->swap_interp, o->loader);
			if (swaps++ > 0)
				errx(1, "%s asked to swap to '%s' after a swap already happened",
				     path, l->swap_interp);
			if (snprintf(path, sizeof(path), "%s/userboot_%s.so", o->loader_dir,
				     l->swap_interp) >= (int)sizeof(path))
				errx(1, "loader path too long");
			if (access(path, R_OK) < 0)
				err(1, "guest wants interpreter '%s': %s", l->swap_interp, path);
			log_warnx("the guest's /boot/loader wants interpreter '%s': swapping to %s",
				  l->swap_interp, path);
			/* A fresh plugin gets fresh guest memory, as after bhyveload's vm_reinit. */
			if (gmem_reset(&l->gmem) < 0)
				err(EX_OSERR, "resetting guest memory");
			continue;
		case LEAVE_ERROR:
			exit(1);
		case LEAVE_NONE:
			break;
		}
		errx(1, "%s: %s", path, plugin_fault() ? plugin_fault() : "left the loader");
	}
}

static void main_close(struct loader *l, struct opts *o)
{
	for (int i = 0; i < l->ndisks; i++)
		close(l->disks[i].fd);
	if (l->host_fd >= 0)
		close(l->host_fd);
	gmem_fini(&l->gmem);
	env_free(l);
	free(o->env);
	main_cons = NULL;
	console_close(&l->cons);
}

int main(int argc, char **argv)
{
	struct loader l;
	struct opts o;
	struct kvm_vm vm;
	struct uart uart;
	enum vm_exit why;
	int r;

	main_parse(argc, argv, &o);
	log_init("kvmload", o.verbose);
	memset(&l, 0, sizeof(l));

	r = console_open(&l.cons, o.cons);
	if (r < 0)
		errx(EX_USAGE, "-c %s: %s", o.cons,
		     r == -ENOTSUP ? "not a character device" : strerror(-r));
	main_cons = &l.cons;
	atexit(main_restore_console);
	signal(SIGINT, main_on_signal);
	signal(SIGTERM, main_on_signal);
	signal(SIGHUP, main_on_signal);
	signal(SIGQUIT, main_on_signal);

	main_open_disks(&l, &o);
	main_open_host(&l, &o);
	r = env_build(&l, o.env, o.nenv);
	if (r < 0)
		errx(EX_OSERR, "environment: %s", strerror(-r));

	r = gmem_init(&l.gmem, o.memsize, o.gmem_flags);
	if (r < 0)
		errx(r == -EINVAL ? EX_USAGE : EX_OSERR, "guest memory of %llu bytes: %s",
		     (unsigned long long)o.memsize,
		     r == -EINVAL ? "at least 2 MiB, in whole pages" : strerror(-r));
	if (kvm_vm_create(&vm, &l.gmem) < 0 || kvm_vcpu_create(&vm) < 0)
		exit(EX_OSERR);

	main_run_loader(&l, &o);

	if (kvm_x86_apply(&vm, &l.regs, &l.gmem) < 0)
		exit(1);
	if (o.load_only) {
		if (kvm_vcpu_dump(&vm, stdout) < 0)
			exit(EX_OSERR);
		why = 0;
	} else {
		uart_init(&uart, &l.cons);
		why = kvm_vcpu_run(&vm, &uart);
		if (why == VM_EXIT_TRIPLEFAULT || why == VM_EXIT_ERROR)
			kvm_vcpu_dump(&vm, stderr);
	}
	kvm_vm_destroy(&vm);
	main_close(&l, &o);
	return (int)why;
}
