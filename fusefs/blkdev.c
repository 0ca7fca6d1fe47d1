/* blkdev.c: read-only disk handles (image files, block devices) and partition-confined reads. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkdev.h"

int blkdev_open(struct blkdev *bd, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (S_ISREG(st.st_mode)) {
		bd->size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bd->size) < 0)
			goto fail;
	} else {
		close(fd);
		return -ENODEV;
	}
	bd->fd = fd;
	bd->path = path;
	return 0;
fail:;
	int e = errno;
	close(fd);
	return -e;
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
