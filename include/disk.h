/* disk.h: opening a guest disk read-only and taking its size, the one rule kvmload and kvmload-fs share. */
#ifndef KVMLOAD_DISK_H
#define KVMLOAD_DISK_H

#include <stdint.h>

struct disk_info {
	int fd;           /* O_RDONLY | O_CLOEXEC: guest disks are never written by us */
	uint64_t size;    /* bytes: st_size of an image, BLKGETSIZE64 of a block device */
	uint32_t secsize; /* 512 for an image, BLKSSZGET of a block device */
};

/*
 * Open path read-only and size it.  0, or -errno with nothing left open:
 * -ENODEV when it is neither a regular file nor a block device.  *what names
 * the step that failed ("open", "fstat", "BLKGETSIZE64") for the message.
 */
int disk_open(const char *path, struct disk_info *out, const char **what);

#endif
