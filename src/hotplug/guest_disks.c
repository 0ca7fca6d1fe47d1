/* guest_disks.c: a VM's disks: its device's or its pool's members' whole disks, its disk = lines, and opening them as kvmload will. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"
#include "guest_int.h"
#include "log.h"

void guest_disks_free(struct guest_disks *g)
{
	dev_pool_free(g->pool, g->npool);
	g->pool = NULL;
	g->npool = 0;
	g->n = 0;
	g->ndev = 0;
}

/* After the device's disk(s): the definition's disk = lines.  0, or -ENOSPC past kvmload's 32. */
int guest_disks_extra(const struct conf_vm *vm, struct guest_disks *g)
{
	g->ndev = g->n;
	if (g->n + vm->ndisks > VIEWD_MAXDISKS)
		return -ENOSPC;
	for (int i = 0; i < vm->ndisks; i++)
		g->v[g->n++] = vm->disks[i].path;
	return 0;
}

/*
 * Look for the disks now.  A VM without a pool gets d's whole disk.  A pool's
 * devices are the ones with d's pool GUID (the definition may name the pool
 * by its name alone: the device that matched says which pool of that name);
 * each whole disk goes once, in the order of the devices' vdev GUIDs.
 * Then the disk = lines.
 * Returns 0, -EEXIST when two devices carry one vdev GUID (*dup set: a
 * copied disk, and which of the two is the pool's is not ours to guess),
 * -E2BIG (the pool is on more than kvmload's 32 disks), -ENOSPC (with the
 * disk = lines it is), or another -errno.
 */
int guest_disks_find(const struct hotplug *h, const struct conf_vm *vm, const struct dev *d,
			    struct guest_disks *g, const struct dev_member **dup)
{
	int r;

	guest_disks_free(g);
	*dup = NULL;
	if (!conf_vm_zpool(vm)) {
		g->v[0] = d->disknode;
		g->n = 1;
		return guest_disks_extra(vm, g);
	}
	if (!dev_zpool_guid(d, &g->guid))
		return -EINVAL; /* conf_match made sure it is one */
	g->name = udev_device_get_property_value(d->ud, "ID_FS_LABEL");
	if (!g->name)
		g->name = "?";
	r = dev_pool_members(h->udev, g->guid, &g->pool, &g->npool);
	if (r < 0)
		return r;
	for (size_t i = 1; i < g->npool; i++)
		if (g->pool[i].vdev && g->pool[i].vdev == g->pool[i - 1].vdev) {
			*dup = &g->pool[i];
			return -EEXIST;
		}
	for (size_t i = 0; i < g->npool; i++) {
		const char *disk = g->pool[i].d.disknode;
		bool seen = false;

		for (int j = 0; j < g->n && !seen; j++)
			seen = strcmp(g->v[j], disk) == 0;
		if (seen)
			continue;
		if (g->n == CONF_ZPOOL_MEMBERS_MAX)
			return -E2BIG;
		g->v[g->n++] = disk;
	}
	return guest_disks_extra(vm, g);
}

/*
 * Each disk opened as kvmload will open it (disk_open: a regular file or a
 * block device, its format, its backing files) and closed again, before
 * anything starts: through fds[i] when given (the descriptors the view and
 * kvmload will get), else by name.  0, or -ENOMEDIUM for the first that is
 * refused, *bad its index and why the reason.
 */
int guest_disks_open(const struct conf_vm *vm, const struct guest_disks *g, const int *fds, int *bad,
			    char *why, size_t len)
{
	for (int i = 0; i < g->n; i++) {
		struct disk_info info;

		if (disk_open_fd(fds ? fds[i] : -1, g->v[i], conf_vm_format(vm), NULL, &info, why, len) < 0) {
			*bad = i;
			return -ENOMEDIUM;
		}
		disk_close(&info);
	}
	return 0;
}

void guest_images_close(const struct guest_disks *g, int *fds)
{
	for (int i = 0; i < g->n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/*
 * Every disk opened once (disk_open_image) for one start: the view and
 * kvmload get these descriptors (--disk-fd), so both read the very files
 * the guest gets, whatever their names say meanwhile.  0, or -ENOMEDIUM with
 * *bad and why as guest_disks_open; nothing left open then.
 */
int guest_images_open(const struct guest_disks *g, int *fds, int *bad, char *why, size_t len)
{
	for (int i = 0; i < g->n; i++)
		fds[i] = -1;
	for (int i = 0; i < g->n; i++)
		if (disk_open_image(g->v[i], &fds[i], why, len) < 0) {
			*bad = i;
			guest_images_close(g, fds);
			return -ENOMEDIUM;
		}
	return 0;
}

/* Which disk a message names: "/dev/sdb", or "/srv/data.img (vm.conf:7)" for a disk = line. */
const char *guest_disk_name(const struct conf_vm *vm, const struct guest_disks *g, int i,
				   char *buf, size_t len)
{
	if (i < g->ndev)
		snprintf(buf, len, "%s", log_esc(g->v[i]));
	else
		snprintf(buf, len, "%s (%s:%d)", log_esc(g->v[i]), vm->file,
			 vm->disks[i - g->ndev].line);
	return buf;
}

/* The pool's devices for a message: "/dev/loop1 (vdev 123), /dev/loop2 (vdev 456)", or "none". */
const char *guest_pool_list(const struct guest_disks *g, char *buf, size_t len)
{
	size_t off = 0;

	snprintf(buf, len, "none");
	for (size_t i = 0; i < g->npool && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s (vdev %" PRIu64 ")", i ? ", " : "",
				 log_esc(g->pool[i].d.node), g->pool[i].vdev);

		if (w < 0)
			break;
		off += (size_t)w;
	}
	return buf;
}
