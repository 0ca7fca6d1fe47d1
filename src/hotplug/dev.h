/* dev.h: what kvmload-hotplug knows about one block device, read from libudev. */
#ifndef KVMLOAD_HOTPLUG_DEV_H
#define KVMLOAD_HOTPLUG_DEV_H

#include <libudev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct dev {
	struct udev_device *ud;
	const char *node;     /* /dev/loop0p2 */
	const char *disknode; /* the whole disk: the node itself, or its parent disk's */
	dev_t devnum;
	const char *diskseq; /* "" when the kernel gives none */
};

/*
 * The device behind a block node, with the properties udevd recorded for it.
 * Returns 0, -ENOTBLK (not a block device), -ENODEV (udev knows nothing,
 * e.g. no udevd has processed it), or another -errno.
 */
int dev_from_node(struct udev *udev, const char *node, struct dev *d);
/* Takes a reference to ud.  Returns 0 or -ENODEV (no device node). */
int dev_from_udev(struct udev_device *ud, struct dev *d);
void dev_free(struct dev *d);

/* A udev property, or NULL.  The signature is conf_prop_fn's. */
const char *dev_prop(void *d, const char *property);

/* The test the udev rule makes: a FreeBSD partition type, a UFS file system or a ZFS pool member. */
bool dev_is_freebsd(const struct dev *d);

/* d holds a ZFS vdev label (ID_FS_TYPE zfs_member) with a pool GUID: true and *guid set. */
bool dev_zpool_guid(const struct dev *d, uint64_t *guid);

/* One device of a ZFS pool, as libblkid reports it. */
struct dev_member {
	struct dev d;
	uint64_t vdev; /* ID_FS_UUID_SUB, the vdev GUID of this device's label; 0 if none */
};

/*
 * The pool's devices udev knows now: initialized block devices whose ID_FS_TYPE
 * is zfs_member and whose ID_FS_UUID is pool_guid, ordered by vdev GUID (as
 * numbers), then by node.  *m is an array of *n to free with dev_pool_free
 * (NULL when none).  Returns 0 or -errno.
 */
int dev_pool_members(struct udev *udev, uint64_t pool_guid, struct dev_member **m, size_t *n);
void dev_pool_free(struct dev_member *m, size_t n);

#endif
