/* zfs_vdev.c: a DVA's bytes from a top-level vdev: a disk, a mirror side, or the data columns of a raidz stripe. */
#include <stdlib.h>
#include <string.h>

#include "zfs_int.h"

/* A leaf's bytes at DVA offset off: past the front labels and boot area, inside the device. */
static int vdev_leaf_read(const struct zfs_vdev *vd, uint64_t off, void *buf, size_t size)
{
	uint64_t at = off + ZFS_LABEL_START;

	if (!vd->dev)
		return -ENXIO;
	if (at < off || at > vd->dev->size || size > vd->dev->size - at)
		return -EIO;
	return vd->dev->pread(vd->dev->ctx, buf, size, at);
}

unsigned zfs_vdev_copies(const struct zfs_vdev *top)
{
	unsigned n = 0;

	if (top->type != ZV_MIRROR)
		return top->type == ZV_HOLE ? 0 : 1;
	for (unsigned i = 0; i < top->nchildren; i++)
		n += top->child[i].dev != NULL;
	return n;
}

/* The copy-th mirror side that is present. */
static const struct zfs_vdev *vdev_mirror_side(const struct zfs_vdev *top, unsigned copy)
{
	for (unsigned i = 0; i < top->nchildren; i++)
		if (top->child[i].dev && copy-- == 0)
			return &top->child[i];
	return NULL;
}

/*
 * A raidz block's data columns, in order, as ZFS lays them out
 * (vdev_raidz_map_alloc): the block is cut into sectors spread over the
 * children from child (sector % n); the first nparity columns are parity,
 * which a read with every child present never needs.
 */
static int vdev_raidz_read(const struct zfs_vdev *top, uint64_t off, uint8_t *buf, size_t size)
{
	uint64_t dcols = top->nchildren, np = top->nparity, ashift = top->ashift;
	uint64_t b = off >> ashift, s = size >> ashift, f, o, q, r, bc, acols;
	uint64_t done = 0;

	if (dcols <= np || (size & ((1ull << ashift) - 1)))
		return -EIO;
	f = b % dcols;
	o = (b / dcols) << ashift;
	q = s / (dcols - np);
	r = s - q * (dcols - np);
	bc = r == 0 ? 0 : r + np;
	acols = q == 0 ? bc : dcols;
	for (uint64_t c = np; c < acols; c++) {
		uint64_t col = f + c, coff = o, csize;
		int e;

		if (col >= dcols) {
			col -= dcols;
			coff += 1ull << ashift;
		}
		/*
		 * Single parity swaps the parity and first data column on every
		 * other megabyte, to spread parity (the 1 MiB bit of the offset).
		 */
		if (np == 1 && c == 1 && (off & (1ull << 20))) {
			col = f;
			coff = o;
		}
		csize = (c < bc ? q + 1 : q) << ashift;
		if (csize > size - done)
			return -EIO;
		if (!top->child[col].dev)
			return -ENXIO;
		e = vdev_leaf_read(&top->child[col], coff, buf + done, (size_t)csize);
		if (e < 0)
			return e;
		done += csize;
	}
	return done == size ? 0 : -EIO;
}

int zfs_vdev_read(const struct zfs_vdev *top, unsigned copy, uint64_t off, void *buf, size_t size)
{
	switch (top->type) {
	case ZV_DISK:
		return vdev_leaf_read(top, off, buf, size);
	case ZV_MIRROR: {
		const struct zfs_vdev *side = vdev_mirror_side(top, copy);

		return side ? vdev_leaf_read(side, off, buf, size) : -ENXIO;
	}
	case ZV_RAIDZ:
		return vdev_raidz_read(top, off, buf, size);
	default:
		return -EIO;
	}
}
