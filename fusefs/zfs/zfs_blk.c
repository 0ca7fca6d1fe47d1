/* zfs_blk.c: block pointers: holes, embedded data, gang blocks, every copy tried, checksums verified, decompressed, cached. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "zfs_int.h"

#define BLK_GANG_DEPTH 4 /* gang blocks nest; ZFS keeps it shallow */

uint64_t zfs_bp_word(const struct zfs_bp *bp, unsigned i)
{
	uint64_t v;

	memcpy(&v, bp->raw + 8 * i, 8);
	return v;
}

static uint64_t bf(uint64_t w, unsigned lo, unsigned len)
{
	return (w >> lo) & ((1ull << len) - 1);
}

#define BP_PROP(bp) zfs_bp_word(bp, 6)

bool zfs_bp_is_embedded(const struct zfs_bp *bp)
{
	return bf(BP_PROP(bp), 39, 1);
}

bool zfs_bp_is_hole(const struct zfs_bp *bp)
{
	return !zfs_bp_is_embedded(bp) && zfs_bp_word(bp, 0) == 0 && zfs_bp_word(bp, 1) == 0;
}

unsigned zfs_bp_level(const struct zfs_bp *bp)
{
	return (unsigned)bf(BP_PROP(bp), 56, 5);
}

unsigned zfs_bp_type(const struct zfs_bp *bp)
{
	return (unsigned)bf(BP_PROP(bp), 48, 8);
}

bool zfs_bp_encrypted(const struct zfs_bp *bp)
{
	return bf(BP_PROP(bp), 61, 1) && !zfs_bp_is_embedded(bp);
}

uint64_t zfs_bp_lsize(const struct zfs_bp *bp)
{
	if (zfs_bp_is_embedded(bp))
		return bf(BP_PROP(bp), 0, 25) + 1;
	return (bf(BP_PROP(bp), 0, 16) + 1) << ZFS_SECTOR_SHIFT;
}

static uint64_t bp_psize(const struct zfs_bp *bp)
{
	if (zfs_bp_is_embedded(bp))
		return bf(BP_PROP(bp), 25, 7) + 1;
	return (bf(BP_PROP(bp), 16, 16) + 1) << ZFS_SECTOR_SHIFT;
}

static unsigned bp_comp(const struct zfs_bp *bp)
{
	return (unsigned)bf(BP_PROP(bp), 32, 7);
}

static unsigned bp_cksum(const struct zfs_bp *bp)
{
	return (unsigned)bf(BP_PROP(bp), 40, 8);
}

uint64_t zfs_bp_birth(const struct zfs_bp *bp)
{
	return zfs_bp_word(bp, 10);
}

/* The physical birth: where a rewritten (dedup, device removal) block was last written. */
static uint64_t bp_phys_birth(const struct zfs_bp *bp)
{
	uint64_t pb = zfs_bp_word(bp, 9);

	return pb ? pb : zfs_bp_birth(bp);
}

/* An embedded pointer's payload: every word but the properties (6) and the birth (10). */
static int bp_embedded_read(const struct zfs_bp *bp, uint8_t *out, size_t lsize)
{
	uint8_t payload[112];
	size_t psize = (size_t)bp_psize(bp);
	unsigned at = 0;
	int r;

	if (bf(BP_PROP(bp), 40, 8) != 0) /* only BP_EMBEDDED_TYPE_DATA holds file bytes */
		return -EIO;
	for (unsigned w = 0; w < 16; w++) {
		if (w == 6 || w == 10)
			continue;
		memcpy(payload + at, bp->raw + 8 * w, 8);
		at += 8;
	}
	if (psize > sizeof(payload))
		return -EIO;
	r = zfs_decompress(bp_comp(bp), payload, psize, out, lsize);
	/* A codec unknown in a pool whose features all passed is corruption (zfs.h: -EIO). */
	return r == -ENOTSUP ? -EIO : r;
}

int zfs_eck_verify(const void *data, size_t len, const struct zfs_cksum *verifier)
{
	struct zfs_cksum stored, got;
	uint8_t *copy;
	uint64_t magic;
	int r;

	if (len < ZFS_ECK_SIZE)
		return -EIO;
	memcpy(&magic, (const uint8_t *)data + len - ZFS_ECK_SIZE, 8);
	if (magic != ZFS_ECK_MAGIC)
		return -EIO;
	memcpy(&stored, (const uint8_t *)data + len - 32, 32);
	/* The checksum was taken with the verifier where the checksum now is. */
	if (!(copy = malloc(len)))
		return -ENOMEM;
	memcpy(copy, data, len);
	memcpy(copy + len - 32, verifier, 32);
	r = zfs_cksum_compute(ZCK_LABEL, copy, len, &got);
	free(copy);
	if (r < 0)
		return r;
	return memcmp(&got, &stored, sizeof(got)) == 0 ? 0 : -EIO;
}

static int blk_read_phys(struct zfs_pool *p, const struct zfs_bp *bp, uint8_t *buf, size_t psize,
			 unsigned depth);

/* Verify buf against the pointer's checksum; blocks of algorithms we cannot check are counted. */
static int blk_verify(struct zfs_pool *p, const struct zfs_bp *bp, const uint8_t *buf, size_t psize)
{
	struct zfs_cksum got;
	unsigned alg = bp_cksum(bp);
	int r;

	if (alg == ZCK_OFF || alg == ZCK_NOPARITY)
		return 0;
	r = zfs_cksum_compute(alg, buf, psize, &got);
	if (r == -ENOTSUP) {
		pthread_mutex_lock(&p->lock);
		if (p->unverified[alg]++ == 0)
			log_warnx("pool %s: %s checksums cannot be verified here; such blocks are read unverified",
				  p->name, zfs_cksum_name(alg));
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	if (r < 0)
		return -EIO;
	for (unsigned i = 0; i < 4; i++)
		if (got.w[i] != zfs_bp_word(bp, 12 + i))
			return -EIO;
	return 0;
}

/* size bytes at off of one copy of a top-level vdev; a raidz reads whole sectors. */
static int blk_read_copy(const struct zfs_vdev *top, unsigned copy, uint64_t off, uint8_t *buf, size_t size)
{
	size_t sector = (size_t)1 << top->ashift, io = size;
	uint8_t *tmp;
	int r;

	if (top->type == ZV_RAIDZ)
		io = (size + sector - 1) & ~(sector - 1);
	if (io == size)
		return zfs_vdev_read(top, copy, off, buf, size);
	if (!(tmp = malloc(io)))
		return -ENOMEM;
	r = zfs_vdev_read(top, copy, off, tmp, io);
	if (r == 0)
		memcpy(buf, tmp, size);
	free(tmp);
	return r;
}

/* A gang block: its header (checksummed against its own address) lists the pieces of the data. */
static int blk_read_gang(struct zfs_pool *p, const struct zfs_bp *bp, const struct zfs_vdev *top, uint64_t off,
			 uint8_t *buf, size_t psize, unsigned depth)
{
	uint8_t hdr[ZFS_GANG_SIZE];
	struct zfs_cksum v = { { (uint64_t)(top - p->top), off, bp_phys_birth(bp), 0 } };
	size_t done = 0;
	int r = -EIO;

	if (depth >= BLK_GANG_DEPTH)
		return -EIO;
	for (unsigned c = 0; c < zfs_vdev_copies(top); c++) {
		r = blk_read_copy(top, c, off, hdr, sizeof(hdr));
		if (r == 0 && (r = zfs_eck_verify(hdr, sizeof(hdr), &v)) == 0)
			break;
	}
	if (r < 0)
		return r;
	for (unsigned i = 0; i < ZFS_GANG_NBP && done < psize; i++) {
		struct zfs_bp child;
		size_t cs;

		memcpy(child.raw, hdr + i * ZFS_BP_SIZE, ZFS_BP_SIZE);
		if (zfs_bp_is_hole(&child))
			continue;
		cs = (size_t)bp_psize(&child);
		if (cs > psize - done)
			return -EIO;
		r = blk_read_phys(p, &child, buf + done, cs, depth + 1);
		if (r < 0)
			return r;
		done += cs;
	}
	/* The pieces verify themselves; the whole is checked against the gang's own pointer. */
	return done == psize ? blk_verify(p, bp, buf, psize) : -EIO;
}

/* One DVA's bytes, each mirror side in turn until one verifies. */
static int blk_read_dva(struct zfs_pool *p, const struct zfs_bp *bp, unsigned d, uint8_t *buf, size_t psize,
			unsigned depth)
{
	uint64_t w0 = zfs_bp_word(bp, 2 * d), w1 = zfs_bp_word(bp, 2 * d + 1);
	uint64_t vdev = w0 >> 32, off = bf(w1, 0, 63) << ZFS_SECTOR_SHIFT;
	const struct zfs_vdev *top;
	int r = -EIO;

	if (w0 == 0 && w1 == 0)
		return -ENOENT;
	if (vdev >= p->ntop)
		return -EIO;
	top = &p->top[vdev];
	if (w1 >> 63)
		return blk_read_gang(p, bp, top, off, buf, psize, depth);
	for (unsigned c = 0; c < zfs_vdev_copies(top); c++) {
		r = blk_read_copy(top, c, off, buf, psize);
		if (r == 0 && (r = blk_verify(p, bp, buf, psize)) == 0)
			return 0;
	}
	return r;
}

/* The pointer's physical bytes (psize), from the first DVA that verifies. */
static int blk_read_phys(struct zfs_pool *p, const struct zfs_bp *bp, uint8_t *buf, size_t psize,
			 unsigned depth)
{
	int r = -EIO;

	for (unsigned d = 0; d < 3; d++) {
		int e = blk_read_dva(p, bp, d, buf, psize, depth);

		if (e == 0)
			return 0;
		if (e != -ENOENT)
			r = e;
	}
	return r;
}

/* ---- the cache: decompressed blocks by their first DVA and birth, a fixed byte budget, LRU ---- */

static size_t cache_slot(const struct zfs_pool *p, const uint64_t key[3])
{
	uint64_t h = key[0] * 0x9e3779b97f4a7c15ull ^ key[1] * 0xc2b2ae3d27d4eb4full ^ key[2];

	return (size_t)(h ^ (h >> 29)) & (p->nhash - 1);
}

static void cache_unlink_lru(struct zfs_buf *b)
{
	b->lprev->lnext = b->lnext;
	b->lnext->lprev = b->lprev;
}

static void cache_push_lru(struct zfs_pool *p, struct zfs_buf *b)
{
	b->lnext = p->lru->lnext;
	b->lprev = p->lru;
	p->lru->lnext->lprev = b;
	p->lru->lnext = b;
}

static void cache_remove(struct zfs_pool *p, struct zfs_buf *b)
{
	struct zfs_buf **pp = &p->hash[cache_slot(p, b->key)];

	while (*pp != b)
		pp = &(*pp)->hnext;
	*pp = b->hnext;
	cache_unlink_lru(b);
	p->bytes -= b->size;
	free(b);
}

/* Drop unused blocks, least recently used first, until the budget holds. */
static void cache_trim(struct zfs_pool *p)
{
	struct zfs_buf *b = p->lru->lprev;

	while (p->bytes > ZFS_CACHE_BYTES && b != p->lru) {
		struct zfs_buf *prev = b->lprev;

		if (b->refs == 0)
			cache_remove(p, b);
		b = prev;
	}
}

static int cache_init(struct zfs_pool *p)
{
	if (p->hash)
		return 0;
	p->nhash = 4096;
	p->hash = calloc(p->nhash, sizeof(*p->hash));
	p->lru = calloc(1, sizeof(*p->lru));
	if (!p->hash || !p->lru) {
		free(p->hash);
		free(p->lru);
		p->hash = NULL;
		p->lru = NULL;
		return -ENOMEM;
	}
	p->lru->lnext = p->lru->lprev = p->lru;
	return 0;
}

void zfs_buf_put(struct zfs_pool *p, struct zfs_buf *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&p->lock);
	if (b->key[0] == 0 && b->key[1] == 0 && b->key[2] == 0) {
		pthread_mutex_unlock(&p->lock);
		free(b); /* never cached: a hole or an embedded block */
		return;
	}
	b->refs--;
	cache_trim(p);
	pthread_mutex_unlock(&p->lock);
}

void zfs_cache_free(struct zfs_pool *p)
{
	if (!p->hash)
		return;
	while (p->lru->lnext != p->lru)
		cache_remove(p, p->lru->lnext);
	free(p->hash);
	free(p->lru);
	p->hash = NULL;
	p->lru = NULL;
}

/* Read, verify and decompress into data (the pointer's logical size), without the cache. */
static int blk_load(struct zfs_pool *p, const struct zfs_bp *bp, uint8_t *data, size_t size)
{
	size_t psize = (size_t)bp_psize(bp);
	uint8_t *phys;
	int r;

	if (bp_comp(bp) == ZCP_OFF || bp_comp(bp) == ZCP_INHERIT || bp_comp(bp) == ZCP_ON) {
		if (psize != size)
			return -EIO;
		return blk_read_phys(p, bp, data, psize, 0);
	}
	if (!(phys = malloc(psize)))
		return -ENOMEM;
	r = blk_read_phys(p, bp, phys, psize, 0);
	if (r == 0)
		r = zfs_decompress(bp_comp(bp), phys, psize, data, size);
	if (r == -ENOTSUP)
		r = -EIO; /* a codec unknown in a pool whose features all passed: corruption (zfs.h) */
	free(phys);
	return r;
}

/* Checks every read makes before it touches the disk. */
static int blk_readable(const struct zfs_bp *bp)
{
	if (zfs_bp_lsize(bp) > ZFS_MAX_BLOCK || bp_psize(bp) > ZFS_MAX_BLOCK)
		return -EIO;
	/*
	 * An encrypted dataset's objset block is only authenticated; everything
	 * under it is sealed.  Nothing reads below such an objset (zfs_fs_open
	 * and the dataset list refuse it first), so a sealed pointer met here is
	 * corruption in a dataset that is not encrypted: -EIO, as zfs.h says.
	 */
	if (zfs_bp_encrypted(bp) && zfs_bp_type(bp) != ZOT_OBJSET)
		return -EIO;
	return 0;
}

int zfs_bp_read_into(struct zfs_pool *p, const struct zfs_bp *bp, void *dst, size_t len)
{
	size_t lsize = (size_t)zfs_bp_lsize(bp);
	int r = blk_readable(bp);

	if (r < 0)
		return r;
	if (lsize > len)
		return -EIO;
	if (zfs_bp_is_hole(bp))
		lsize = 0;
	else if (zfs_bp_is_embedded(bp))
		r = bp_embedded_read(bp, dst, lsize);
	else
		r = blk_load(p, bp, dst, lsize);
	if (r == 0)
		memset((uint8_t *)dst + lsize, 0, len - lsize);
	return r;
}

int zfs_bp_read(struct zfs_pool *p, const struct zfs_bp *bp, struct zfs_buf **out)
{
	uint64_t lsize = zfs_bp_lsize(bp);
	uint64_t key[3] = { zfs_bp_word(bp, 0), zfs_bp_word(bp, 1), zfs_bp_birth(bp) };
	struct zfs_buf *b;
	int r;

	if ((r = blk_readable(bp)) < 0)
		return r;
	if (zfs_bp_is_hole(bp) || zfs_bp_is_embedded(bp)) {
		b = calloc(1, sizeof(*b) + lsize);
		if (!b)
			return -ENOMEM;
		b->size = (size_t)lsize;
		if (zfs_bp_is_embedded(bp) && (r = bp_embedded_read(bp, b->data, b->size)) < 0) {
			free(b);
			return r;
		}
		*out = b;
		return 0;
	}
	pthread_mutex_lock(&p->lock);
	if ((r = cache_init(p)) < 0) {
		pthread_mutex_unlock(&p->lock);
		return r;
	}
	for (b = p->hash[cache_slot(p, key)]; b; b = b->hnext) {
		if (memcmp(b->key, key, sizeof(key)) == 0 && b->size == lsize) {
			b->refs++;
			cache_unlink_lru(b);
			cache_push_lru(p, b);
			pthread_mutex_unlock(&p->lock);
			*out = b;
			return 0;
		}
	}
	pthread_mutex_unlock(&p->lock);

	/*
	 * Loaded outside the lock, so readers of other blocks do not wait for the
	 * disk.  The data is not cleared first: the read or the codec fills all of it.
	 */
	b = malloc(sizeof(*b) + lsize);
	if (!b)
		return -ENOMEM;
	memset(b, 0, sizeof(*b));
	b->size = (size_t)lsize;
	memcpy(b->key, key, sizeof(key));
	r = blk_load(p, bp, b->data, b->size);
	if (r < 0) {
		free(b);
		return r;
	}
	b->refs = 1;
	pthread_mutex_lock(&p->lock);
	for (struct zfs_buf *o = p->hash[cache_slot(p, key)]; o; o = o->hnext) {
		if (memcmp(o->key, key, sizeof(key)) == 0 && o->size == lsize) {
			/* Another reader loaded it meanwhile: keep one copy. */
			o->refs++;
			pthread_mutex_unlock(&p->lock);
			free(b);
			*out = o;
			return 0;
		}
	}
	b->hnext = p->hash[cache_slot(p, key)];
	p->hash[cache_slot(p, key)] = b;
	cache_push_lru(p, b);
	p->bytes += b->size;
	cache_trim(p);
	pthread_mutex_unlock(&p->lock);
	*out = b;
	return 0;
}
