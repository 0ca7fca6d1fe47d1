/* cb_disk.c: the disk callbacks over the -d images: bounded reads, no writes, the two size ioctls. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cb.h"
#include "freebsd_abi_xlate.h"
#include "loader.h"
#include "log.h"

static struct loader_disk *disk_get(struct loader *l, int unit)
{
	if (unit < 0 || unit >= l->ndisks)
		return NULL;
	return &l->disks[unit];
}

int cb_diskread(void *arg, int unit, uint64_t offset, void *dst, size_t size, size_t *resid_return)
{
	struct loader_disk *d = disk_get(arg, unit);
	size_t want, done = 0;

	if (!d || offset > d->size)
		return FBSD_EIO;
	/* Past the end a block device transfers what there is and reports the rest as residue. */
	want = d->size - offset < size ? (size_t)(d->size - offset) : size;
	while (done < want) {
		ssize_t n = pread(d->fd, (char *)dst + done, want - done, (off_t)(offset + done));
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			/* The loader only sees EIO; say on the host which disk failed and where. */
			log_warnx("disk%d (%s): read of %zu bytes at %llu: %s", unit, log_esc(d->path), want - done,
				  (unsigned long long)(offset + done), strerror(e));
			return freebsd_abi_errno(e);
		}
		if (n == 0)
			break; /* the image shrank under us: report it as residue */
		done += (size_t)n;
	}
	*resid_return = size - done;
	return 0;
}

int cb_diskwrite(void *arg, int unit, uint64_t offset, void *src, size_t size, size_t *resid_return)
{
	(void)arg;
	(void)unit;
	(void)offset;
	(void)src;
	/* Guest disks are opened read-only and never modified (ZFS bootonce writes fail cleanly). */
	*resid_return = size;
	return FBSD_EROFS;
}

int cb_diskioctl(void *arg, int unit, unsigned long cmd, void *data)
{
	struct loader_disk *d = disk_get(arg, unit);

	if (!d)
		return FBSD_EBADF;
	switch (cmd) {
	case FBSD_DIOCGSECTORSIZE: {
		/* A zero sector size would make the loader divide by zero: files use 512. */
		unsigned int ss = d->secsize ? d->secsize : 512;
		memcpy(data, &ss, sizeof(ss));
		return 0;
	}
	case FBSD_DIOCGMEDIASIZE: {
		int64_t size = (int64_t)d->size;
		memcpy(data, &size, sizeof(size));
		return 0;
	}
	default:
		return FBSD_ENOTTY;
	}
}
