/* blkdev.h: read-only disk handles and partition windows that feed the UFS reader. */
#ifndef KVMLOAD_BLKDEV_H
#define KVMLOAD_BLKDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "ufs.h"

struct blkcache;
struct confine_user;
struct disk_info;

/* One --disk: the guest-visible bytes of an image or block device, read-only; never written. */
struct blkdev {
	int fd;
	uint64_t size;           /* guest-visible bytes */
	const char *path;        /* for messages */
	struct disk_info *disk;  /* what blkdev_open or blkdev_take opened (NULL for a bare fd, as the fuzzers make) */
	struct blkcache *cache;  /* for a disk served over FUSE, else NULL */
};

/*
 * A byte window [start, start + size) of a disk: one partition.  It may reach
 * past the end of a disk cut short; blkdev_read fails the reads out there.
 */
struct blkpart {
	const struct blkdev *dev;
	uint64_t start;
	uint64_t size;
};

/*
 * The opening step, in the process that holds the caller's privilege (a path
 * is opened as the caller), reading of the disk only its image header:
 * disk_open(path, format: NULL detects) or, with fd >= 0, disk_open_fd of
 * the disk path the caller opened as fd; a non-raw image's export belongs to
 * reader (disk_open), which the caller may read but not stat.  With raw, fd
 * already holds the guest-visible bytes: it is only kept, for blkdev_take.
 * 0 or -errno with err saying why.
 */
int blkdev_open(struct blkdev *bd, const char *path, const char *format, int fd, bool raw,
		const struct confine_user *reader, char *err, size_t errlen);
/*
 * The taking step, in the process that reads the disk (as reader): a raw
 * descriptor adopted (disk_adopt: it is stat'ed and sized), and a disk served
 * over FUSE given its chunk cache.  0 or -errno with err saying why.
 */
int blkdev_take(struct blkdev *bd, char *err, size_t errlen);
void blkdev_close(struct blkdev *bd);

/* Exactly len bytes at off of the whole disk; -EIO past its end or on a short read. */
int blkdev_read(const struct blkdev *bd, void *buf, size_t len, uint64_t off);

/* The window [start, start + size) clipped to the disk; 0, or -ERANGE if it starts past the end. */
int blkdev_window(const struct blkdev *bd, uint64_t start, uint64_t size, struct blkpart *out);

/* struct ufs_dev.pread for a struct blkpart ctx: offsets relative to the window, never past it. */
int blkdev_pread(void *ctx, void *buf, size_t len, uint64_t off);

/* The struct ufs_dev reading through part (which must outlive it). */
struct ufs_dev blkdev_ufs_dev(struct blkpart *part);

#endif
