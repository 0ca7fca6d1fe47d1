/* fuzz_probe.c: fuzz target: disk bytes in a memfd -> probe_disk (libblkid + our BSD label reader) -> ufs_open of every partition. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blkdev.h"
#include "fuzz.h"
#include "probe.h"
#include "walk.h"

/* Write the input into a fresh memfd: libblkid reads a file descriptor. */
static int fuzz_probe_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	return fd;
}

static void fuzz_probe_check(const struct blkdev *bd, const struct probe_part *p)
{
	static const struct walk_limits lim = { 4, 200, 64 << 10, 16 << 10 };
	struct walk_result res;
	struct blkpart part;
	struct ufs_dev dev;
	struct ufs *fs;

	if (!memchr(p->name, '\0', sizeof(p->name)) || !memchr(p->type, '\0', sizeof(p->type)) ||
	    !memchr(p->label, '\0', sizeof(p->label)))
		fuzz_violation("probe", "a partition name, type or label without its NUL");
	if (p->start > bd->size || p->size > bd->size - p->start)
		fuzz_violation("probe", "a partition that is not inside the disk");
	if (p->container || p->size == 0 || blkdev_window(bd, p->start, p->size, &part) != 0)
		return;
	dev = blkdev_ufs_dev(&part);
	if (ufs_open(&fs, &dev) != 0)
		return;
	if (walk_ufs(fs, &lim, &res) != 0)
		fuzz_violation("probe", res.violation);
	ufs_close(fs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blkdev bd = { .fd = -1, .size = size, .path = "fuzz" };
	struct probe_part *parts = NULL;
	size_t n = 0;
	int r;

	if ((bd.fd = fuzz_probe_memfd(data, size)) < 0) {
		perror("fuzz_probe: memfd");
		abort();
	}
	r = probe_disk(&bd, 0, &parts, &n);
	if (r == 0) {
		for (size_t i = 0; i < n; i++)
			fuzz_probe_check(&bd, &parts[i]);
		free(parts);
	} else if (r != -EINVAL && r != -EIO) {
		fuzz_violation("probe", "probe_disk returned an errno other than EINVAL or EIO");
	}
	close(bd.fd);
	return 0;
}
