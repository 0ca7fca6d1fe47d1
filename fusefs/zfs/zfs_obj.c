/* zfs_obj.c: objsets and dnodes: an object's dnode from the meta-dnode, its blocks through bounded levels of indirection. */
#include <stdlib.h>
#include <string.h>

#include "zfs_int.h"

#define OBJSET_MIN 1024 /* objset_phys up to os_type; later fields are not used */
#define DNODE_FLAG_SPILL 4

/* Decode the dnode at raw (its slot count checked against avail bytes); -ENOENT for a free one. */
static int dnode_decode(struct zfs_dnode *dn, const uint8_t *raw, size_t avail)
{
	struct span s = span_make(raw, avail);
	uint8_t extra;
	uint16_t szsec;
	size_t size, bpend;

	if (span_u8(s, 0, &dn->type) < 0 || dn->type == 0)
		return -ENOENT;
	if (span_u8(s, 12, &extra) < 0)
		return -EIO;
	size = (size_t)(extra + 1) * ZFS_DNODE_SIZE;
	if (size > avail || size > ZFS_DNODE_MAX)
		return -EIO;
	memcpy(dn->raw, raw, size);
	s = span_make(dn->raw, size);
	dn->indblkshift = dn->raw[1];
	dn->nlevels = dn->raw[2];
	dn->nblkptr = dn->raw[3];
	dn->bonustype = dn->raw[4];
	dn->flags = dn->raw[7];
	if (span_le16(s, 8, &szsec) < 0 || span_le16(s, 10, &dn->bonuslen) < 0 ||
	    span_le64(s, 16, &dn->maxblkid) < 0 || span_le64(s, 24, &dn->used) < 0)
		return -EIO;
	dn->datablksz = (uint32_t)szsec << ZFS_SECTOR_SHIFT;
	bpend = 64 + (size_t)dn->nblkptr * ZFS_BP_SIZE;
	if (dn->nblkptr < 1 || bpend > size || dn->nlevels < 1 || dn->nlevels > ZFS_MAX_LEVELS ||
	    dn->datablksz == 0 || dn->datablksz > ZFS_MAX_BLOCK ||
	    (dn->nlevels > 1 && (dn->indblkshift < 10 || dn->indblkshift > 17)))
		return -EIO;
	dn->bp0 = dn->raw + 64;
	dn->spill = NULL;
	if (dn->flags & DNODE_FLAG_SPILL) {
		if (size - bpend < ZFS_BP_SIZE)
			return -EIO;
		dn->spill = dn->raw + size - ZFS_BP_SIZE;
	}
	/* The bonus buffer follows the pointers, short of the spill pointer when there is one. */
	if (span_sub(s, bpend, dn->bonuslen, &dn->bonus) < 0 ||
	    (dn->spill && bpend + dn->bonuslen > size - ZFS_BP_SIZE))
		return -EIO;
	return 0;
}

/* v >> s, 0 from s = 64 on: 9 levels of 1024 pointers take more bits than a block id has. */
static uint64_t obj_shr(uint64_t v, unsigned s)
{
	return s < 64 ? v >> s : 0;
}

/* Block blkid's level-0 pointer, through the indirect blocks (cached); 1 when it is a hole. */
static int dnode_bp(struct zfs_pool *p, const struct zfs_dnode *dn, uint64_t blkid, struct zfs_bp *bp)
{
	unsigned epbs = dn->indblkshift - 7; /* pointers per indirect block, as a shift */
	struct zfs_buf *b;
	uint64_t idx;
	int r;

	if (blkid > dn->maxblkid)
		return 1;
	idx = dn->nlevels > 1 ? obj_shr(blkid, epbs * (dn->nlevels - 1)) : blkid;
	if (idx >= dn->nblkptr)
		return -EIO;
	memcpy(bp->raw, dn->bp0 + idx * ZFS_BP_SIZE, ZFS_BP_SIZE);
	for (unsigned lvl = dn->nlevels - 1; lvl > 0; lvl--) {
		uint64_t i = obj_shr(blkid, epbs * (lvl - 1)) & ((1ull << epbs) - 1);

		if (zfs_bp_is_hole(bp))
			return 1;
		if (zfs_bp_level(bp) != lvl)
			return -EIO;
		r = zfs_bp_read(p, bp, &b);
		if (r < 0)
			return r;
		if ((i + 1) * ZFS_BP_SIZE > b->size) {
			zfs_buf_put(p, b);
			return -EIO;
		}
		memcpy(bp->raw, b->data + i * ZFS_BP_SIZE, ZFS_BP_SIZE);
		zfs_buf_put(p, b);
	}
	if (zfs_bp_is_hole(bp))
		return 1;
	return zfs_bp_level(bp) == 0 ? 0 : -EIO;
}

/* A data block is the dnode's block size; only an object's single block may be shorter. */
static bool dnode_size_ok(const struct zfs_dnode *dn, uint64_t size)
{
	return size == dn->datablksz || (dn->maxblkid == 0 && size <= dn->datablksz);
}

int zfs_dnode_block(struct zfs_pool *p, const struct zfs_dnode *dn, uint64_t blkid, struct zfs_buf **out)
{
	struct zfs_bp bp;
	struct zfs_buf *b;
	int r = dnode_bp(p, dn, blkid, &bp);

	if (r < 0)
		return r;
	if (r == 0) {
		r = zfs_bp_read(p, &bp, out);
		if (r == 0 && !dnode_size_ok(dn, (*out)->size)) {
			zfs_buf_put(p, *out);
			return -EIO;
		}
		return r;
	}
	/* A hole reads as a block of zeros: never cached (key 0). */
	b = calloc(1, sizeof(*b) + dn->datablksz);
	if (!b)
		return -ENOMEM;
	b->size = dn->datablksz;
	*out = b;
	return 0;
}

int zfs_dnode_read(struct zfs_pool *p, const struct zfs_dnode *dn, uint64_t off, void *buf, size_t len)
{
	uint8_t *dst = buf;

	while (len) {
		uint64_t blkid = off / dn->datablksz, in = off % dn->datablksz;
		size_t n = dn->datablksz - in < len ? (size_t)(dn->datablksz - in) : len;
		struct zfs_buf *b;
		struct zfs_bp bp;
		int r;

		/*
		 * A whole block goes straight to the caller, past the cache: file
		 * data is what the kernel's page cache keeps, and this saves a copy.
		 */
		if (in == 0 && n == dn->datablksz) {
			r = dnode_bp(p, dn, blkid, &bp);
			if (r == 1)
				memset(dst, 0, n);
			else if (r == 0 && dnode_size_ok(dn, zfs_bp_lsize(&bp)))
				r = zfs_bp_read_into(p, &bp, dst, n);
			else if (r == 0)
				r = -EIO;
			if (r < 0)
				return r;
			dst += n;
			off += n;
			len -= n;
			continue;
		}
		r = zfs_dnode_block(p, dn, blkid, &b);
		if (r < 0)
			return r;
		/* A single-block object may be shorter than its block size: the rest is zeros. */
		size_t have = in < b->size ? (size_t)(b->size - in) : 0, c = have < n ? have : n;

		if (c)
			memcpy(dst, b->data + in, c);
		memset(dst + c, 0, n - c);
		zfs_buf_put(p, b);
		dst += n;
		off += n;
		len -= n;
	}
	return 0;
}

int zfs_dnode_get(struct zfs_objset *os, uint64_t obj, struct zfs_dnode *dn)
{
	const struct zfs_dnode *meta = &os->meta;
	uint64_t per = meta->datablksz / ZFS_DNODE_SIZE, blkid, slot;
	struct zfs_buf *b;
	int r;

	if (per == 0 || obj == 0)
		return -ENOENT;
	blkid = obj / per;
	slot = obj % per;
	if (blkid > meta->maxblkid)
		return -ENOENT;
	r = zfs_dnode_block(os->pool, meta, blkid, &b);
	if (r < 0)
		return r;
	if ((slot + 1) * ZFS_DNODE_SIZE > b->size)
		r = -EIO;
	else
		r = dnode_decode(dn, b->data + slot * ZFS_DNODE_SIZE, b->size - slot * ZFS_DNODE_SIZE);
	zfs_buf_put(os->pool, b);
	return r;
}

int zfs_objset_open(struct zfs_pool *p, const struct zfs_bp *bp, struct zfs_objset **out)
{
	struct zfs_objset *os;
	struct zfs_buf *b;
	int r;

	if (zfs_bp_is_hole(bp))
		return -EIO;
	r = zfs_bp_read(p, bp, &b);
	if (r < 0)
		return r;
	os = calloc(1, sizeof(*os));
	if (!os) {
		zfs_buf_put(p, b);
		return -ENOMEM;
	}
	os->pool = p;
	if (b->size < OBJSET_MIN || span_le64(span_make(b->data, b->size), 704, &os->type) < 0)
		r = -EIO;
	else
		r = dnode_decode(&os->meta, b->data, ZFS_DNODE_SIZE);
	zfs_buf_put(p, b);
	if (r == 0 && os->meta.type != ZOT_DNODE)
		r = -EIO;
	if (r < 0) {
		free(os);
		return r == -ENOENT ? -EIO : r;
	}
	*out = os;
	return 0;
}

void zfs_objset_close(struct zfs_objset *os)
{
	free(os);
}
