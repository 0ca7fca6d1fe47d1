/* qemu_disk.c: the QMP commands that give QEMU the guest's disks once the view has let them go: fd sets, block nodes, virtio-blk devices. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu.h"

/*
 * A raw image file whose format was probed, written by the guest: QEMU
 * probes it too (a drive without a format, on the same descriptors), so its
 * probed-raw rule applies: the guest may not write an image header into
 * block 0, which the next boot's probe would follow to a backing file of the
 * guest's choosing.  Naming the format, as blockdev-add must, would lift that.
 * Only HMP's drive_add makes such a drive at run time; its answer is "OK"
 * alone, and QEMU's warning about the probe goes to its standard error,
 * where qemu_run.c leaves it out (qemu_expected_line).
 */
static bool qemu_disk_probed_raw(const struct qemu_disk *q)
{
	const struct disk_layer *l = &q->info->layer[0];

	return q->rw_fd >= 0 && q->info->nlayers == 1 && l->probed && !strcmp(l->format, "raw");
}

static bool qemu_disk_add(struct qemu_cmd *c, int *n, int disk, const char *name, int fd, const char *fmt, ...)
{
	struct qemu_cmd *x = &c[(*n)++];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&x->args, fmt, ap);
	va_end(ap);
	x->name = name;
	x->fd = fd;
	x->disk = disk;
	x->hmp = !strcmp(name, "human-monitor-command");
	if (r < 0)
		x->args = NULL;
	return r >= 0;
}

/*
 * Each file goes into an fd set of its own, numbered by layer (QEMU opens
 * /dev/fdset/N, never a path it would parse or open again).  Each layer is a
 * format node on a protocol node; the backing of each is the node below, or
 * null.
 */
int qemu_disk_cmds(const struct qemu_spec *s, struct qemu_cmd *c)
{
	int n = 0;
	bool ok = true;

	for (int i = 0; i < s->ndisks && ok; i++) {
		const struct qemu_disk *q = &s->disks[i];
		const struct disk_info *d = q->info;

		for (int j = d->nlayers - 1; j >= 0 && ok; j--) {
			const struct disk_layer *l = &d->layer[j];
			bool ro = j > 0 || q->rw_fd < 0;
			int set = i * DISK_MAX_LAYERS + j;
			char backing[40] = "";

			ok = qemu_disk_add(c, &n, i, "add-fd", l->fd, "{\"fdset-id\":%d}", set);
			if (ok && !ro)
				ok = qemu_disk_add(c, &n, i, "add-fd", q->rw_fd, "{\"fdset-id\":%d}", set);
			if (ok && qemu_disk_probed_raw(q)) {
				ok = qemu_disk_add(c, &n, i, "human-monitor-command", -1, "{\"command-line\":\"drive_add 0 "
						   "file=/dev/fdset/%d,if=none,id=d%d-l0,readonly=off\"}", set, i);
				continue;
			}
			if (disk_format_cow(l->format))
				snprintf(backing, sizeof(backing), j + 1 < d->nlayers ? ",\"backing\":\"d%d-l%d\"" :
					 ",\"backing\":null", i, j + 1);
			if (ok)
				ok = qemu_disk_add(c, &n, i, "blockdev-add", -1, "{\"driver\":\"%s\",\"node-name\":\"d%d-l%d\","
						   "\"read-only\":%s,\"file\":{\"driver\":\"%s\",\"node-name\":\"d%d-f%d\","
						   "\"filename\":\"/dev/fdset/%d\",\"read-only\":%s}%s}",
						   l->format, i, j, ro ? "true" : "false", l->blockdev ? "host_device" : "file",
						   i, j, set, ro ? "true" : "false", backing);
		}
		/* bootindex-free virtio-blk: vtbd0, vtbd1, ... in -d order, at the slots the command line gave them. */
		if (ok)
			ok = qemu_disk_add(c, &n, i, "device_add", -1, "{\"driver\":\"virtio-blk-pci\",\"drive\":\"d%d-l0\","
					   "\"addr\":\"0x%x\"}", i, QEMU_PCI_SLOT0 + i);
	}
	if (!ok) {
		qemu_disk_cmds_free(c, n);
		return -ENOMEM;
	}
	return n;
}

void qemu_disk_cmds_free(struct qemu_cmd *c, int n)
{
	for (int i = 0; i < n; i++) {
		free(c[i].args);
		c[i].args = NULL;
	}
}
