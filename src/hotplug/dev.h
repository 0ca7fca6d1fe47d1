/* dev.h: what kvmload-hotplug knows about one block device, read from libudev. */
#ifndef KVMLOAD_HOTPLUG_DEV_H
#define KVMLOAD_HOTPLUG_DEV_H

#include <libudev.h>
#include <stdbool.h>
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

/* The test the udev rule makes: a FreeBSD partition type or a UFS file system. */
bool dev_is_freebsd(const struct dev *d);

#endif
