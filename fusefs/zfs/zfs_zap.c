/* zfs_zap.c: ZAP objects (micro and fat): lookups by name and resumable walks, every chain and array bounded. */
#include <stdlib.h>
#include <string.h>

#include "zfs_int.h"

#define ZBT_LEAF (1ull << 63)
#define ZBT_HEADER ((1ull << 63) + 1)
#define ZBT_MICRO ((1ull << 63) + 3)
#define ZAP_MAGIC 0x2F52AB2ABull
#define ZAP_LEAF_MAGIC 0x2AB1EAFu
#define ZAP_FLAG_HASH64 1
#define ZAP_FLAG_UINT64_KEY 4
#define ZAP_CHUNK 24
#define ZAP_CHUNK_ENTRY 252
#define ZAP_CHUNK_ARRAY 251
#define ZAP_CHAIN_END 0xffff
#define ZAP_ARRAY_BYTES 21
#define MZAP_ENT 64
#define MZAP_NAME 50
#define ZAP_NAME_MAX 256
#define ZAP_VALUE_MAX 8192 /* bytes of one value we read (SA layouts are a few hundred) */

/* One block of a ZAP object, with what every access needs. */
struct zap_blk {
	struct zfs_buf *b;
	struct span s;
};

static int zap_block(struct zfs_pool *p, const struct zfs_dnode *dn, uint64_t blkid, struct zap_blk *zb)
{
	int r = zfs_dnode_block(p, dn, blkid, &zb->b);

	if (r < 0)
		return r;
	zb->s = span_make(zb->b->data, zb->b->size);
	return 0;
}

static unsigned zap_shift(const struct zfs_dnode *dn)
{
	unsigned bs = 0;

	while ((1u << bs) < dn->datablksz)
		bs++;
	return bs;
}

static uint64_t zap_crc_table[256];
static pthread_once_t zap_crc_once = PTHREAD_ONCE_INIT;

/* ZFS's CRC-64 (ECMA polynomial, reflected), the ZAP's name hash. */
static void zap_crc_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint64_t c = i;

		for (unsigned j = 0; j < 8; j++)
			c = (c >> 1) ^ (-(c & 1) & 0xC96C5795D7870F42ull);
		zap_crc_table[i] = c;
	}
}

/* A name's hash: the salted CRC, keeping the top bits a ZAP of this kind uses. */
static uint64_t zap_hash(uint64_t salt, const char *name, unsigned bits)
{
	uint64_t crc = salt;

	pthread_once(&zap_crc_once, zap_crc_init);
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		crc = (crc >> 8) ^ zap_crc_table[(crc ^ *c) & 0xff];
	return crc & ~((1ull << (64 - bits)) - 1);
}

/* ---- fat ZAP leaves ---- */

struct zap_leaf {
	struct span s;
	unsigned bs;
	uint64_t nchunks;
	uint64_t chunk0; /* byte offset of chunk 0 */
};

static int zap_leaf_open(struct span s, unsigned bs, struct zap_leaf *l)
{
	uint64_t type;
	uint32_t magic;

	/* ZAP blocks stop at 128 KiB: a chunk index fits the 16 bits of a walk's cookie. */
	if (bs < 10 || bs > 17 || s.len != (1ull << bs) || span_le64(s, 0, &type) < 0 ||
	    span_le32(s, 24, &magic) < 0)
		return -EIO;
	if (type != ZBT_LEAF || magic != ZAP_LEAF_MAGIC)
		return -EIO;
	l->s = s;
	l->bs = bs;
	l->chunk0 = 48 + 2 * (1ull << (bs - 5));
	l->nchunks = ((1ull << bs) - 2 * (1ull << (bs - 5))) / ZAP_CHUNK - 2;
	return 0;
}

/* Bytes of an array chain from chunk c: up to len into out (NULL: only checked). */
static int zap_leaf_array(const struct zap_leaf *l, uint16_t c, uint8_t *out, size_t len)
{
	size_t done = 0;

	for (uint64_t hops = 0; done < len; hops++) {
		uint64_t at = l->chunk0 + (uint64_t)c * ZAP_CHUNK;
		size_t n = len - done < ZAP_ARRAY_BYTES ? len - done : ZAP_ARRAY_BYTES;
		uint8_t type;

		if (c == ZAP_CHAIN_END || c >= l->nchunks || hops > l->nchunks ||
		    span_u8(l->s, at, &type) < 0 || type != ZAP_CHUNK_ARRAY ||
		    span_copy(l->s, at + 1, out + done, n) < 0 || span_le16(l->s, at + 22, &c) < 0)
			return -EIO;
		done += n;
	}
	return 0;
}

struct zap_entry {
	uint8_t intlen;
	uint16_t next, name_chunk, name_len, value_chunk, value_n;
	uint64_t hash;
};

static int zap_leaf_entry(const struct zap_leaf *l, uint16_t c, struct zap_entry *e)
{
	uint64_t at = l->chunk0 + (uint64_t)c * ZAP_CHUNK;
	uint8_t type;

	if (c >= l->nchunks || span_u8(l->s, at, &type) < 0)
		return -EIO;
	if (type != ZAP_CHUNK_ENTRY)
		return -ENOENT;
	if (span_u8(l->s, at + 1, &e->intlen) < 0 || span_le16(l->s, at + 2, &e->next) < 0 ||
	    span_le16(l->s, at + 4, &e->name_chunk) < 0 || span_le16(l->s, at + 6, &e->name_len) < 0 ||
	    span_le16(l->s, at + 8, &e->value_chunk) < 0 || span_le16(l->s, at + 10, &e->value_n) < 0 ||
	    span_le64(l->s, at + 16, &e->hash) < 0)
		return -EIO;
	return 0;
}

/* An entry's name, NUL-terminated in name[ZAP_NAME_MAX]. */
static int zap_leaf_name(const struct zap_leaf *l, const struct zap_entry *e, char *name)
{
	if (e->name_len == 0 || e->name_len > ZAP_NAME_MAX)
		return -EIO;
	if (zap_leaf_array(l, e->name_chunk, (uint8_t *)name, e->name_len) < 0)
		return -EIO;
	name[e->name_len - 1] = '\0';
	return 0;
}

/* Store numints integers of intlen bytes from big-endian bytes into host integers. */
static void zap_ints(const uint8_t *be, unsigned intlen, size_t n, void *out)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;

		for (unsigned k = 0; k < intlen; k++)
			v = v << 8 | be[i * intlen + k];
		switch (intlen) {
		case 1: ((uint8_t *)out)[i] = (uint8_t)v; break;
		case 2: ((uint16_t *)out)[i] = (uint16_t)v; break;
		case 4: ((uint32_t *)out)[i] = (uint32_t)v; break;
		default: ((uint64_t *)out)[i] = v; break;
		}
	}
}

static int zap_leaf_value(const struct zap_leaf *l, const struct zap_entry *e, unsigned intlen, void *out,
			  size_t max, size_t *n)
{
	uint8_t buf[ZAP_VALUE_MAX];
	size_t want;

	if (e->intlen != intlen)
		return -EINVAL;
	*n = e->value_n;
	want = (e->value_n < max ? e->value_n : max) * (size_t)intlen;
	if (want > sizeof(buf) || zap_leaf_array(l, e->value_chunk, buf, want) < 0)
		return -EIO;
	zap_ints(buf, intlen, want / intlen, out);
	return 0;
}

/* ---- fat ZAP header ---- */

struct zap_fat {
	unsigned bs, hashbits;
	uint64_t salt, ptr_blk, ptr_nblks, ptr_shift, flags, normflags, freeblk, nleafs;
};

static int zap_fat_header(struct span s, unsigned bs, struct zap_fat *z)
{
	uint64_t magic;

	if (span_le64(s, 8, &magic) < 0 || magic != ZAP_MAGIC || span_le64(s, 16, &z->ptr_blk) < 0 ||
	    span_le64(s, 24, &z->ptr_nblks) < 0 || span_le64(s, 32, &z->ptr_shift) < 0 ||
	    span_le64(s, 56, &z->freeblk) < 0 || span_le64(s, 64, &z->nleafs) < 0 ||
	    span_le64(s, 80, &z->salt) < 0 || span_le64(s, 88, &z->normflags) < 0 ||
	    span_le64(s, 96, &z->flags) < 0)
		return -EIO;
	z->bs = bs;
	z->hashbits = z->flags & ZAP_FLAG_HASH64 ? 48 : 28;
	if (z->ptr_shift > z->hashbits || (z->ptr_nblks == 0 && z->ptr_shift > bs - 4))
		return -EIO;
	return 0;
}

/* The leaf block the pointer table gives hash h. */
static int zap_fat_leaf_of(struct zfs_pool *p, const struct zfs_dnode *dn, const struct zap_fat *z,
			   struct span hdr, uint64_t h, uint64_t *blkid)
{
	uint64_t idx = z->ptr_shift ? h >> (64 - z->ptr_shift) : 0;
	struct zap_blk zb;
	int r;

	if (z->ptr_nblks == 0)
		return span_le64(hdr, 8 * ((1ull << (z->bs - 4)) + idx), blkid) < 0 ? -EIO : 0;
	if ((idx >> (z->bs - 3)) >= z->ptr_nblks)
		return -EIO;
	r = zap_block(p, dn, z->ptr_blk + (idx >> (z->bs - 3)), &zb);
	if (r < 0)
		return r;
	r = span_le64(zb.s, 8 * (idx & ((1ull << (z->bs - 3)) - 1)), blkid) < 0 ? -EIO : 0;
	zfs_buf_put(p, zb.b);
	return r;
}

static int zap_fat_walk(struct zfs_pool *p, const struct zfs_dnode *dn, struct span hdr, uint64_t off,
			int (*cb)(void *, const struct zfs_zap_ent *), void *ctx);

struct zap_scan {
	const char *name;
	struct zfs_zap_ent found;
};

static int zap_scan_ent(void *ctx, const struct zfs_zap_ent *e)
{
	struct zap_scan *sc = ctx;

	if (strcmp(e->name, sc->name) != 0)
		return 0;
	sc->found = *e;
	return 1;
}

/*
 * A ZAP with normalization (formD, case folding) hashes the normalized
 * name, which this reader does not compute: such a ZAP (only directories
 * have one) is searched entry by entry for the name as stored.
 */
static int zap_fat_scan(struct zfs_pool *p, const struct zfs_dnode *dn, struct span hdr, const char *name,
			unsigned intlen, void *out, size_t max, size_t *n)
{
	struct zap_scan sc = { name, { .intlen = 0 } };
	int r = zap_fat_walk(p, dn, hdr, 0, zap_scan_ent, &sc);

	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	if (sc.found.intlen != intlen || intlen != 8)
		return -EINVAL;
	*n = sc.found.numints;
	if (max)
		*(uint64_t *)out = sc.found.value;
	return 0;
}

static int zap_fat_lookup(struct zfs_pool *p, const struct zfs_dnode *dn, struct span hdr, unsigned bs,
			  const char *name, unsigned intlen, void *out, size_t max, size_t *n)
{
	struct zap_fat z;
	struct zap_blk zb;
	struct zap_leaf l;
	uint64_t h, blkid;
	uint16_t prefix_len, c;
	int r;

	if (zap_fat_header(hdr, bs, &z) < 0 || (z.flags & ZAP_FLAG_UINT64_KEY))
		return -EIO;
	if (z.normflags)
		return zap_fat_scan(p, dn, hdr, name, intlen, out, max, n);
	h = zap_hash(z.salt, name, z.hashbits);
	if ((r = zap_fat_leaf_of(p, dn, &z, hdr, h, &blkid)) < 0)
		return r;
	if (blkid == 0 || (r = zap_block(p, dn, blkid, &zb)) < 0)
		return blkid == 0 ? -EIO : r;
	if ((r = zap_leaf_open(zb.s, bs, &l)) < 0 || span_le16(l.s, 32, &prefix_len) < 0 || prefix_len > 64) {
		zfs_buf_put(p, zb.b);
		return -EIO;
	}
	{
		unsigned hshift = bs - 5;
		uint64_t bucket = prefix_len + hshift >= 64 ? 0 :
				  (h >> (64 - hshift - prefix_len)) & ((1ull << hshift) - 1);

		r = span_le16(l.s, 48 + 2 * bucket, &c) < 0 ? -EIO : -ENOENT;
	}
	for (uint64_t hops = 0; r == -ENOENT && c != ZAP_CHAIN_END; hops++) {
		struct zap_entry e;
		char nm[ZAP_NAME_MAX];

		if (hops > l.nchunks || zap_leaf_entry(&l, c, &e) < 0) {
			r = -EIO;
			break;
		}
		if (e.hash == h) {
			if (zap_leaf_name(&l, &e, nm) < 0) {
				r = -EIO;
				break;
			}
			if (strcmp(nm, name) == 0) {
				r = zap_leaf_value(&l, &e, intlen, out, max, n);
				break;
			}
		}
		c = e.next;
	}
	zfs_buf_put(p, zb.b);
	return r;
}

/* ---- micro ZAP ---- */

static int zap_micro_lookup(struct span s, const char *name, unsigned intlen, void *out, size_t max, size_t *n)
{
	size_t len = strlen(name);

	if (len >= MZAP_NAME)
		return -ENOENT;
	for (uint64_t at = MZAP_ENT; at + MZAP_ENT <= s.len; at += MZAP_ENT) {
		if (memcmp(s.p + at + 14, name, len + 1) != 0)
			continue;
		if (intlen != 8)
			return -EINVAL;
		*n = 1;
		if (max)
			return span_le64(s, at, out) < 0 ? -EIO : 0;
		return 0;
	}
	return -ENOENT;
}

int zfs_zap_lookup(struct zfs_pool *p, const struct zfs_dnode *dn, const char *name, unsigned intlen,
		   void *out, size_t max, size_t *n)
{
	struct zap_blk zb;
	uint64_t type;
	int r;

	if (intlen != 1 && intlen != 2 && intlen != 4 && intlen != 8)
		return -EINVAL;
	if (strlen(name) >= ZAP_NAME_MAX)
		return -ENOENT;
	if ((r = zap_block(p, dn, 0, &zb)) < 0)
		return r;
	if (span_le64(zb.s, 0, &type) < 0)
		r = -EIO;
	else if (type == ZBT_MICRO)
		r = zap_micro_lookup(zb.s, name, intlen, out, max, n);
	else if (type == ZBT_HEADER)
		r = zap_fat_lookup(p, dn, zb.s, zap_shift(dn), name, intlen, out, max, n);
	else
		r = -EIO;
	zfs_buf_put(p, zb.b);
	return r;
}

int zfs_zap_u64(struct zfs_pool *p, const struct zfs_dnode *dn, const char *name, uint64_t *v)
{
	size_t n;
	int r = zfs_zap_lookup(p, dn, name, 8, v, 1, &n);

	return r == 0 && n != 1 ? -EIO : r;
}

/* ---- walks ---- */

static int zap_micro_walk(struct span s, uint64_t off, int (*cb)(void *, const struct zfs_zap_ent *), void *ctx)
{
	struct zfs_zap_ent e;

	for (uint64_t i = off; (i + 2) * MZAP_ENT <= s.len; i++) {
		uint64_t at = (i + 1) * MZAP_ENT;
		const char *nm = (const char *)s.p + at + 14;
		size_t len = strnlen(nm, MZAP_NAME);
		int r;

		if (len == 0)
			continue;
		if (len == MZAP_NAME)
			return -EIO;
		memcpy(e.name, nm, len + 1);
		e.intlen = 8;
		e.numints = 1;
		if (span_le64(s, at, &e.value) < 0)
			return -EIO;
		e.next = i + 1;
		if ((r = cb(ctx, &e)) != 0)
			return r;
	}
	return 0;
}

/* Entries of one leaf from chunk c0 on; cookies are (blkid << 16 | chunk) + 1. */
static int zap_leaf_walk(const struct zap_leaf *l, uint64_t blkid, uint64_t c0,
			 int (*cb)(void *, const struct zfs_zap_ent *), void *ctx)
{
	for (uint64_t c = c0; c < l->nchunks; c++) {
		struct zfs_zap_ent e;
		struct zap_entry ze;
		uint8_t be[8];
		int r = zap_leaf_entry(l, (uint16_t)c, &ze);

		if (r == -ENOENT)
			continue;
		if (r < 0 || zap_leaf_name(l, &ze, e.name) < 0)
			return -EIO;
		e.intlen = ze.intlen;
		e.numints = ze.value_n;
		e.value = 0;
		if (ze.intlen == 8 && ze.value_n >= 1) {
			if (zap_leaf_array(l, ze.value_chunk, be, 8) < 0)
				return -EIO;
			zap_ints(be, 8, 1, &e.value);
		}
		e.next = ((blkid << 16) | (c + 1)) + 1;
		if ((r = cb(ctx, &e)) != 0)
			return r;
	}
	return 0;
}

/*
 * Leaves in block order: every leaf the pointer table reaches is a block
 * of the object that says it is a leaf; pointer-table blocks never do.
 * Blocks from zap_freeblk on were never handed out, and the walk stops once
 * it has seen the header's count of leaves; a damaged header cannot make it
 * visit more blocks than its pointer table and a bounded count of leaves.
 */
static int zap_fat_walk(struct zfs_pool *p, const struct zfs_dnode *dn, struct span hdr, uint64_t off,
			int (*cb)(void *, const struct zfs_zap_ent *), void *ctx)
{
	unsigned bs = zap_shift(dn);
	uint64_t blkid = off ? (off - 1) >> 16 : 1, c0 = off ? (off - 1) & 0xffff : 0;
	uint64_t leaves = 0, visits = 0, budget;
	struct zap_fat z;

	if (zap_fat_header(hdr, bs, &z) < 0)
		return -EIO;
	if (blkid == 0)
		blkid = 1;
	budget = 64 + 2 * (z.ptr_nblks < (1u << 20) ? z.ptr_nblks : (1u << 20)) +
		 2 * (z.nleafs < (1u << 22) ? z.nleafs : (1u << 22));
	for (; blkid <= dn->maxblkid && blkid < z.freeblk && blkid < (1ull << 40) && visits < budget;
	     blkid++, c0 = 0, visits++) {
		struct zap_blk zb;
		struct zap_leaf l;
		int r = zap_block(p, dn, blkid, &zb);

		if (r < 0)
			return r;
		if (zap_leaf_open(zb.s, bs, &l) == 0) {
			r = zap_leaf_walk(&l, blkid, c0, cb, ctx);
			leaves++;
		}
		zfs_buf_put(p, zb.b);
		if (r != 0)
			return r;
		/* Only a walk from the start knows how many leaves lie behind it. */
		if (off == 0 && leaves >= z.nleafs)
			break;
	}
	return 0;
}

int zfs_zap_walk(struct zfs_pool *p, const struct zfs_dnode *dn, uint64_t off,
		 int (*cb)(void *ctx, const struct zfs_zap_ent *e), void *ctx)
{
	struct zap_blk zb;
	uint64_t type;
	int r;

	if (off >= ZFS_ZAP_COOKIE_END)
		return 0;
	if ((r = zap_block(p, dn, 0, &zb)) < 0)
		return r;
	if (span_le64(zb.s, 0, &type) < 0)
		r = -EIO;
	else if (type == ZBT_MICRO)
		r = zap_micro_walk(zb.s, off, cb, ctx);
	else if (type == ZBT_HEADER)
		r = zap_fat_walk(p, dn, zb.s, off, cb, ctx);
	else
		r = -EIO;
	zfs_buf_put(p, zb.b);
	return r;
}
