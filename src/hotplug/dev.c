/* dev.c: a block device's node, whole disk and udev properties, the FreeBSD-disk test, and a ZFS pool's devices. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "conf.h"
#include "dev.h"
#include "freebsd_part.h"

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

/* Whether type is one of the "|" alternatives (udev's syntax, any case). */
static bool dev_type_in(const char *type, const char *alternatives)
{
	size_t n = strlen(type);

	for (const char *p = alternatives;; p++) {
		size_t len = strcspn(p, "|");

		if (len == n && strncasecmp(p, type, n) == 0)
			return true;
		p += len;
		if (!*p)
			return false;
	}
}

bool dev_is_freebsd(const struct dev *d)
{
	const char *type = dev_get(d, "ID_PART_ENTRY_TYPE");
	const char *fs = dev_get(d, "ID_FS_TYPE");

	if (fs && (strcmp(fs, "ufs") == 0 || strcmp(fs, CONF_ZFS_MEMBER) == 0))
		return true;
	/* The partitions 70-kvmload.rules matches, the same alternatives. */
	return type && dev_type_in(type, FREEBSD_PART_HOTPLUG);
}

bool dev_zpool_guid(const struct dev *d, uint64_t *guid)
{
	const char *fs = dev_get(d, "ID_FS_TYPE");
	const char *uuid = dev_get(d, "ID_FS_UUID");

	return fs && strcmp(fs, CONF_ZFS_MEMBER) == 0 && uuid && conf_zpool_guid(uuid, guid);
}

static int dev_member_cmp(const void *a, const void *b)
{
	const struct dev_member *x = a, *y = b;

	if (x->vdev != y->vdev)
		return x->vdev < y->vdev ? -1 : 1;
	return strcmp(x->d.node, y->d.node);
}

int dev_pool_members(struct udev *udev, uint64_t pool_guid, struct dev_member **m, size_t *n)
{
	struct udev_enumerate *e = udev_enumerate_new(udev);
	struct udev_list_entry *l;
	struct dev_member *v = NULL, *grown;
	size_t count = 0;
	int r = 0;

	*m = NULL;
	*n = 0;
	if (!e)
		return -ENOMEM;
	if (udev_enumerate_add_match_subsystem(e, "block") < 0 ||
	    udev_enumerate_add_match_property(e, "ID_FS_TYPE", CONF_ZFS_MEMBER) < 0 ||
	    udev_enumerate_add_match_is_initialized(e) < 0 || udev_enumerate_scan_devices(e) < 0) {
		udev_enumerate_unref(e);
		return -EIO;
	}
	udev_list_entry_foreach(l, udev_enumerate_get_list_entry(e)) {
		struct udev_device *ud = udev_device_new_from_syspath(udev, udev_list_entry_get_name(l));
		struct dev d;
		uint64_t guid, vdev;
		const char *sub;

		/* Gone since the scan, or no node: not a device the guest could be given. */
		if (!ud || dev_from_udev(ud, &d) < 0) {
			if (ud)
				udev_device_unref(ud);
			continue;
		}
		udev_device_unref(ud);
		sub = dev_get(&d, "ID_FS_UUID_SUB");
		if (!dev_zpool_guid(&d, &guid) || guid != pool_guid || !d.disknode) {
			dev_free(&d);
			continue;
		}
		grown = realloc(v, (count + 1) * sizeof(*v));
		if (!grown) {
			dev_free(&d);
			r = -ENOMEM;
			break;
		}
		v = grown;
		v[count].d = d;
		v[count].vdev = sub && conf_zpool_guid(sub, &vdev) ? vdev : 0;
		count++;
	}
	udev_enumerate_unref(e);
	if (r < 0) {
		dev_pool_free(v, count);
		return r;
	}
	if (count > 1)
		qsort(v, count, sizeof(*v), dev_member_cmp);
	*m = v;
	*n = count;
	return 0;
}

void dev_pool_free(struct dev_member *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dev_free(&m[i].d);
	free(m);
}
