/* main.c: kvmload-fs command line, --list, mounting, background start-up and the session loop. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "disk.h"
#include "fs_ops.h"
#include "log.h"

#define MAIN_MAXOPTS 32
/* fuse.kvmload-fs in /proc/mounts; mount.fuse3 runs the program of that name for mount -o remount. */
#define MAIN_SUBTYPE "kvmload-fs"

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
	char *fuse_opts[MAIN_MAXOPTS];
	unsigned nfuse_opts;
	bool foreground, list;
	int ready_fd;
};

static void main_usage(FILE *f)
{
	fprintf(f,
		"usage: kvmload-fs [options] MOUNTPOINT\n"
		"       kvmload-fs --list [--format FMT] --disk PATH [--disk PATH ...]\n"
		"\n"
		"A read-only FUSE view of FreeBSD guest disks (UFS1/UFS2 in GPT, MBR and\n"
		"BSD-label partitions) and of a host tree, named as FreeBSD's loader names them.\n"
		"\n"
		"  --disk PATH     a disk image (any format QEMU reads) or block device (repeatable,\n"
		"                  up to %d): disk0, disk1, ...\n"
		"  --format FMT    the disks after it are FMT (raw, qcow2, vmdk, vpc, vhdx, ...;\n"
		"                  auto: detected, the default)\n"
		"  --disk-fd N:PATH  the disk PATH, opened by the caller as descriptor N (as --disk)\n"
		"  --raw-fd N:NAME   descriptor N holds a disk's guest-visible bytes (raw); NAME for messages\n"
		"  --host PATH     a host directory, shown as host0\n"
		"  --list          print every disk's partitions and exit (no mount)\n"
		"  --ready-fd N    write one byte to fd N once the mount answers, then close it\n"
		"  -f              stay in the foreground\n"
		"  -o OPT[,OPT]    FUSE mount options (ro is always added)\n"
		"  -h, --help      this help\n"
		"  -V, --version   print the version\n",
		TREE_MAXDISKS);
}

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
	enum { OPT_DISK = 256, OPT_DISK_FD, OPT_RAW_FD, OPT_FORMAT, OPT_HOST, OPT_LIST, OPT_READY };
	static const struct option longopts[] = {
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "disk-fd", required_argument, NULL, OPT_DISK_FD },
		{ "raw-fd", required_argument, NULL, OPT_RAW_FD },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "ready-fd", required_argument, NULL, OPT_READY },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->ready_fd = -1;
	while ((c = getopt_long(argc, argv, "fo:hV", longopts, NULL)) != -1) {
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
		case 'f':
			o->foreground = true;
			break;
		case 'o':
			if (o->nfuse_opts == MAIN_MAXOPTS)
				errx(EX_USAGE, "-o %s: too many -o options", optarg);
			o->fuse_opts[o->nfuse_opts++] = optarg;
			break;
		case 'h':
			main_usage(stdout);
			exit(0);
		case 'V':
			printf("kvmload-fs %s\n", KVMLOAD_VERSION);
			exit(0);
		default:
			main_usage(stderr);
			exit(EX_USAGE);
		}
	}
	if (main_has_fuse_opt(o, "remount"))
		main_refuse_remount(argc, argv, o);
	/* The view is read-only whatever -o says. */
	if (main_has_fuse_opt(o, "rw"))
		errx(EX_USAGE, "-o rw: the view is read-only");
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
		main_usage(stderr);
		exit(EX_USAGE);
	}
	if (!o->ndisks && !o->host)
		errx(EX_USAGE, "nothing to show: give --disk or --host");
}

static void main_build(struct tree *t, const struct main_opts *o)
{
	tree_init(t);
	for (unsigned i = 0; i < o->ndisks; i++) {
		const struct main_disk *d = &o->disks[i];
		unsigned before = t->ndisks;
		char err[1400] = "";
		int r = tree_add_disk(t, d->path, d->format, d->fd, d->raw, err, sizeof(err));

		if (r == 0)
			continue;
		if (t->ndisks == before)
			errx(r == -ENODEV || r == -EINVAL ? EX_USAGE : r == -EMEDIUMTYPE ? EX_DATAERR :
			     r == -EIO ? EX_IOERR : r == -ENOMEM ? EX_OSERR :
			     r == -ETIMEDOUT || r == -ENOPKG ? EX_UNAVAILABLE : EX_NOINPUT, "%s: %s", d->path, err);
		errx(r == -ENOMEM ? EX_OSERR : r == -EINVAL ? EX_DATAERR : EX_IOERR, "%s: %s", d->path, err);
	}
	if (o->host) {
		int r = tree_set_host(t, o->host);

		if (r < 0)
			errx(r == -ENOMEM ? EX_OSERR : EX_NOINPUT, "%s: %s", o->host, strerror(-r));
	}
	if (tree_finish(t) < 0)
		errx(EX_OSERR, "out of memory");
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

static void main_list(const struct tree *t)
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

/* A mountinfo field with its \ooo escapes (space, tab, newline, backslash) undone, in place. */
static void main_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/*
 * The mount point's absolute path, found without a stat() of it, which fails
 * on a dead FUSE mount and hangs on a stuck one: only its parent is resolved,
 * unless it ends in "." or ".." or is a symbolic link.  NULL with errno set.
 */
static char *main_abs_path(const char *mnt)
{
	char *copy = strdup(mnt), *slash, *dir, *res = NULL;
	const char *base;
	size_t n;
	char c;

	if (!copy)
		return NULL;
	for (n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
		copy[n - 1] = '\0';
	slash = strrchr(copy, '/');
	base = slash ? slash + 1 : copy;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || readlink(copy, &c, 1) >= 0) {
		res = realpath(copy, NULL);
	} else {
		if (slash && slash != copy)
			*slash = '\0';
		dir = realpath(!slash ? "." : slash == copy ? "/" : copy, NULL);
		if (dir && asprintf(&res, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", base) < 0)
			res = NULL;
		free(dir);
	}
	free(copy);
	return res;
}

/*
 * A second kvmload-fs on a mount point would stack a second mount over the
 * first.  The topmost mount there, from mountinfo (never a stat of the mount
 * point, see main_abs_path), must not be ours; "fuse.kvmload" is what older
 * versions mounted.
 */
static void main_check_not_mounted(const char *mnt)
{
	char *path = main_abs_path(mnt), *line = NULL, *type = NULL;
	size_t cap = 0;
	FILE *f;

	if (!path)
		return; /* the stat() that follows says what is wrong with it */
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		err(EX_OSERR, "/proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *tok, *point = NULL;
		unsigned field = 0;

		line[strcspn(line, "\n")] = '\0';
		for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
			if (field == 4)
				point = tok;
			if (field > 5 && strcmp(tok, "-") == 0)
				break;
		}
		tok = strtok_r(NULL, " ", &save);
		if (!point || !tok)
			continue;
		main_unescape(point);
		if (strcmp(point, path) != 0)
			continue;
		free(type);
		type = strdup(tok);
		if (!type)
			err(EX_OSERR, "strdup");
	}
	fclose(f);
	free(line);
	if (type && (strcmp(type, "fuse." MAIN_SUBTYPE) == 0 || strcmp(type, "fuse.kvmload") == 0))
		errx(EX_USAGE, "%s: already a kvmload-fs mount point (%s); unmount it first: fusermount3 -u %s", mnt,
		     type, mnt);
	free(type);
	free(path);
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

static int main_serve(struct fuse_session *se, const struct main_opts *o)
{
	struct fuse_loop_config *cfg;
	int r;

	if (fuse_session_mount(se, o->mnt) != 0)
		return EX_OSERR; /* libfuse said why */
	if (fuse_set_signal_handlers(se) != 0) {
		fuse_session_unmount(se);
		return EX_OSERR;
	}
	if (!o->foreground)
		main_detach_stdio();
	/* The UFS reader and hostfs are safe for concurrent requests: one worker per /dev/fuse clone. */
	cfg = fuse_loop_cfg_create();
	if (!cfg) {
		r = -ENOMEM;
	} else {
		fuse_loop_cfg_set_clone_fd(cfg, 1);
		r = fuse_session_loop_mt(se, cfg);
		fuse_loop_cfg_destroy(cfg);
	}
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	if (r < 0)
		log_warnx("session loop: %s", strerror(-r));
	return r < 0 ? EX_OSERR : 0;
}

int main(int argc, char **argv)
{
	struct main_opts o;
	struct tree t;
	struct fs_ctx ctx;
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
	if (!o.list)
		main_check_not_mounted(o.mnt);
	/*
	 * Into the background before the disks are opened: an image's exporter
	 * is our child and dies with its parent (PR_SET_PDEATHSIG), which must be
	 * the daemon, not the process that returns to the shell.
	 */
	if (!o.list && !o.foreground)
		notify_fd = main_background();
	main_build(&t, &o);
	if (o.list) {
		main_list(&t);
		tree_free(&t);
		return fflush(stdout) == 0 ? 0 : EX_IOERR;
	}
	if (stat(o.mnt, &st) < 0)
		err(EX_NOINPUT, "%s", o.mnt);
	if (!S_ISDIR(st.st_mode))
		errx(EX_NOINPUT, "%s: %s", o.mnt, strerror(ENOTDIR));

	fargv[fargc++] = argv[0];
	fargv[fargc++] = "-o";
	fargv[fargc++] = "fsname=kvmload,subtype=" MAIN_SUBTYPE ",default_permissions";
	for (unsigned i = 0; i < o.nfuse_opts; i++) {
		fargv[fargc++] = "-o";
		fargv[fargc++] = o.fuse_opts[i];
	}
	fargv[fargc++] = "-o";
	fargv[fargc++] = "ro";
	args = (struct fuse_args)FUSE_ARGS_INIT(fargc, fargv);

	ctx = (struct fs_ctx){ .tree = &t, .ready_fd = o.ready_fd, .notify_fd = notify_fd };
	se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), &ctx);
	if (!se)
		errx(EX_USAGE, "cannot start a FUSE session with these options");
	status = main_serve(se, &o);
	fuse_session_destroy(se);
	fuse_opt_free_args(&args);
	tree_free(&t);
	return status;
}
