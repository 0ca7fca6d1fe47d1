/* ufsls.c: a command-line view of a UFS image through libufs (ls, stat, cat, info), for debugging and tests. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "ufs.h"

#define LS_MAX_DEPTH 256

struct image {
	int fd;
	uint64_t base;
};

struct ls_opts {
	bool longfmt, recursive;
};

/* One growable list of subdirectories found while listing a directory (for -R). */
struct subdirs {
	char **names;
	uint64_t *inos;
	size_t n, cap;
};

struct ls_walk {
	struct ufs *fs;
	const struct ls_opts *opts;
	const char *prefix; /* relative path shown before names, "" at the top */
	struct subdirs sub;
	int err;
};

static int image_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct image *im = ctx;
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(im->fd, p, len, (off_t)(im->base + off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ufsls [--offset BYTES] [--size BYTES] IMAGE ls [-l] [-R] [PATH]\n"
		"       ufsls [--offset BYTES] [--size BYTES] IMAGE stat PATH\n"
		"       ufsls [--offset BYTES] [--size BYTES] IMAGE cat PATH [OFFSET [LENGTH]]\n"
		"       ufsls [--offset BYTES] [--size BYTES] IMAGE info\n");
	exit(EX_USAGE);
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "ufsls: %s: %s\n", what, strerror(-err));
	return 1;
}

static uint64_t parse_u64(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-')
		usage();
	return v;
}

static void mode_string(uint32_t mode, char out[11])
{
	static const char types[16] = { '?', 'p', 'c', '?', 'd', '?', 'b', '?',
					'-', '?', 'l', '?', 's', '?', 'w', '?' };
	static const char rwx[] = "rwxrwxrwx";

	out[0] = types[(mode >> 12) & 15];
	for (int i = 0; i < 9; i++)
		out[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
	if (mode & S_ISUID)
		out[3] = (mode & 0100) ? 's' : 'S';
	if (mode & S_ISGID)
		out[6] = (mode & 0010) ? 's' : 'S';
	if (mode & S_ISVTX)
		out[9] = (mode & 0001) ? 't' : 'T';
	out[10] = '\0';
}

static int ls_print(struct ufs *fs, const struct ls_opts *o, const char *name, uint64_t ino)
{
	struct ufs_stat st;
	char mode[11], target[1024];
	int r;

	if (!o->longfmt) {
		printf("%s\n", name);
		return 0;
	}
	if ((r = ufs_getattr(fs, ino, &st)))
		return r;
	mode_string(st.mode, mode);
	printf("%s %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu64 " %lld %s", mode, st.nlink, st.uid,
	       st.gid, st.size, (long long)st.mtime.tv_sec, name);
	if (S_ISLNK(st.mode)) {
		ssize_t n = ufs_readlink(fs, ino, target, sizeof(target));

		if (n < 0) {
			printf("\n");
			return (int)n;
		}
		printf(" -> %s", target);
	}
	printf("\n");
	return 0;
}

static int subdirs_add(struct subdirs *sd, const char *name, uint64_t ino)
{
	if (sd->n == sd->cap) {
		size_t cap = sd->cap ? sd->cap * 2 : 16;
		char **names = realloc(sd->names, cap * sizeof(*names));

		if (!names)
			return -ENOMEM;
		sd->names = names;
		uint64_t *inos = realloc(sd->inos, cap * sizeof(*inos));
		if (!inos)
			return -ENOMEM;
		sd->inos = inos;
		sd->cap = cap;
	}
	if (!(sd->names[sd->n] = strdup(name)))
		return -ENOMEM;
	sd->inos[sd->n++] = ino;
	return 0;
}

static void subdirs_free(struct subdirs *sd)
{
	for (size_t i = 0; i < sd->n; i++)
		free(sd->names[i]);
	free(sd->names);
	free(sd->inos);
}

static int ls_entry(void *ctx, const char *name, size_t namelen, uint64_t ino, uint8_t dtype,
		    uint64_t next_off)
{
	struct ls_walk *w = ctx;
	char path[4096];
	struct ufs_stat st;
	int r;

	(void)next_off;
	if ((namelen == 1 && name[0] == '.') || (namelen == 2 && memcmp(name, "..", 2) == 0))
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s%.*s", w->prefix, (int)namelen, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	if ((r = ls_print(w->fs, w->opts, path, ino)))
		return r;
	if (!w->opts->recursive)
		return 0;
	/* Old-format directories carry no type: ask the inode. */
	if (dtype == 0) {
		if ((r = ufs_getattr(w->fs, ino, &st)))
			return r;
		dtype = S_ISDIR(st.mode) ? 4 : 8;
	}
	return dtype == 4 ? subdirs_add(&w->sub, path, ino) : 0;
}

static int ls_dir(struct ufs *fs, const struct ls_opts *o, const char *prefix, uint64_t ino,
		  int depth, char **failed)
{
	struct ls_walk w = { fs, o, prefix, { 0 }, 0 };
	char sub[4096];
	int r;

	if (depth > LS_MAX_DEPTH)
		return -ELOOP;
	r = ufs_readdir(fs, ino, 0, ls_entry, &w);
	for (size_t i = 0; r == 0 && i < w.sub.n; i++) {
		snprintf(sub, sizeof(sub), "%s/", w.sub.names[i]);
		r = ls_dir(fs, o, sub, w.sub.inos[i], depth + 1, failed);
		if (r && !*failed)
			*failed = strdup(w.sub.names[i]);
	}
	subdirs_free(&w.sub);
	return r;
}

static int cmd_ls(struct ufs *fs, int argc, char **argv)
{
	struct ls_opts o = { false, false };
	const char *path = "/";
	char *failed = NULL;
	struct ufs_stat st;
	uint64_t ino;
	int i, r;

	for (i = 0; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		for (const char *f = argv[i] + 1; *f; f++) {
			if (*f == 'l')
				o.longfmt = true;
			else if (*f == 'R')
				o.recursive = true;
			else
				usage();
		}
	}
	if (argc - i > 1)
		usage();
	if (i < argc)
		path = argv[i];
	if ((r = ufs_resolve(fs, path, &ino)) || (r = ufs_getattr(fs, ino, &st)))
		return fail(path, r);
	if (!S_ISDIR(st.mode))
		r = ls_print(fs, &o, path, ino);
	else
		r = ls_dir(fs, &o, "", ino, 0, &failed);
	if (r) {
		fail(failed ? failed : path, r);
		free(failed);
		return 1;
	}
	return 0;
}

static int cmd_stat(struct ufs *fs, int argc, char **argv)
{
	struct ufs_stat st;
	char mode[11], target[1024];
	uint64_t ino;
	int r;

	if (argc != 1)
		usage();
	if ((r = ufs_resolve(fs, argv[0], &ino)) || (r = ufs_getattr(fs, ino, &st)))
		return fail(argv[0], r);
	mode_string(st.mode, mode);
	printf("ino: %" PRIu64 "\nmode: 0%06" PRIo32 " %s\nnlink: %" PRIu32 "\nuid: %" PRIu32
	       "\ngid: %" PRIu32 "\nsize: %" PRIu64 "\nblocks: %" PRIu64 "\nblksize: %" PRIu32
	       "\nflags: 0x%" PRIx32 "\ngen: %" PRIu32 "\nrdev: 0x%" PRIx64 "\n",
	       st.ino, st.mode, mode, st.nlink, st.uid, st.gid, st.size, st.blocks, st.blksize,
	       st.flags, st.gen, st.rdev);
	printf("atime: %lld.%09ld\nmtime: %lld.%09ld\nctime: %lld.%09ld\nbirthtime: %lld.%09ld\n",
	       (long long)st.atime.tv_sec, st.atime.tv_nsec, (long long)st.mtime.tv_sec,
	       st.mtime.tv_nsec, (long long)st.ctime.tv_sec, st.ctime.tv_nsec,
	       (long long)st.birthtime.tv_sec, st.birthtime.tv_nsec);
	if (S_ISLNK(st.mode)) {
		ssize_t n = ufs_readlink(fs, ino, target, sizeof(target));

		if (n < 0)
			return fail(argv[0], (int)n);
		printf("target: %s\n", target);
	}
	return 0;
}

static int cmd_cat(struct ufs *fs, int argc, char **argv)
{
	static const size_t chunk = 128 * 1024;
	uint64_t ino, off = 0, left = UINT64_MAX;
	char *buf;
	int r = 0;

	if (argc < 1 || argc > 3)
		usage();
	if (argc > 1)
		off = parse_u64(argv[1]);
	if (argc > 2)
		left = parse_u64(argv[2]);
	if ((r = ufs_resolve(fs, argv[0], &ino)))
		return fail(argv[0], r);
	if (!(buf = malloc(chunk)))
		return fail(argv[0], -ENOMEM);
	while (left) {
		ssize_t n = ufs_read(fs, ino, buf, left < chunk ? (size_t)left : chunk, off);

		if (n < 0) {
			r = (int)n;
			break;
		}
		if (n == 0)
			break;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			r = -errno;
			free(buf);
			return fail("stdout", r ? r : -EIO);
		}
		off += (uint64_t)n;
		left -= (uint64_t)n;
	}
	free(buf);
	if (r)
		return fail(argv[0], r);
	if (fflush(stdout) == EOF)
		return fail("stdout", -errno);
	return 0;
}

static int cmd_info(struct ufs *fs, int argc)
{
	struct ufs_info in;

	if (argc != 0)
		usage();
	ufs_get_info(fs, &in);
	printf("version: UFS%d\nendian: %s\nsblock_offset: %" PRIu64 "\nbsize: %" PRIu32
	       "\nfsize: %" PRIu32 "\nsize: %" PRIu64 "\nvolname: %s\nid: %08" PRIx32 "%08" PRIx32
	       "\n",
	       in.version, in.big_endian ? "big" : "little", in.sblock_offset, in.bsize, in.fsize,
	       in.size_bytes, in.volname, in.id[0], in.id[1]);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct image im = { -1, 0 };
	uint64_t size = 0;
	bool have_size = false;
	struct ufs_dev dev;
	struct ufs *fs;
	struct stat sb;
	const char *image, *cmd;
	int c, r;

	log_init("ufsls", 0);
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (c == 'o')
			im.base = parse_u64(optarg);
		else if (c == 's')
			size = parse_u64(optarg), have_size = true;
		else
			usage();
	}
	if (argc - optind < 2)
		usage();
	image = argv[optind];
	cmd = argv[optind + 1];
	if (strcmp(cmd, "ls") && strcmp(cmd, "stat") && strcmp(cmd, "cat") && strcmp(cmd, "info"))
		usage();
	if ((im.fd = open(image, O_RDONLY | O_CLOEXEC)) < 0 || fstat(im.fd, &sb) < 0)
		return fail(image, -errno);
	if (S_ISBLK(sb.st_mode)) {
		off_t end = lseek(im.fd, 0, SEEK_END);

		sb.st_size = end < 0 ? 0 : end;
	}
	if (im.base > (uint64_t)sb.st_size)
		return fail(image, -EINVAL);
	if (!have_size || size > (uint64_t)sb.st_size - im.base)
		size = (uint64_t)sb.st_size - im.base;
	dev = (struct ufs_dev){ image_pread, &im, size };
	if ((r = ufs_open(&fs, &dev))) {
		if (r == -EINVAL) {
			fprintf(stderr, "ufsls: %s: no UFS superblock found\n", image);
			return 1;
		}
		return fail(image, r);
	}
	argc -= optind + 2;
	argv += optind + 2;
	if (!strcmp(cmd, "ls"))
		r = cmd_ls(fs, argc, argv);
	else if (!strcmp(cmd, "stat"))
		r = cmd_stat(fs, argc, argv);
	else if (!strcmp(cmd, "cat"))
		r = cmd_cat(fs, argc, argv);
	else
		r = cmd_info(fs, argc);
	ufs_close(fs);
	close(im.fd);
	return r;
}
