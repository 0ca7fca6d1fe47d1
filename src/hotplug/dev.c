/* dev.c: a block device's node, whole disk and udev properties, and the FreeBSD-disk test. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dev.h"

int dev_from_udev(struct udev_device *ud, struct dev *d)
{
	struct udev_device *disk = ud;
	const char *type = udev_device_get_devtype(ud);
	const char *seq = udev_device_get_property_value(ud, "DISKSEQ");

	memset(d, 0, sizeof(*d));
	d->node = udev_device_get_devnode(ud);
	if (!d->node)
		return -ENODEV;
	/* A removed partition has no parent left in sysfs: its disk node is then unknown. */
	if (type && strcmp(type, "partition") == 0)
		disk = udev_device_get_parent_with_subsystem_devtype(ud, "block", "disk");
	d->disknode = disk ? udev_device_get_devnode(disk) : NULL;
	d->devnum = udev_device_get_devnum(ud);
	d->diskseq = seq ? seq : "";
	d->ud = udev_device_ref(ud);
	return 0;
}

int dev_from_node(struct udev *udev, const char *node, struct dev *d)
{
	struct udev_device *ud;
	struct stat st;
	int r;

	memset(d, 0, sizeof(*d));
	if (stat(node, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	ud = udev_device_new_from_devnum(udev, 'b', st.st_rdev);
	if (!ud)
		return -ENODEV;
	if (!udev_device_get_is_initialized(ud)) {
		udev_device_unref(ud);
		return -ENODEV;
	}
	r = dev_from_udev(ud, d);
	udev_device_unref(ud);
	return r;
}

void dev_free(struct dev *d)
{
	if (d->ud)
		udev_device_unref(d->ud);
	memset(d, 0, sizeof(*d));
}

static const char *dev_get(const struct dev *d, const char *property)
{
	const char *v = udev_device_get_property_value(d->ud, property);

	return v && *v ? v : NULL;
}

const char *dev_prop(void *d, const char *property)
{
	return dev_get(d, property);
}

bool dev_is_freebsd(const struct dev *d)
{
	/* freebsd-boot, -ufs, -zfs and -disklabel (GPT), and the MBR slice type 0xa5. */
	static const char *types[] = {
		"83bd6b9d-7f41-11dc-be0b-001560b84f0f", "516e7cb6-6ecf-11d6-8ff8-00022d09712b",
		"516e7cba-6ecf-11d6-8ff8-00022d09712b", "516e7cb4-6ecf-11d6-8ff8-00022d09712b",
		"0xa5",
	};
	const char *type = dev_get(d, "ID_PART_ENTRY_TYPE");
	const char *fs = dev_get(d, "ID_FS_TYPE");

	if (fs && strcmp(fs, "ufs") == 0)
		return true;
	for (size_t i = 0; type && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(type, types[i]) == 0)
			return true;
	return false;
}
