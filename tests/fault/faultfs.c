/* faultfs.c: a failing disk for the fault tests: a FUSE file system holding one file, disk.img, whose reads fail with EIO at chosen byte ranges. */
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FAULTFS_MAX_RANGES 16

struct faultfs {
	int fd;
	uint64_t size;
	struct {
		uint64_t start, len;
	} bad[FAULTFS_MAX_RANGES];
	int nbad;
	unsigned long failed; /* reads answered with EIO */
};

static struct faultfs *faultfs_ctx(void)
{
	return fuse_get_context()->private_data;
}

static int faultfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		return 0;
	}
	if (strcmp(path, "/disk.img") == 0) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)faultfs_ctx()->size;
		return 0;
	}
	return -ENOENT;
}

static int faultfs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
			   struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, "disk.img", NULL, 0, 0);
	return 0;
}

static int faultfs_open(const char *path, struct fuse_file_info *fi)
{
	if (strcmp(path, "/disk.img") != 0)
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	/* Every read reaches us with its own offset and length: no page cache, no readahead. */
	fi->direct_io = 1;
	return 0;
}

static int faultfs_read(const char *path, char *buf, size_t len, off_t off,
			struct fuse_file_info *fi)
{
	struct faultfs *f = faultfs_ctx();
	uint64_t o = (uint64_t)off;
	ssize_t n;

	(void)path;
	(void)fi;
	for (int i = 0; i < f->nbad; i++) {
		if (o < f->bad[i].start + f->bad[i].len && f->bad[i].start < o + len) {
			f->failed++;
			fprintf(stderr, "faultfs: EIO for %zu bytes at %" PRIu64 "\n", len, o);
			return -EIO;
		}
	}
	n = pread(f->fd, buf, len, off);
	return n < 0 ? -errno : (int)n;
}

static const struct fuse_operations faultfs_ops = {
	.getattr = faultfs_getattr,
	.readdir = faultfs_readdir,
	.open = faultfs_open,
	.read = faultfs_read,
};

int main(int argc, char **argv)
{
	struct faultfs f = { 0 };
	struct stat st;
	/* allow_other: kvmload-fs reads its disks as its --user, not as the root that mounted this. */
	char *fargs[] = { argv[0], "-f", "-s", "-o", "ro,fsname=faultfs,allow_other", NULL, NULL };

	if (argc < 3) {
		fprintf(stderr, "usage: faultfs IMAGE MOUNTPOINT [START:LENGTH]...\n");
		return 64;
	}
	if ((f.fd = open(argv[1], O_RDONLY | O_CLOEXEC)) < 0 || fstat(f.fd, &st) < 0) {
		perror(argv[1]);
		return 66;
	}
	f.size = (uint64_t)st.st_size;
	for (int i = 3; i < argc; i++) {
		char *end;

		if (f.nbad == FAULTFS_MAX_RANGES) {
			fprintf(stderr, "faultfs: at most %d ranges\n", FAULTFS_MAX_RANGES);
			return 64;
		}
		f.bad[f.nbad].start = strtoull(argv[i], &end, 0);
		if (*end != ':') {
			fprintf(stderr, "faultfs: %s: expected START:LENGTH\n", argv[i]);
			return 64;
		}
		f.bad[f.nbad++].len = strtoull(end + 1, NULL, 0);
	}
	fargs[5] = argv[2];
	return fuse_main(6, fargs, &faultfs_ops, &f);
}
