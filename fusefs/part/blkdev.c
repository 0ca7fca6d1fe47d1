/* blkdev.c: read-only disk handles (image files, block devices) and partition-confined reads. */
#include <errno.h>
#include <unistd.h>

#include "blkdev.h"
#include "disk.h"

int blkdev_open(struct blkdev *bd, const char *path)
{
	struct disk_info d;
	const char *what;
	int r = disk_open(path, &d, &what);

	if (r < 0)
		return r;
	bd->fd = d.fd;
	bd->size = d.size;
	bd->path = path;
	return 0;
}

void blkdev_close(struct blkdev *bd)
{
	if (bd->fd >= 0)
		close(bd->fd);
	bd->fd = -1;
}

int blkdev_read(const struct blkdev *bd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	if (off > bd->size || len > bd->size - off)
		return -EIO;
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
