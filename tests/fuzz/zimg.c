/* zimg.c: sparse ZFS pool images (decode, serve, forge the embedded checksums) and the link-time switch that leaves block checksums unverified. */
#include <stdlib.h>
#include <string.h>

#include "zimg.h"

bool zimg_forged;

int __wrap_zfs_cksum_compute(unsigned alg, const void *data, size_t len, struct zfs_cksum *out)
{
	/* Unknown algorithms keep their real answer (-EINVAL): the reader must refuse them. */
	if (zimg_forged && alg < ZCK_COUNT && alg != ZCK_LABEL && alg != ZCK_GANG_HEADER)
		return -ENOTSUP;
	return __real_zfs_cksum_compute(alg, data, len, out);
}

uint64_t zimg_label_off(uint64_t size, unsigned l)
{
	uint64_t psize = size & ~((uint64_t)ZFS_LABEL_SIZE - 1);

	return l * (uint64_t)ZFS_LABEL_SIZE + (l < 2 ? 0 : psize - 4 * (uint64_t)ZFS_LABEL_SIZE);
}

void zimg_eck_set(uint8_t *region, size_t len, uint64_t off)
{
	uint64_t magic = ZFS_ECK_MAGIC;
	struct zfs_cksum v = { { off, 0, 0, 0 } }, got;

	if (len < ZFS_ECK_SIZE)
		return;
	memcpy(region + len - ZFS_ECK_SIZE, &magic, 8);
	memcpy(region + len - 32, &v, 32);
	if (__real_zfs_cksum_compute(ZCK_LABEL, region, len, &got) == 0)
		memcpy(region + len - 32, &got, 32);
}

unsigned zimg_ub_shift(const uint8_t *ring, uint64_t off)
{
	unsigned best = 10, most = 0;

	for (unsigned shift = 10; shift <= 13; shift++) {
		unsigned n = 0;

		for (uint64_t at = 0; at < ZFS_LABEL_UB_SIZE; at += 1u << shift) {
			struct zfs_cksum v = { { off + at, 0, 0, 0 } };
			uint64_t magic;

			memcpy(&magic, ring + at, 8);
			n += magic == ZFS_UB_MAGIC && zfs_eck_verify(ring + at, 1u << shift, &v) == 0;
		}
		if (n > most) {
			most = n;
			best = shift;
		}
	}
	return best;
}

static uint16_t zimg_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int zimg_decode(struct zimg *im, const uint8_t *data, size_t size)
{
	size_t at, count[ZIMG_MAX_DEVS] = { 0 }, total = 0;

	memset(im, 0, sizeof(*im));
	if (size < 1)
		return -1;
	im->ndev = (data[0] & 3) + 1;
	if (im->ndev > ZIMG_MAX_DEVS)
		im->ndev = ZIMG_MAX_DEVS;
	im->verify = data[0] & ZIMG_F_VERIFY;
	im->ub_shift = 10 + (data[0] >> 4 & 3);
	at = 1 + 2 * (size_t)im->ndev;
	if (size < at)
		return -1;
	for (unsigned d = 0; d < im->ndev; d++)
		im->dev[d].size = (uint64_t)zimg_le16(data + 1 + 2 * d) << 20;
	/* Two passes: count each member's chunks, then point at them. */
	for (int pass = 0; pass < 2; pass++) {
		size_t i = at;

		for (total = 0; i + 7 <= size && total < ZIMG_MAX_CHUNKS; total++) {
			unsigned d = data[i] % im->ndev;
			uint64_t sector = (uint64_t)data[i + 1] | (uint64_t)data[i + 2] << 8 |
					  (uint64_t)data[i + 3] << 16 | (uint64_t)data[i + 4] << 24;
			size_t len = zimg_le16(data + i + 5);

			i += 7;
			if (len > size - i)
				len = size - i;
			if (pass == 0)
				count[d]++;
			else
				im->dev[d].c[im->dev[d].n++] = (struct zimg_chunk){ sector << 9, data + i, len };
			i += len;
		}
		if (pass == 0) {
			for (unsigned d = 0; d < im->ndev; d++) {
				/* Room for the fix-ups too. */
				im->dev[d].c = malloc((count[d] + 8) * sizeof(*im->dev[d].c));
				if (!im->dev[d].c) {
					zimg_free(im);
					return -1;
				}
			}
		}
	}
	return 0;
}

void zimg_read(const struct zimg_dev *d, void *buf, size_t len, uint64_t off)
{
	uint8_t *out = buf;

	memset(buf, 0, len);
	for (size_t i = 0; i < d->n + d->nfix; i++) {
		const struct zimg_chunk *c = &d->c[i];
		uint64_t from, to;

		if (c->off >= off + len || c->off + c->len <= off)
			continue;
		from = c->off > off ? c->off : off;
		to = c->off + c->len < off + len ? c->off + c->len : off + len;
		memcpy(out + (from - off), c->p + (from - c->off), (size_t)(to - from));
	}
}

static bool zimg_touched(const struct zimg_dev *d, uint64_t off, uint64_t len)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->c[i].off < off + len && d->c[i].off + d->c[i].len > off)
			return true;
	return false;
}

/* Materialise [off, off + len) of d as a fix-up chunk: it is returned for its checksums to be set. */
static uint8_t *zimg_fixup(struct zimg_dev *d, uint64_t off, size_t len)
{
	uint8_t *b;

	if (d->nfix == sizeof(d->fix) / sizeof(d->fix[0]) || !(b = malloc(len)))
		return NULL;
	zimg_read(d, b, len, off);
	d->fix[d->nfix] = b;
	d->c[d->n + d->nfix++] = (struct zimg_chunk){ off, b, len };
	return b;
}

int zimg_forge(struct zimg *im)
{
	size_t slot = (size_t)1 << im->ub_shift;

	for (unsigned i = 0; i < im->ndev; i++) {
		struct zimg_dev *d = &im->dev[i];

		if (d->size < 4ull * ZFS_LABEL_SIZE)
			continue;
		for (unsigned l = 0; l < 4; l++) {
			uint64_t lo = zimg_label_off(d->size, l);
			uint8_t *b;

			if (zimg_touched(d, lo + ZFS_LABEL_NVL_OFF, ZFS_LABEL_NVL_SIZE)) {
				if (!(b = zimg_fixup(d, lo + ZFS_LABEL_NVL_OFF, ZFS_LABEL_NVL_SIZE)))
					return -1;
				zimg_eck_set(b, ZFS_LABEL_NVL_SIZE, lo + ZFS_LABEL_NVL_OFF);
			}
			if (zimg_touched(d, lo + ZFS_LABEL_UB_OFF, ZFS_LABEL_UB_SIZE)) {
				if (!(b = zimg_fixup(d, lo + ZFS_LABEL_UB_OFF, ZFS_LABEL_UB_SIZE)))
					return -1;
				for (size_t at = 0; at < ZFS_LABEL_UB_SIZE; at += slot) {
					uint64_t magic;

					memcpy(&magic, b + at, 8);
					if (magic == ZFS_UB_MAGIC)
						zimg_eck_set(b + at, slot, lo + ZFS_LABEL_UB_OFF + at);
				}
			}
		}
	}
	return 0;
}

void zimg_free(struct zimg *im)
{
	for (unsigned i = 0; i < ZIMG_MAX_DEVS; i++) {
		for (size_t f = 0; f < im->dev[i].nfix; f++)
			free(im->dev[i].fix[f]);
		free(im->dev[i].c);
		im->dev[i].c = NULL;
		im->dev[i].n = im->dev[i].nfix = 0;
	}
}
