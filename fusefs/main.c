/* main.c: kvmload-fs command line, background start-up, the split into the owner that opens and mounts and the confined reader that probes (the server, --list's child), and the session loop. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "confine.h"
#include "disk.h"
#include "fs_confine.h"
#include "fs_ops.h"
#include "log.h"
#include "mnt.h"
#include "opttab.h"
#include "owner.h"

#define MAIN_MAXOPTS 32

/*
 * One --disk PATH (fd -1; format NULL: detect), --disk-fd N:PATH (the disk
 * PATH, opened as fd N by our caller) or --raw-fd N:NAME (fd N holds the
 * guest-visible bytes: raw).
 */
struct main_disk {
	const char *path;
	const char *format;
	int fd;
	bool raw;
};

struct main_opts {
	struct main_disk disks[TREE_MAXDISKS];
	unsigned ndisks;
	const char *format;
	const char *host;
	const char *mnt;
	const char *user;  /* --user; NULL: CONFINE_USER_DEFAULT */
	char *fuse_opts[MAIN_MAXOPTS];
	unsigned nfuse_opts;
	bool foreground, list, allow_exec;
	int ready_fd;
};

/* -o options passed on to the mount: only these, which change nothing a guest's files could use. */
static const char *const main_fuse_harmless[] = {
	"ro", "nosuid", "nodev", "noexec", "allow_other", "allow_root", "default_permissions", "atime", "noatime",
	"relatime", "norelatime", "strictatime", "nostrictatime", "diratime", "nodiratime", "lazytime",
	"nolazytime", "sync", "async", "dirsync", "nosymfollow", "debug",
};

/* -o options refused with a reason of their own (a name ending in '=' takes any value). */
static const struct main_fuse_refusal {
	const char *name;
	const char *why;
} main_fuse_refused[] = {
	{ "suid", "a view is always nosuid: no file on a guest disk runs with its owner's privilege" },
	{ "dev", "a view is always nodev: no device node on a guest disk opens a host device" },
	{ "fsname=", "kvmload-fs names its mounts fsname=kvmload,subtype=" MNT_SUBTYPE
		     " itself: the already-mounted and remount guards find them by it" },
	{ "subtype=", "kvmload-fs names its mounts fsname=kvmload,subtype=" MNT_SUBTYPE
		      " itself: the already-mounted and remount guards find them by it" },
	{ "auto_unmount", "kvmload-fs removes its mount itself when its server ends" },
};

enum { OPT_DISK = OPTTAB_LONG, OPT_DISK_FD, OPT_RAW_FD, OPT_FORMAT, OPT_HOST, OPT_LIST, OPT_READY, OPT_USER,
       OPT_ALLOW_EXEC };

static const struct opttab main_options[] = {
	{ OPT_DISK, "disk", "PATH", false,
	  "a disk image (any format QEMU reads) or block device (repeatable, up to " OPTTAB_STR(TREE_MAXDISKS)
	  "): disk0, disk1, ..." },
	{ OPT_FORMAT, "format", "FMT", false,
	  "the disks after it are FMT (raw, qcow2, vmdk, vpc, vhdx, ...; auto: detected, the default)" },
	{ OPT_DISK_FD, "disk-fd", "N:PATH", false, "the disk PATH, opened by the caller as descriptor N (as --disk)" },
	{ OPT_RAW_FD, "raw-fd", "N:NAME", false,
	  "descriptor N holds a disk's guest-visible bytes (raw); NAME for messages" },
	{ OPT_HOST, "host", "PATH", false,
	  "a host directory, shown as host0 (read as --user: it must be readable by them)" },
	{ OPT_LIST, "list", NULL, true, "print every disk's partitions and exit (no mount)" },
	{ OPT_READY, "ready-fd", "N", false, "write one byte to fd N once the mount answers, then close it" },
	{ 'f', NULL, NULL, false, "stay in the foreground" },
	{ OPT_USER, "user", "NAME", false,
	  "the unprivileged user that reads the disks and serves the view (as root; default "
	  CONFINE_USER_DEFAULT ")" },
	{ OPT_ALLOW_EXEC, "allow-exec", NULL, false,
	  "let guest files be executed (never setuid): the mount is noexec otherwise" },
	{ 'o', NULL, "OPT[,OPT]", false,
	  "FUSE mount options: ro, noexec, allow_other, allow_root, noatime, ... (ro,nosuid,nodev are always "
	  "added; suid, dev, exec, fsname= and subtype= are refused)" },
	{ 'h', "help", NULL, true, "this help" },
	{ 'V', "version", NULL, true, "print the version" },
};

static const char *const main_forms[] = { "--list [--format FMT] --disk PATH [--disk PATH ...]", "-h | -V", NULL };

static const struct opttab_prog main_cli = { .name = "kvmload-fs", .opts = main_options,
	.nopts = OPTTAB_COUNT(main_options), .operands = "MOUNTPOINT", .forms = main_forms,
	.about = "A read-only FUSE view of FreeBSD guest disks (UFS1/UFS2 in GPT, MBR and BSD-label partitions) "
		 "and of a host tree, named as FreeBSD's loader names them." };

/* An inherited descriptor's number, ending at *end (NUL or ':'). */
static int main_fd_arg(const char *opt, const char *s, char **end)
{
	long v;

	errno = 0;
	v = strtol(s, end, 10);
	if (errno || *end == s || (**end && **end != ':') || v < 0 || v > INT32_MAX)
		errx(EX_USAGE, "%s %s: not a file descriptor number", opt, s);
	/* Ours alone: no child (an image's exporter, fusermount3) inherits it. */
	if (fcntl((int)v, F_SETFD, FD_CLOEXEC) < 0)
		errx(EX_USAGE, "%s %s: %s", opt, s, strerror(errno));
	return (int)v;
}

static void main_add_disk(struct main_opts *o, const char *opt, const char *arg)
{
	struct main_disk *d = &o->disks[o->ndisks];
	char *end;

	if (o->ndisks == TREE_MAXDISKS)
		errx(EX_USAGE, "%s %s: at most %d disks", opt, arg, TREE_MAXDISKS);
	d->path = arg;
	d->format = o->format;
	d->fd = -1;
	d->raw = !strcmp(opt, "--raw-fd");
	if (strcmp(opt, "--disk") != 0) {
		d->fd = main_fd_arg(opt, arg, &end);
		if (*end != ':' || !end[1])
			errx(EX_USAGE, "%s %s: expected N:%s", opt, arg, d->raw ? "NAME" : "PATH");
		d->path = end + 1;
	}
	o->ndisks++;
}

/* True when one of the -o lists holds the option `name`. */
static bool main_has_fuse_opt(const struct main_opts *o, const char *name)
{
	bool found = false;

	for (unsigned i = 0; i < o->nfuse_opts && !found; i++) {
		char *copy = strdup(o->fuse_opts[i]), *save = NULL;

		if (!copy)
			err(EX_OSERR, "strdup");
		for (char *tok = strtok_r(copy, ",", &save); tok && !found; tok = strtok_r(NULL, ",", &save))
			found = strcmp(tok, name) == 0;
		free(copy);
	}
	return found;
}

/* One -o option: harmless, or refused (64) with a message naming it; known lists the harmless ones. */
static void main_check_fuse_opt(const char *tok, bool allow_exec, const char *known)
{
	if (strcmp(tok, "exec") == 0) {
		if (!allow_exec)
			errx(EX_USAGE, "-o exec: a view is noexec; use --allow-exec to let its files be executed");
		return;
	}
	for (size_t i = 0; i < sizeof(main_fuse_refused) / sizeof(main_fuse_refused[0]); i++) {
		const struct main_fuse_refusal *f = &main_fuse_refused[i];
		size_t n = strlen(f->name);

		if (f->name[n - 1] == '=' ? strncmp(tok, f->name, n) == 0 : strcmp(tok, f->name) == 0)
			errx(EX_USAGE, "-o %s: refused: %s", log_esc(tok), f->why);
	}
	for (size_t i = 0; i < sizeof(main_fuse_harmless) / sizeof(main_fuse_harmless[0]); i++)
		if (strcmp(tok, main_fuse_harmless[i]) == 0)
			return;
	errx(EX_USAGE, "-o %s: not an option kvmload-fs passes to its mount (it takes %s and exec with --allow-exec)",
	     log_esc(tok), known);
}

static void main_check_fuse_opts(const struct main_opts *o)
{
	char known[512] = "";

	for (size_t i = 0; i < sizeof(main_fuse_harmless) / sizeof(main_fuse_harmless[0]); i++)
		snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "",
			 main_fuse_harmless[i]);
	for (unsigned i = 0; i < o->nfuse_opts; i++) {
		char *copy = strdup(o->fuse_opts[i]), *save = NULL;

		if (!copy)
			err(EX_OSERR, "strdup");
		for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			main_check_fuse_opt(tok, o->allow_exec, known);
		free(copy);
	}
}

/*
 * mount(8) -o remount on our mount runs mount.fuse3, which runs the program
 * named by the subtype, us, as "kvmload-fs SOURCE MOUNTPOINT -o OPTS,remount".
 * The kernel would let a FUSE mount go rw; we refuse before it is asked.
 */
static void main_refuse_remount(int argc, char **argv, const struct main_opts *o)
{
	const char *mnt = optind < argc ? argv[argc - 1] : "mount point";

	if (main_has_fuse_opt(o, "rw"))
		errx(EX_USAGE, "%s: cannot remount read-write: %s (a kvmload-fs view is always read-only)", mnt,
		     strerror(EROFS));
	errx(EX_USAGE, "%s: cannot remount a kvmload-fs view: unmount it and start kvmload-fs again", mnt);
}

static void main_parse(int argc, char **argv, struct main_opts *o)
{
	struct opttab_getopt g;
	int c;

	if (opttab_getopt(&main_cli, &g) < 0)
		errx(EX_SOFTWARE, "kvmload-fs's option table does not fit opttab");
	memset(o, 0, sizeof(*o));
	o->ready_fd = -1;
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DISK:
			main_add_disk(o, "--disk", optarg);
			break;
		case OPT_DISK_FD:
			main_add_disk(o, "--disk-fd", optarg);
			break;
		case OPT_RAW_FD:
			main_add_disk(o, "--raw-fd", optarg);
			break;
		case OPT_FORMAT:
			if (disk_format_arg(optarg, &o->format) < 0)
				errx(EX_USAGE, "--format %s: not an image format kvmload-fs reads (%s, or auto)", optarg,
				     disk_format_list());
			break;
		case OPT_HOST:
			if (o->host)
				errx(EX_USAGE, "--host %s: only one host tree (host0)", optarg);
			o->host = optarg;
			break;
		case OPT_LIST:
			o->list = true;
			break;
		case OPT_READY: {
			char *end;

			o->ready_fd = main_fd_arg("--ready-fd", optarg, &end);
			if (*end)
				errx(EX_USAGE, "--ready-fd %s: not a file descriptor number", optarg);
			break;
		}
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_ALLOW_EXEC:
			o->allow_exec = true;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'o':
			if (o->nfuse_opts == MAIN_MAXOPTS)
				errx(EX_USAGE, "-o %s: too many -o options", optarg);
			o->fuse_opts[o->nfuse_opts++] = optarg;
			break;
		case 'h':
			opttab_help(stdout, &main_cli);
			exit(0);
		case 'V':
			printf("kvmload-fs %s\n", KVMLOAD_VERSION);
			exit(0);
		default:
			opttab_usage(stderr, &main_cli);
			exit(EX_USAGE);
		}
	}
	if (main_has_fuse_opt(o, "remount"))
		main_refuse_remount(argc, argv, o);
	/* The view is read-only whatever -o says. */
	if (main_has_fuse_opt(o, "rw"))
		errx(EX_USAGE, "-o rw: the view is read-only");
	main_check_fuse_opts(o);
	if (optind < argc)
		o->mnt = argv[optind++];
	if (optind < argc)
		errx(EX_USAGE, "%s: unexpected argument", argv[optind]);
	if (o->list) {
		if (o->mnt)
			errx(EX_USAGE, "%s: --list mounts nothing", o->mnt);
		if (!o->ndisks)
			errx(EX_USAGE, "--list needs at least one --disk");
		return;
	}
	if (!o->mnt) {
		opttab_usage(stderr, &main_cli);
		exit(EX_USAGE);
	}
	if (!o->ndisks && !o->host)
		errx(EX_USAGE, "nothing to show: give --disk or --host");
}

/* The status for a disk that could not be opened or taken (-errno as disk_open gives it). */
static int main_open_status(int r)
{
	return r == -ENODEV || r == -EINVAL ? EX_USAGE : r == -EMEDIUMTYPE ? EX_DATAERR : r == -EIO ? EX_IOERR :
	       r == -ENOMEM ? EX_OSERR : r == -ETIMEDOUT || r == -ENOPKG ? EX_UNAVAILABLE : EX_NOINPUT;
}

/*
 * The opening step, as the caller (root when it mounts: a path is opened with
 * its privilege), before the mount: each disk opened, a non-raw image's
 * exporter started as reader (the server's user), and the host tree opened.
 * Of a disk only the image header disk_open looks at is read here; its
 * partitions and file systems are main_probe's, confined.
 */
static void main_open(struct tree *t, const struct main_opts *o, const struct confine_user *reader)
{
	tree_init(t);
	for (unsigned i = 0; i < o->ndisks; i++) {
		const struct main_disk *d = &o->disks[i];
		char err[1400] = "";
		int r = tree_open_disk(t, d->path, d->format, d->fd, d->raw, reader, err, sizeof(err));

		if (r < 0)
			errx(main_open_status(r), "%s: %s", d->path, err);
	}
	if (o->host) {
		int r = tree_set_host(t, o->host);

		if (r < 0)
			errx(r == -ENOMEM ? EX_OSERR : EX_NOINPUT, "%s: %s", o->host, strerror(-r));
	}
	/*
	 * The reader opens no file once confined: OpenSSL's configuration and
	 * digests are loaded now (one it lacks leaves its blocks unverified, as
	 * it would later).
	 */
	zfs_cksum_prepare();
}

/*
 * The probing step, in a confined process (the server, or --list's reader):
 * each disk taken, its partition tables, superblocks and pool labels read,
 * the tree built.  0, or the exit status with the reason said on stderr, as
 * "PATH: why".
 */
static int main_probe(struct tree *t, const struct main_opts *o)
{
	for (unsigned i = 0; i < t->ndisks; i++) {
		const char *path = o->disks[i].path;
		char err[1400] = "";
		int r = blkdev_take(&t->disks[i], err, sizeof(err));

		if (r < 0) {
			log_warnx("%s: %s", path, err);
			return main_open_status(r);
		}
		r = tree_probe_disk(t, i, err, sizeof(err));
		if (r < 0) {
			log_warnx("%s: %s", path, err);
			return r == -ENOMEM ? EX_OSERR : r == -EINVAL ? EX_DATAERR : EX_IOERR;
		}
	}
	if (tree_finish(t) < 0) {
		log_warnx("out of memory");
		return EX_OSERR;
	}
	return 0;
}

/* Labels are untrusted bytes: keep them on one line. */
static void main_print_label(const char *s)
{
	if (!*s) {
		fputs("-", stdout);
		return;
	}
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void main_print(const struct tree *t)
{
	printf("%-10s %-6s %-14s %12s %12s %-5s %s\n", "NAME", "SCHEME", "TYPE", "START", "SIZE", "FS", "LABEL");
	for (size_t i = 0; i < t->nparts; i++) {
		const struct tree_part *tp = t->parts[i];

		char start[24] = "-", size[24] = "-";

		/* A refused entry serves nothing; what its table says went to stderr. */
		if (!tp->p.refused) {
			snprintf(start, sizeof(start), "%llu", (unsigned long long)tp->p.start);
			snprintf(size, sizeof(size), "%llu", (unsigned long long)tp->p.size);
		}
		printf("%-10s %-6s %-14s %12s %12s %-5s ", tp->p.name, probe_scheme_name(tp->p.scheme), tp->p.type,
		       start, size, tp->zmember ? "zfs" : !tp->fs ? "none" : tp->info.version == 1 ? "ufs1" : "ufs2");
		main_print_label(tree_part_label(tp));
		putchar('\n');
	}
	if (t->zset)
		zfs_set_list(t->zset, stdout);
}

/*
 * --list: the disks are opened here (main_open); a child confined as the
 * server is (the --user, no capability, Landlock, the seccomp allowlist)
 * reads them and prints.  This process only waits, then stops the exporters.
 */
static int main_list(struct tree *t, const struct main_opts *o, const struct confine_user *u)
{
	pid_t self = getpid(), pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		err(EX_OSERR, "fork");
	if (pid == 0) {
		char msg[512];
		int r;

		prctl(PR_SET_NAME, "kvmload-fs-list", 0, 0, 0);
		r = fs_confine_enter(u, self, -1, false, msg, sizeof(msg));
		if (r < 0) {
			log_warnx("%s", msg);
			_exit(EX_OSERR);
		}
		status = main_probe(t, o);
		if (status == 0) {
			main_print(t);
			status = fflush(stdout) == 0 ? 0 : EX_IOERR;
		}
		/* _exit: the exporters are this process's parent's children, stopped by it. */
		_exit(status);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			err(EX_OSERR, "waitpid");
	return owner_status("the disks' reader", pid, status, "");
}

/*
 * A second kvmload-fs on a mount point would stack a second mount over the
 * first: the topmost mount there must not be ours; "fuse.kvmload" is what
 * older versions mounted.
 */
static void main_check_not_mounted(const char *mnt)
{
	char *path = mnt_abs_path(mnt);
	struct mnt_top top;
	int r;

	if (!path)
		return; /* the stat() that follows says what is wrong with it */
	r = mnt_top(path, &top);
	free(path);
	if (r < 0)
		errx(EX_OSERR, "/proc/self/mountinfo: %s", strerror(-r));
	if (r == 1 && (strcmp(top.type, MNT_TYPE) == 0 || strcmp(top.type, "fuse.kvmload") == 0))
		errx(EX_USAGE, "%s: already a kvmload-fs mount point (%s); unmount it first: fusermount3 -u %s", mnt,
		     top.type, mnt);
}

/* Who reads the disks and serves the view (or lists them): 67 for a user that does not exist, 64 for root or another's. */
static void main_user(const struct main_opts *o, struct confine_user *u)
{
	char msg[512];
	int r = confine_user(o->user, u, msg, sizeof(msg));

	if (r < 0)
		errx(r == -ENOENT ? EX_NOUSER : EX_USAGE, "%s", log_esc(msg));
}

/*
 * Background mode: fork before mounting and keep the parent until the child
 * reports the mount live (one byte) or dies, so the caller's exit status is true.
 */
static int main_background(void)
{
	int p[2], status;
	pid_t pid;
	char byte;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		err(EX_OSERR, "pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		err(EX_OSERR, "fork");
	if (pid == 0) {
		close(p[0]);
		setsid();
		return p[1];
	}
	close(p[1]);
	do
		n = read(p[0], &byte, 1);
	while (n < 0 && errno == EINTR);
	/* _exit: the session and the mount belong to the child; nothing of them is the parent's to free. */
	if (n == 1)
		_exit(0);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			err(EX_OSERR, "waitpid");
	_exit(WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : EX_OSERR);
}

static void main_detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* stderr stays: corrupt-metadata reports must reach whoever started us. */
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
		err(EX_OSERR, "/dev/null");
	close(fd);
	if (chdir("/") < 0)
		err(EX_OSERR, "chdir /");
}

/*
 * The server, the mount owner's child: the one process that reads the disks'
 * contents (main_probe, before it answers the kernel's first request, so the
 * view is ready only with its tree built) and answers the kernel, confined
 * before either.  It never unmounts (the owner does) and leaves with _exit:
 * freeing the tree would stop the image exporter, the owner's child.  A disk
 * it cannot read ends it with main_probe's status, which the owner passes on.
 */
static _Noreturn void main_server(struct fuse_session *se, struct fs_ctx *ctx, const struct main_opts *o,
				  const struct confine_user *u, pid_t owner, const sigset_t *mask)
{
	struct fuse_loop_config *cfg;
	char msg[512];
	int r;

	prctl(PR_SET_NAME, "kvmload-fs-srv", 0, 0, 0);
	/* libfuse's SIGTERM, SIGINT and SIGHUP end the loop; the owner passes them on. Before the filter. */
	if (fuse_set_signal_handlers(se) != 0)
		_exit(EX_OSERR);
	r = fs_confine_enter(u, owner, ctx->tree->host ? hostfs_root_fd(ctx->tree->host) : -1, true, msg,
			     sizeof(msg));
	if (r < 0) {
		log_warnx("%s", msg);
		_exit(EX_OSERR);
	}
	sigprocmask(SIG_SETMASK, mask, NULL);
	r = main_probe(ctx->tree, o);
	if (r != 0)
		_exit(r);
	/* The UFS reader and hostfs are safe for concurrent requests: one worker per /dev/fuse clone. */
	cfg = fuse_loop_cfg_create();
	if (!cfg) {
		r = -ENOMEM;
	} else {
		fuse_loop_cfg_set_clone_fd(cfg, 1);
		r = fuse_session_loop_mt(se, cfg);
	}
	if (r < 0)
		log_warnx("session loop: %s", strerror(-r));
	_exit(r < 0 ? EX_OSERR : 0);
}

/*
 * The owner lets go of what answers the kernel, so the connection ends with
 * the server (the mount then says ENOTCONN instead of hanging), and of every
 * capability but unmounting (CAP_SYS_ADMIN) and signalling the server, which
 * runs as another user (CAP_KILL).
 */
static void main_let_go(struct fuse_session *se, struct fs_ctx *ctx, const struct confine_user *u)
{
	static const int keep[] = { CAP_SYS_ADMIN, CAP_KILL };
	int spare = open("/dev/fuse", O_RDWR | O_CLOEXEC), r;

	/*
	 * A /dev/fuse of no connection in the session's place: libfuse's
	 * fuse_session_unmount then finds it in error (POLLERR), takes the mount
	 * for gone and only frees what fuse_session_mount allocated; the owner
	 * unmounts itself, and only its own mount.
	 */
	if (spare < 0 || dup3(spare, fuse_session_fd(se), O_CLOEXEC) < 0)
		log_warn("/dev/fuse in place of the session's");
	if (spare >= 0)
		close(spare);
	if (ctx->ready_fd >= 0)
		close(ctx->ready_fd);
	if (ctx->notify_fd >= 0)
		close(ctx->notify_fd);
	ctx->ready_fd = ctx->notify_fd = -1;
	if (u->drop && (r = confine_caps(keep, sizeof(keep) / sizeof(keep[0]))) < 0)
		log_warnx("the mount owner's capabilities: %s", strerror(-r));
}

/*
 * Mount (the only step that needs privilege), then fork the server; this
 * process, the mount owner, waits for it and removes the mount it made.
 * The server's status.
 */
static int main_serve(struct fuse_session *se, const struct main_opts *o, struct fs_ctx *ctx,
		      const struct confine_user *u)
{
	char *abs = mnt_abs_path(o->mnt);
	struct owner ow = { .mnt = abs };
	pid_t self = getpid();
	struct mnt_top top;
	sigset_t held;
	int status, r;

	if (!abs)
		err(EX_OSERR, "%s", o->mnt);
	owner_signals(&ow.signals);
	/*
	 * Blocked from before the mount to the owner's exit: one that comes early
	 * waits for the server, one that comes late cannot cut the clean-up short.
	 */
	sigprocmask(SIG_BLOCK, &ow.signals, &held);
	if (fuse_session_mount(se, o->mnt) != 0) {
		free(abs);
		return EX_OSERR; /* libfuse said why */
	}
	r = mnt_top(ow.mnt, &top);
	if (r != 1 || strcmp(top.type, MNT_TYPE) != 0) {
		log_warnx("%s: the mount just made is not on top in /proc/self/mountinfo (%s)", log_esc(ow.mnt),
			  r < 0 ? strerror(-r) : r == 0 ? "nothing mounted" : top.type);
		status = EX_OSERR;
		goto out_unmount;
	}
	ow.mnt_id = top.id;
	ow.mnt_unique = top.unique;
	if (!o->foreground)
		main_detach_stdio();
	fflush(NULL);
	ow.server = fork();
	if (ow.server < 0) {
		log_warn("fork");
		status = EX_OSERR;
		goto out_unmount;
	}
	if (ow.server == 0)
		main_server(se, ctx, o, u, self, &held);
	main_let_go(se, ctx, u);
	status = owner_wait(&ow);
out_unmount:
	/* Once the server has run, this only frees (see main_let_go). */
	fuse_session_unmount(se);
	free(abs);
	return status;
}

int main(int argc, char **argv)
{
	struct main_opts o;
	struct tree t;
	struct fs_ctx ctx;
	struct confine_user user;
	struct stat st;
	char *fargv[4 + 2 * MAIN_MAXOPTS];
	int fargc = 0, status, notify_fd = -1;
	struct fuse_args args;
	struct fuse_session *se;

	log_init("kvmload-fs", 0);
	/*
	 * Bounded memory under the multi-threaded loop: decompressed blocks (64 KiB
	 * and up) are mapped and unmapped one by one, so memory the block cache lets
	 * go is returned at once rather than kept in a per-thread malloc arena; two
	 * arenas for the rest.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 10);
	mallopt(M_ARENA_MAX, 2);
	main_parse(argc, argv, &o);
	main_user(&o, &user);
	if (!o.list)
		main_check_not_mounted(o.mnt);
	/*
	 * Into the background before the disks are opened: an image's exporter
	 * is our child and dies with its parent (PR_SET_PDEATHSIG), which must be
	 * the daemon, not the process that returns to the shell.
	 */
	if (!o.list && !o.foreground)
		notify_fd = main_background();
	main_open(&t, &o, &user);
	if (o.list) {
		status = main_list(&t, &o, &user);
		tree_free(&t);
		return status;
	}
	if (stat(o.mnt, &st) < 0)
		err(EX_NOINPUT, "%s", o.mnt);
	if (!S_ISDIR(st.st_mode))
		errx(EX_NOINPUT, "%s: %s", o.mnt, strerror(ENOTDIR));

	fargv[fargc++] = argv[0];
	fargv[fargc++] = "-o";
	fargv[fargc++] = "fsname=kvmload,subtype=" MNT_SUBTYPE ",default_permissions";
	for (unsigned i = 0; i < o.nfuse_opts; i++) {
		fargv[fargc++] = "-o";
		fargv[fargc++] = o.fuse_opts[i];
	}
	/* Last, so nothing before can undo them (main_check_fuse_opts refuses what would). */
	fargv[fargc++] = "-o";
	fargv[fargc++] = o.allow_exec ? "ro,nosuid,nodev" : "ro,nosuid,nodev,noexec";
	args = (struct fuse_args)FUSE_ARGS_INIT(fargc, fargv);

	ctx = (struct fs_ctx){ .tree = &t, .ready_fd = o.ready_fd, .notify_fd = notify_fd };
	se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), &ctx);
	if (!se)
		errx(EX_USAGE, "cannot start a FUSE session with these options");
	status = main_serve(se, &o, &ctx, &user);
	fuse_session_destroy(se);
	fuse_opt_free_args(&args);
	tree_free(&t);
	return status;
}
