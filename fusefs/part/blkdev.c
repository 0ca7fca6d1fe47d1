/* blkdev.c: read-only disk handles (images in any format QEMU reads, block devices, descriptors handed over) and partition-confined reads. */
#include <errno.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "blkcache.h"
#include "blkdev.h"
#include "disk.h"
#include "errmsg.h"

static void blkdev_hold(struct blkdev *bd, struct disk_info *d)
{
	bd->disk = d;
	bd->fd = d->fd;
	bd->size = d->size;
	bd->path = d->layer[0].path;
}

int blkdev_open(struct blkdev *bd, const char *path, const char *format, int fd, bool raw,
		const struct confine_user *reader, char *err, size_t errlen)
{
	struct disk_info *d;
	int r;

	if (raw) {
		/* Already open: adopting it stats it, which the reader alone may do (disk.h). */
		bd->fd = fd;
		bd->path = path;
		return 0;
	}
	d = malloc(sizeof(*d));
	if (!d)
		return errmsg_set(err, errlen, ENOMEM, "%s", strerror(ENOMEM));
	r = fd < 0 ? disk_open(path, format, reader, d, err, errlen) :
	    disk_open_fd(fd, path, format, reader, d, err, errlen);
	if (r < 0) {
		free(d);
		return r;
	}
	blkdev_hold(bd, d);
	return 0;
}

/*
 * Every read of a disk served over FUSE (an image QEMU exports, here or in
 * kvmload) is a round trip to its server, which keeps no page cache for us:
 * those disks get a chunk cache.
 */
int blkdev_take(struct blkdev *bd, char *err, size_t errlen)
{
	struct statfs sf;

	if (!bd->disk) {
		struct disk_info *d = malloc(sizeof(*d));
		int r;

		if (!d)
			return errmsg_set(err, errlen, ENOMEM, "%s", strerror(ENOMEM));
		r = disk_adopt(bd->fd, bd->path, d, err, errlen);
		if (r < 0) {
			free(d);
			return r;
		}
		blkdev_hold(bd, d);
	}
	if (fstatfs(bd->fd, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC) {
		bd->cache = blkcache_new(bd->fd, bd->size);
		if (!bd->cache)
			return errmsg_set(err, errlen, ENOMEM, "%s", strerror(ENOMEM));
	}
	return 0;
}

void blkdev_close(struct blkdev *bd)
{
	blkcache_free(bd->cache);
	bd->cache = NULL;
	if (bd->disk) {
		disk_close(bd->disk);
		free(bd->disk);
	} else if (bd->fd >= 0) {
		close(bd->fd);
	}
	bd->disk = NULL;
	bd->fd = -1;
}

int blkdev_read(const struct blkdev *bd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	if (off > bd->size || len > bd->size - off)
		return -EIO;
	if (bd->cache)
		return blkcache_read(bd->cache, buf, len, off);
	while (len > 0) {
		ssize_t n = pread(bd->fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO; /* the image shrank under us */
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int blkdev_window(const struct blkdev *bd, uint64_t start, uint64_t size, struct blkpart *out)
{
	if (start >= bd->size)
		return -ERANGE;
	out->dev = bd;
	out->start = start;
	out->size = size < bd->size - start ? size : bd->size - start;
	return 0;
}

int blkdev_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct blkpart *part = ctx;

	if (off > part->size || len > part->size - off)
		return -EIO;
	return blkdev_read(part->dev, buf, len, part->start + off);
}

struct ufs_dev blkdev_ufs_dev(struct blkpart *part)
{
	struct ufs_dev dev = { blkdev_pread, part, part->size };
	return dev;
}
