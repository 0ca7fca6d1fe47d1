/* test_cb_disk.c: diskread bounds and residue, diskwrite refused with the image untouched, the size ioctls. */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "test_cb.h"

#define IMG_SIZE (3 * 512 + 100)

static uint8_t img_byte(uint64_t i)
{
	return (uint8_t)(i * 13 + 5);
}

static int bytes_match(const uint8_t *buf, uint64_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != img_byte(from + i))
			return 0;
	return 1;
}

static int image_intact(const char *path)
{
	uint8_t buf[IMG_SIZE + 1];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));

	if (fd >= 0)
		close(fd);
	return n == IMG_SIZE && bytes_match(buf, 0, IMG_SIZE);
}

static void test_read(struct loader *l)
{
	uint8_t buf[1024];
	size_t resid = 999;

	CHECK_EQ(cb_diskread(l, 0, 0, buf, 512, &resid), 0);
	CHECK_EQ(resid, 0);
	CHECK(bytes_match(buf, 0, 512));
	CHECK_EQ(cb_diskread(l, 0, 700, buf, 300, &resid), 0);
	CHECK_EQ(resid, 0);
	CHECK(bytes_match(buf, 700, 300));

	/* Straddling the end: a short read, the rest reported as residue. */
	memset(buf, 0xee, sizeof(buf));
	CHECK_EQ(cb_diskread(l, 0, 1536, buf, 512, &resid), 0);
	CHECK_EQ(resid, 412);
	CHECK(bytes_match(buf, 1536, 100));
	CHECK_EQ(buf[100], 0xee);

	/* Exactly at the end: nothing transferred; beyond it: an I/O error. */
	CHECK_EQ(cb_diskread(l, 0, IMG_SIZE, buf, 512, &resid), 0);
	CHECK_EQ(resid, 512);
	CHECK_EQ(cb_diskread(l, 0, IMG_SIZE + 1, buf, 512, &resid), FBSD_EIO);
	CHECK_EQ(cb_diskread(l, 0, UINT64_MAX, buf, 512, &resid), FBSD_EIO);

	/* Units outside [0, ndisks). */
	CHECK_EQ(cb_diskread(l, 2, 0, buf, 512, &resid), FBSD_EIO);
	CHECK_EQ(cb_diskread(l, -1, 0, buf, 512, &resid), FBSD_EIO);
	CHECK_EQ(cb_diskread(l, LOADER_NDISKS, 0, buf, 512, &resid), FBSD_EIO);
}

static void test_write(struct loader *l, const char *path)
{
	uint8_t junk[512];
	size_t resid = 0;

	memset(junk, 0x5a, sizeof(junk));
	CHECK_EQ(cb_diskwrite(l, 0, 0, junk, sizeof(junk), &resid), FBSD_EROFS);
	CHECK_EQ(resid, sizeof(junk));
	CHECK_EQ(cb_diskwrite(l, 0, 1024, junk, 100, &resid), 30);
	CHECK_EQ(cb_diskwrite(l, 5, 0, junk, 100, &resid), 30);
	CHECK(image_intact(path));
}

static void test_ioctl(struct loader *l)
{
	uint8_t data[16];
	uint32_t u;
	int64_t off;

	/* Only the 4 bytes of a u_int are written for the sector size. */
	memset(data, 0xaa, sizeof(data));
	CHECK_EQ(cb_diskioctl(l, 0, 0x40046480UL, data), 0);
	memcpy(&u, data, 4);
	CHECK_EQ(u, 512);
	CHECK_EQ(data[4], 0xaa);
	CHECK_EQ(cb_diskioctl(l, 1, FBSD_DIOCGSECTORSIZE, data), 0);
	memcpy(&u, data, 4);
	CHECK_EQ(u, 4096);

	CHECK_EQ(cb_diskioctl(l, 0, 0x40086481UL, data), 0);
	memcpy(&off, data, 8);
	CHECK_EQ(off, IMG_SIZE);
	CHECK_EQ(cb_diskioctl(l, 1, FBSD_DIOCGMEDIASIZE, data), 0);
	memcpy(&off, data, 8);
	CHECK_EQ(off, 1ULL << 20);

	/* Linux's encoding of the same request is not FreeBSD's. */
	CHECK_EQ(cb_diskioctl(l, 0, 0x80046480UL, data), FBSD_ENOTTY);
	CHECK_EQ(cb_diskioctl(l, 0, 0, data), 25);
	CHECK_EQ(cb_diskioctl(l, 2, FBSD_DIOCGSECTORSIZE, data), FBSD_EBADF);
	CHECK_EQ(cb_diskioctl(l, -1, FBSD_DIOCGMEDIASIZE, data), 9);
}

int main(void)
{
	struct loader *l = test_loader_new();
	static uint8_t img[IMG_SIZE];
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/kvmload-disk-XXXXXX", tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	for (size_t i = 0; i < IMG_SIZE; i++)
		img[i] = img_byte(i);
	if (fd < 0 || write(fd, img, IMG_SIZE) != IMG_SIZE) {
		perror(path);
		return 1;
	}
	/* Writable on purpose: diskwrite must refuse even when the fd would allow it. */
	l->disks[0] = (struct loader_disk){ .fd = fd, .size = IMG_SIZE, .secsize = 0, .path = path };
	/* A second unit that claims 4 KiB sectors and 1 MiB: ioctl answers what main() measured. */
	l->disks[1] = (struct loader_disk){ .fd = fd, .size = 1ULL << 20, .secsize = 4096, .path = path };
	l->ndisks = 2;

	test_read(l);
	test_write(l, path);
	test_ioctl(l);

	close(fd);
	unlink(path);
	test_loader_free(l);
	return check_done();
}
