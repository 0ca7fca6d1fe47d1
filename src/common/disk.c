/* disk.c: a guest disk opened read-only and sized, for kvmload's -d and kvmload-fs's --disk. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"

int disk_open(const char *path, struct disk_info *out, const char **what)
{
	struct stat st;
	int ssz, e;

	*what = "open";
	out->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (out->fd < 0)
		return -errno;
	out->secsize = 512;
	*what = "fstat";
	if (fstat(out->fd, &st) < 0)
		goto fail;
	if (S_ISREG(st.st_mode)) {
		out->size = (uint64_t)st.st_size;
		return 0;
	}
	if (!S_ISBLK(st.st_mode)) {
		errno = ENODEV;
		goto fail;
	}
	*what = "BLKGETSIZE64";
	if (ioctl(out->fd, BLKGETSIZE64, &out->size) < 0)
		goto fail;
	/* A device that cannot say keeps 512, the sector every FreeBSD loader assumes. */
	if (ioctl(out->fd, BLKSSZGET, &ssz) == 0 && ssz > 0)
		out->secsize = (uint32_t)ssz;
	return 0;
fail:
	e = errno;
	close(out->fd);
	out->fd = -1;
	return -e;
}
