/* corrupt_zfs.c: the ZFS corruption suite's driver: seeded mutations of zfs-fuse pools at the bytes the reader reads (labels, uberblocks, objsets, indirect blocks, dnodes, ZAPs, file data), checked against the intact pool: verified runs never show a wrong byte, forged runs never crash or hang. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "zimg.h"
#include "zwalk.h"

#define CZ_TIMEOUT 20   /* seconds one mutated pool may take: a hang fails the suite */
#define CZ_SECTOR 512
#define CZ_ZBT_LEAF (1ull << 63)
#define CZ_ZBT_HEADER ((1ull << 63) + 1)
#define CZ_ZBT_MICRO ((1ull << 63) + 3)
#define CZ_PLAIN_FILE 19 /* DMU_OT_PLAIN_FILE_CONTENTS */

enum region_kind { R_LABEL, R_UBER, R_OBJSET, R_INDIR, R_DNODE, R_ZAP, R_DATA, R_OTHER, R_KINDS };
static const char *const region_names[R_KINDS] = { "label", "uberblock", "objset", "indirect block",
						   "dnode block", "ZAP block", "file data", "other block" };

struct cz_region {
	unsigned dev;
	uint64_t off, len;
};

/* A read the intact walk made, and what it was for. */
struct cz_read {
	unsigned dev;
	uint64_t off, len;
	enum region_kind kind;
};

/* One entry of the intact pool, for the oracle. */
struct cz_ref {
	char *key; /* "dataset:/path" */
	bool has_st;
	struct zfs_stat st;
	uint8_t *bytes;
	size_t len;
	char *target;
};

struct cz_patch {
	unsigned dev;
	uint64_t off, len;
	uint8_t *p;
};

struct cz_pool {
	const char *spec;
	unsigned ndev;
	const char *path[ZIMG_MAX_DEVS];
	const uint8_t *base[ZIMG_MAX_DEVS];
	uint64_t size[ZIMG_MAX_DEVS];
	unsigned ub_shift[ZIMG_MAX_DEVS];
	struct cz_region *rg[R_KINDS];
	size_t nrg[R_KINDS];
	uint64_t guid, txg;
	struct cz_ref *ref;
	size_t nref;
	unsigned entries; /* dirs + files + links + others of the intact walk */
};

/* A member as the reader sees it: the base image and the patches of the current mutation. */
struct cz_dev {
	const struct cz_pool *pool;
	unsigned idx;
	const struct cz_patch *patches;
	size_t npatches;
};

struct cz_tally {
	unsigned images[2], assembled[2], walked[2], reached[2], full[2], oracle[2], older_txg[2];
	unsigned hits[R_KINDS];
	uint64_t errors[2], bytes[2];
};

static const char *const mode_names[2] = { "verified", "forged" };

/* ---- the trace of the intact walk ---- */
static struct cz_read *cz_reads;
static size_t cz_nreads, cz_capreads;
static bool cz_tracing;

int __real_zfs_bp_read(struct zfs_pool *p, const struct zfs_bp *bp, struct zfs_buf **out);
int __wrap_zfs_bp_read(struct zfs_pool *p, const struct zfs_bp *bp, struct zfs_buf **out);
int __real_zfs_bp_read_into(struct zfs_pool *p, const struct zfs_bp *bp, void *dst, size_t len);
int __wrap_zfs_bp_read_into(struct zfs_pool *p, const struct zfs_bp *bp, void *dst, size_t len);

/* Tag the reads since first with what the block bp points at holds (data: its decoded bytes, or NULL). */
static void cz_tag(size_t first, const struct zfs_bp *bp, const uint8_t *data, size_t size)
{
	enum region_kind k = R_OTHER;
	uint64_t w = 0;

	if (data && size >= 8)
		memcpy(&w, data, 8);
	if (zfs_bp_level(bp) > 0)
		k = R_INDIR;
	else if (zfs_bp_type(bp) == ZOT_OBJSET)
		k = R_OBJSET;
	else if (zfs_bp_type(bp) == ZOT_DNODE)
		k = R_DNODE;
	else if (w == CZ_ZBT_MICRO || w == CZ_ZBT_HEADER || w == CZ_ZBT_LEAF)
		k = R_ZAP;
	else if (zfs_bp_type(bp) == CZ_PLAIN_FILE)
		k = R_DATA;
	for (size_t i = first; i < cz_nreads; i++)
		cz_reads[i].kind = k;
}

/* Every read of a block is tagged with what the block holds, once it is known. */
int __wrap_zfs_bp_read(struct zfs_pool *p, const struct zfs_bp *bp, struct zfs_buf **out)
{
	size_t first = cz_nreads;
	int r = __real_zfs_bp_read(p, bp, out);

	if (cz_tracing && first != cz_nreads)
		cz_tag(first, bp, r == 0 ? (*out)->data : NULL, r == 0 ? (*out)->size : 0);
	return r;
}

/* Whole data blocks read straight into the caller's buffer, past the cache. */
int __wrap_zfs_bp_read_into(struct zfs_pool *p, const struct zfs_bp *bp, void *dst, size_t len)
{
	size_t first = cz_nreads;
	int r = __real_zfs_bp_read_into(p, bp, dst, len);

	if (cz_tracing && first != cz_nreads)
		cz_tag(first, bp, r == 0 ? dst : NULL, r == 0 ? len : 0);
	return r;
}

static void *cz_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		perror("corrupt_zfs: realloc");
		exit(1);
	}
	return q;
}

static char *cz_xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		perror("corrupt_zfs: strdup");
		exit(1);
	}
	return d;
}

static int cz_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct cz_dev *d = ctx;
	const struct cz_pool *pl = d->pool;
	uint64_t size = pl->size[d->idx];

	if (off > size || len > size - off) {
		printf("FAIL: the reader read %zu bytes at %" PRIu64 " of %s, past its size\n", len, off,
		       pl->path[d->idx]);
		exit(1);
	}
	memcpy(buf, pl->base[d->idx] + off, len);
	for (size_t i = 0; i < d->npatches; i++) {
		const struct cz_patch *pa = &d->patches[i];
		uint64_t from, to;

		if (pa->dev != d->idx || pa->off >= off + len || pa->off + pa->len <= off)
			continue;
		from = pa->off > off ? pa->off : off;
		to = pa->off + pa->len < off + len ? pa->off + pa->len : off + len;
		memcpy((uint8_t *)buf + (from - off), pa->p + (from - pa->off), (size_t)(to - from));
	}
	if (cz_tracing) {
		enum region_kind k = R_OTHER;

		/* Outside a block read: a label's nvlist or its uberblock ring. */
		for (unsigned l = 0; l < 4; l++) {
			uint64_t lo = zimg_label_off(size, l);

			if (off >= lo + ZFS_LABEL_NVL_OFF && off < lo + ZFS_LABEL_UB_OFF)
				k = R_LABEL;
			else if (off >= lo + ZFS_LABEL_UB_OFF && off < lo + ZFS_LABEL_SIZE)
				k = R_UBER;
		}
		if (cz_nreads == cz_capreads) {
			cz_capreads = cz_capreads ? 2 * cz_capreads : 1024;
			cz_reads = cz_xrealloc(cz_reads, cz_capreads * sizeof(*cz_reads));
		}
		cz_reads[cz_nreads++] = (struct cz_read){ d->idx, off, len, k };
	}
	return 0;
}

/* ---- the oracle ---- */

struct cz_oracle {
	struct cz_pool *pool;
	bool record;   /* the intact walk: record; a mutated one: compare */
	char why[512]; /* the first difference */
};

static struct cz_ref *cz_ref_find(struct cz_pool *pl, const char *ds, const char *path)
{
	size_t dl = strlen(ds);

	for (size_t i = 0; i < pl->nref; i++)
		if (strncmp(pl->ref[i].key, ds, dl) == 0 && pl->ref[i].key[dl] == ':' &&
		    strcmp(pl->ref[i].key + dl + 1, path) == 0)
			return &pl->ref[i];
	return NULL;
}

static void cz_differ(struct cz_oracle *o, const char *fmt, const char *ds, const char *path)
{
	if (!o->why[0])
		snprintf(o->why, sizeof(o->why), fmt, ds, path);
}

static bool cz_st_equal(const struct zfs_stat *a, const struct zfs_stat *b)
{
	return a->obj == b->obj && a->mode == b->mode && a->nlink == b->nlink && a->uid == b->uid &&
	       a->gid == b->gid && a->size == b->size && a->rdev == b->rdev && a->gen == b->gen &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->atime.tv_sec == b->atime.tv_sec &&
	       a->crtime.tv_sec == b->crtime.tv_sec;
}

static void cz_on_entry(void *ctx, const char *ds, const char *path, const struct zfs_stat *st, int err)
{
	struct cz_oracle *o = ctx;
	struct cz_ref *r = cz_ref_find(o->pool, ds, path);

	if (o->record) {
		if (r)
			return; /* a hard link's second name is another path: this is the same one again */
		o->pool->ref = cz_xrealloc(o->pool->ref, (o->pool->nref + 1) * sizeof(*o->pool->ref));
		r = &o->pool->ref[o->pool->nref++];
		memset(r, 0, sizeof(*r));
		if (asprintf(&r->key, "%s:%s", ds, path) < 0)
			exit(1);
		if (st) {
			r->has_st = true;
			r->st = *st;
		}
		return;
	}
	if (!r)
		cz_differ(o, "%s:%s: a name the intact pool does not have", ds, path);
	else if (!err && (!r->has_st || !cz_st_equal(st, &r->st)))
		cz_differ(o, "%s:%s: attributes differ from the intact pool's", ds, path);
	(void)err;
}

static void cz_on_bytes(void *ctx, const char *ds, const char *path, uint64_t off, const void *buf, size_t n)
{
	struct cz_oracle *o = ctx;
	struct cz_ref *r = cz_ref_find(o->pool, ds, path);

	if (!r)
		return; /* reported by cz_on_entry */
	if (o->record) {
		/* The intact walk reads each file from its start, in order, once. */
		if (off != r->len)
			return;
		r->bytes = cz_xrealloc(r->bytes, r->len + n);
		memcpy(r->bytes + r->len, buf, n);
		r->len += n;
		return;
	}
	if (off > r->len || n > r->len - off || memcmp(r->bytes + off, buf, n) != 0)
		cz_differ(o, "%s:%s: bytes read differ from the intact pool's", ds, path);
}

static void cz_on_link(void *ctx, const char *ds, const char *path, const char *target, int err)
{
	struct cz_oracle *o = ctx;
	struct cz_ref *r = cz_ref_find(o->pool, ds, path);

	if (!r)
		return;
	if (o->record) {
		if (target && !r->target)
			r->target = cz_xstrdup(target);
		return;
	}
	if (!err && (!r->target || strcmp(r->target, target) != 0))
		cz_differ(o, "%s:%s: the symlink target differs from the intact pool's", ds, path);
}

/* ---- pools ---- */

static int cz_region_cmp(const void *a, const void *b)
{
	const struct cz_region *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static bool cz_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The non-zero sectors of every traced read, merged into regions by kind. */
static void cz_regions(struct cz_pool *pl)
{
	size_t cap[R_KINDS] = { 0 };

	for (size_t i = 0; i < cz_nreads; i++) {
		const struct cz_read *rd = &cz_reads[i];
		enum region_kind k = rd->kind;

		for (uint64_t s = rd->off / CZ_SECTOR * CZ_SECTOR; s < rd->off + rd->len; s += CZ_SECTOR) {
			struct cz_region *last = pl->nrg[k] ? &pl->rg[k][pl->nrg[k] - 1] : NULL;

			if (s + CZ_SECTOR > pl->size[rd->dev] || cz_zero(pl->base[rd->dev] + s, CZ_SECTOR))
				continue;
			if (last && last->dev == rd->dev && last->off + last->len == s) {
				last->len += CZ_SECTOR;
				continue;
			}
			if (pl->nrg[k] == cap[k]) {
				cap[k] = cap[k] ? 2 * cap[k] : 64;
				pl->rg[k] = cz_xrealloc(pl->rg[k], cap[k] * sizeof(*pl->rg[k]));
			}
			pl->rg[k][pl->nrg[k]++] = (struct cz_region){ rd->dev, s, CZ_SECTOR };
		}
	}
	for (unsigned k = 0; k < R_KINDS; k++) {
		size_t n = 0;

		/* The same block read twice (a label by zfs_set_add and again): once. */
		if (pl->nrg[k]) /* a kind nothing was read of has no array: qsort(NULL) is undefined */
			qsort(pl->rg[k], pl->nrg[k], sizeof(*pl->rg[k]), cz_region_cmp);
		for (size_t i = 0; i < pl->nrg[k]; i++)
			if (!n || pl->rg[k][i].dev != pl->rg[k][n - 1].dev || pl->rg[k][i].off != pl->rg[k][n - 1].off)
				pl->rg[k][n++] = pl->rg[k][i];
		pl->nrg[k] = n;
	}
}

static FILE *cz_devnull;
static const struct zwalk_limits cz_lim = { 64, 64, 20000, 64ull << 20, UINT64_MAX };

/* Assemble the (mutated) pool; its one pool or NULL. */
static struct zfs_set *cz_assemble(struct cz_pool *pl, struct cz_dev *dev, struct zfs_dev *zd,
				   const struct cz_patch *patches, size_t npatches, char *why, size_t whylen)
{
	struct zfs_set *s;
	int r;

	if (zfs_set_new(&s))
		return NULL;
	for (unsigned i = 0; i < pl->ndev; i++) {
		uint64_t guid;

		dev[i] = (struct cz_dev){ pl, i, patches, npatches };
		zd[i] = (struct zfs_dev){ cz_pread, &dev[i], pl->size[i], pl->path[i] };
		r = zfs_set_add(s, &zd[i], &guid);
		if (r != 0 && r != -EINVAL && r != -EIO && r != -ENOMEM)
			snprintf(why, whylen, "zfs_set_add of %s returned %s", pl->path[i], strerror(-r));
	}
	r = zfs_set_assemble(s);
	if (r != 0 && r != -ENOMEM)
		snprintf(why, whylen, "zfs_set_assemble returned %s", strerror(-r));
	/* --list of whatever was found: its output is not checked, only that it does not crash. */
	if (!cz_devnull && !(cz_devnull = fopen("/dev/null", "w"))) {
		perror("/dev/null");
		exit(1);
	}
	zfs_set_list(s, cz_devnull);
	return s;
}

static int cz_pool_load(struct cz_pool *pl, char *spec)
{
	struct cz_dev dev[ZIMG_MAX_DEVS];
	struct zfs_dev zd[ZIMG_MAX_DEVS];
	struct cz_oracle o = { pl, true, "" };
	struct zwalk_hooks h = { &o, cz_on_entry, cz_on_bytes, cz_on_link };
	struct zwalk_result res;
	struct zfs_pool_info info;
	struct zfs_set *s;
	char why[256] = "";

	memset(pl, 0, sizeof(*pl));
	pl->spec = cz_xstrdup(spec);
	for (char *tok = strtok(spec, ","); tok; tok = strtok(NULL, ",")) {
		struct stat st;
		int fd = open(tok, O_RDONLY | O_CLOEXEC);
		void *p;

		if (pl->ndev == ZIMG_MAX_DEVS) {
			fprintf(stderr, "corrupt_zfs: %s: at most %d members\n", pl->spec, ZIMG_MAX_DEVS);
			return -1;
		}
		if (fd < 0 || fstat(fd, &st) < 0 ||
		    (p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
			perror(tok);
			return -1;
		}
		close(fd);
		pl->path[pl->ndev] = tok;
		pl->base[pl->ndev] = p;
		pl->size[pl->ndev] = (uint64_t)st.st_size;
		pl->ub_shift[pl->ndev] = zimg_ub_shift(pl->base[pl->ndev] + ZFS_LABEL_UB_OFF, ZFS_LABEL_UB_OFF);
		pl->ndev++;
	}
	cz_nreads = 0;
	cz_tracing = true;
	s = cz_assemble(pl, dev, zd, NULL, 0, why, sizeof(why));
	if (!s || why[0] || zfs_set_npools(s) != 1) {
		fprintf(stderr, "corrupt_zfs: %s: the intact images do not make one pool %s\n", pl->spec, why);
		return -1;
	}
	zfs_pool_get_info(zfs_set_pool(s, 0), &info);
	pl->guid = info.guid;
	pl->txg = info.txg;
	if (zwalk_pool(zfs_set_pool(s, 0), &cz_lim, &h, &res) != 0 || res.errors || res.mismatches || o.why[0]) {
		fprintf(stderr, "corrupt_zfs: %s: the intact pool does not walk cleanly: %s (%u errors, %u mismatches)\n",
			pl->spec, res.violation, res.errors, res.mismatches);
		return -1;
	}
	cz_tracing = false;
	pl->entries = res.dirs + res.files + res.links + res.others;
	zfs_set_free(s);
	cz_regions(pl);
	return 0;
}

static void cz_pool_free(struct cz_pool *pl)
{
	for (size_t i = 0; i < pl->nref; i++) {
		free(pl->ref[i].key);
		free(pl->ref[i].bytes);
		free(pl->ref[i].target);
	}
	free(pl->ref);
	for (unsigned k = 0; k < R_KINDS; k++)
		free(pl->rg[k]);
	for (unsigned d = 0; d < pl->ndev; d++)
		munmap((void *)(uintptr_t)pl->base[d], (size_t)pl->size[d]);
	free((void *)(uintptr_t)pl->spec);
}

/* ---- mutations ---- */

static uint64_t cz_rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t cz_below(uint64_t *s, uint64_t n)
{
	return n ? cz_rnd(s) % n : 0;
}

static uint64_t cz_interesting(uint64_t *s, uint64_t old)
{
	static const uint64_t v[] = { 0, 1, 2, 3, 4, 7, 8, 9, 12, 16, 17, 63, 64, 255, 256, 511, 512, 4096,
				      0x20000, 0x1000000, 65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff,
				      0x100000000ULL, 0x7fffffffffffffffULL, UINT64_MAX };
	uint64_t pick = cz_below(s, sizeof(v) / sizeof(v[0]) + 3);

	if (pick < sizeof(v) / sizeof(v[0]))
		return v[pick];
	if (pick == sizeof(v) / sizeof(v[0]))
		return old + 1 + cz_below(s, 16);
	if (pick == sizeof(v) / sizeof(v[0]) + 1)
		return old - 1 - cz_below(s, 16);
	return cz_rnd(s);
}

/* The bytes [off, off + len) of member dev as the patches so far make them. */
static void cz_view(const struct cz_pool *pl, const struct cz_patch *pa, size_t npa, unsigned dev,
		    uint64_t off, uint8_t *buf, size_t len)
{
	struct cz_dev d = { pl, dev, pa, npa };

	cz_pread(&d, buf, len, off);
}

static void cz_patch_add(struct cz_patch **pa, size_t *npa, unsigned dev, uint64_t off, uint8_t *p, uint64_t len)
{
	*pa = cz_xrealloc(*pa, (*npa + 1) * sizeof(**pa));
	(*pa)[(*npa)++] = (struct cz_patch){ dev, off, len, p };
}

/* Forged runs: what a forger would do after changing a label or an uberblock: checksum it again. */
static void cz_forge_eck(const struct cz_pool *pl, struct cz_patch **pa, size_t *npa, unsigned dev, uint64_t off,
			 enum region_kind k)
{
	for (unsigned l = 0; l < 4; l++) {
		uint64_t lo = zimg_label_off(pl->size[dev], l), at, len;
		uint8_t *b;

		if (k == R_LABEL && off >= lo + ZFS_LABEL_NVL_OFF && off < lo + ZFS_LABEL_NVL_OFF + ZFS_LABEL_NVL_SIZE) {
			at = lo + ZFS_LABEL_NVL_OFF;
			len = ZFS_LABEL_NVL_SIZE;
		} else if (k == R_UBER && off >= lo + ZFS_LABEL_UB_OFF && off < lo + ZFS_LABEL_SIZE) {
			len = 1ull << pl->ub_shift[dev];
			at = lo + ZFS_LABEL_UB_OFF + (off - lo - ZFS_LABEL_UB_OFF) / len * len;
		} else {
			continue;
		}
		if (!(b = malloc(len)))
			exit(1);
		cz_view(pl, *pa, *npa, dev, at, b, len);
		zimg_eck_set(b, len, at);
		cz_patch_add(pa, npa, dev, at, b, len);
	}
}

static void cz_mutate_once(struct cz_pool *pl, uint64_t *s, bool forged, struct cz_patch **pa, size_t *npa,
			   struct cz_tally *t)
{
	enum region_kind k;
	const struct cz_region *r;
	uint64_t off, width, old = 0, n = 64;
	uint8_t *b;

	do
		k = (enum region_kind)cz_below(s, R_KINDS);
	while (!pl->nrg[k]);
	t->hits[k]++;
	r = &pl->rg[k][cz_below(s, pl->nrg[k])];
	off = r->off + cz_below(s, r->len);
	if (off + n > pl->size[r->dev])
		n = pl->size[r->dev] - off;
	if (!(b = malloc(n)))
		exit(1);
	cz_view(pl, *pa, *npa, r->dev, off, b, (size_t)n);
	switch (cz_below(s, 6)) {
	case 0:
		b[0] = (uint8_t)cz_rnd(s);
		break;
	case 1:
		b[0] ^= (uint8_t)(1u << cz_below(s, 8));
		break;
	case 2: /* a 2-, 4- or 8-byte field, aligned, in either byte order */
	case 3: {
		uint64_t aligned;

		width = 2u << cz_below(s, 3);
		aligned = off & ~(width - 1);
		free(b);
		n = width;
		if (aligned + n > pl->size[r->dev] || !(b = malloc(n)))
			return;
		off = aligned;
		cz_view(pl, *pa, *npa, r->dev, off, b, (size_t)n);
		memcpy(&old, b, width);
		old = cz_interesting(s, old);
		if (cz_below(s, 2))
			old = __builtin_bswap64(old) >> (64 - 8 * width);
		memcpy(b, &old, width);
		break;
	}
	case 4: { /* bytes from another region of the same kind: plausible but wrong */
		const struct cz_region *from = &pl->rg[k][cz_below(s, pl->nrg[k])];
		uint64_t m = 4 + cz_below(s, 60), src = from->off + cz_below(s, from->len);

		if (m > n)
			m = n;
		if (m > pl->size[from->dev] - src)
			m = pl->size[from->dev] - src;
		memcpy(b, pl->base[from->dev] + src, m);
		n = m;
		break;
	}
	default:
		n = 1 + cz_below(s, n);
		memset(b, 0, n);
		break;
	}
	cz_patch_add(pa, npa, r->dev, off, b, n);
	if (forged)
		cz_forge_eck(pl, pa, npa, r->dev, off, k);
}

/* ---- one mutated pool ---- */

static int cz_check(struct cz_pool *pl, bool forged, const struct cz_patch *pa, size_t npa, struct cz_tally *t,
		    char *why, size_t whylen)
{
	struct cz_dev dev[ZIMG_MAX_DEVS];
	struct zfs_dev zd[ZIMG_MAX_DEVS];
	struct zfs_set *s;
	int m = forged, ret = 0;

	why[0] = '\0';
	zimg_forged = forged;
	s = cz_assemble(pl, dev, zd, pa, npa, why, whylen);
	if (!s) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (why[0])
		ret = -1;
	for (size_t i = 0; i < zfs_set_npools(s) && ret == 0; i++) {
		struct zfs_pool *p = zfs_set_pool(s, i);
		struct cz_oracle o = { pl, false, "" };
		struct zwalk_hooks h = { &o, cz_on_entry, cz_on_bytes, cz_on_link };
		struct zwalk_result a, b;
		struct zfs_pool_info info;
		bool oracle;

		zfs_pool_get_info(p, &info);
		/* A verified pool at the intact txg must show nothing the intact pool does not. */
		oracle = !forged && info.guid == pl->guid && info.txg == pl->txg;
		t->assembled[m]++;
		t->oracle[m] += oracle;
		t->older_txg[m] += !forged && info.txg != pl->txg;
		if (zwalk_pool(p, &cz_lim, oracle ? &h : NULL, &a) || zwalk_pool(p, &cz_lim, NULL, &b)) {
			snprintf(why, whylen, "%s", a.violation[0] ? a.violation : b.violation);
			ret = -1;
		} else if (a.digest != b.digest || a.errors != b.errors || a.bytes != b.bytes) {
			snprintf(why, whylen, "two walks differ (%u/%u errors, %" PRIu64 "/%" PRIu64 " bytes)",
				 a.errors, b.errors, a.bytes, b.bytes);
			ret = -1;
		} else if (o.why[0]) {
			snprintf(why, whylen, "a wrong answer with every checksum verified: %s", o.why);
			ret = -1;
		} else {
			unsigned seen = a.dirs + a.files + a.links + a.others;

			t->walked[m] += a.datasets > 0;
			t->reached[m] += 2 * seen >= pl->entries;
			t->full[m] += seen >= pl->entries;
			t->errors[m] += a.errors;
			t->bytes[m] += a.bytes;
		}
	}
	zfs_set_free(s);
	return ret;
}

static volatile sig_atomic_t cz_index = -1;

static void cz_on_alarm(int sig)
{
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "corrupt_zfs: mutation %d still runs after %d s: a hang\n",
			 (int)cz_index, CZ_TIMEOUT);

	(void)sig;
	if (n > 0)
		(void)!write(STDOUT_FILENO, msg, (size_t)n);
	_exit(1);
}

/* Sanitizer reports must still reach the log while the reader's own lines are silenced. */
extern void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

static void cz_quiet_stderr(void)
{
	int keep = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3), null = open("/dev/null", O_WRONLY);

	if (keep < 0 || null < 0)
		return;
	if (__sanitizer_set_report_fd)
		__sanitizer_set_report_fd((void *)(intptr_t)keep);
	dup2(null, STDERR_FILENO);
	close(null);
}

static int cz_write(const char *dir, int i, const struct cz_pool *pl, const struct cz_patch *pa, size_t npa)
{
	for (unsigned d = 0; d < pl->ndev; d++) {
		char path[4096];
		const char *name = strrchr(pl->path[d], '/');
		int fd;

		snprintf(path, sizeof(path), "%s/mut%04d-%s", dir, i, name ? name + 1 : pl->path[d]);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, pl->base[d], pl->size[d]) != (ssize_t)pl->size[d]) {
			perror(path);
			return -1;
		}
		for (size_t k = 0; k < npa; k++)
			if (pa[k].dev == d && pwrite(fd, pa[k].p, pa[k].len, (off_t)pa[k].off) != (ssize_t)pa[k].len) {
				perror(path);
				return -1;
			}
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *outdir = NULL;
	struct cz_tally t = { 0 };
	struct cz_pool *pools;
	uint64_t seed, s;
	int count, npools, a = 1, failed = 0, min_walked[2] = { 0, 0 }, min_reached[2] = { 0, 0 };
	bool too_few = false;
	char why[512];

	log_init("corrupt_zfs", 0);
	for (; a + 1 < argc && strncmp(argv[a], "--", 2) == 0; a += 2) {
		if (strcmp(argv[a], "--write") == 0)
			outdir = argv[a + 1];
		else if (strcmp(argv[a], "--min-walked") == 0 &&
			 sscanf(argv[a + 1], "%d,%d", &min_walked[0], &min_walked[1]) == 2)
			continue;
		else if (strcmp(argv[a], "--min-reached") == 0 &&
			 sscanf(argv[a + 1], "%d,%d", &min_reached[0], &min_reached[1]) == 2)
			continue;
		else
			a = argc;
	}
	if (argc - a < 3) {
		fprintf(stderr, "usage: corrupt_zfs [--write DIR] [--min-walked VERIFIED,FORGED]"
			" [--min-reached VERIFIED,FORGED] SEED COUNT IMAGE[,IMAGE...]...\n"
			"  (floors in percent of each kind of round: pools walked, pools whose walk reached"
			" half the intact entries)\n");
		return 64;
	}
	seed = strtoull(argv[a], NULL, 0);
	count = atoi(argv[a + 1]);
	npools = argc - a - 2;
	if (!(pools = calloc((size_t)npools, sizeof(*pools))))
		return 1;
	for (int i = 0; i < npools; i++) {
		if (cz_pool_load(&pools[i], argv[a + 2 + i]))
			return 1;
		printf("%s: txg %" PRIu64 ", %u entries;", pools[i].spec, pools[i].txg, pools[i].entries);
		for (int k = 0; k < R_KINDS; k++) {
			uint64_t bytes = 0;

			for (size_t j = 0; j < pools[i].nrg[k]; j++)
				bytes += pools[i].rg[k][j].len;
			printf(" %s %" PRIu64 " KiB%s", region_names[k], bytes >> 10, k + 1 < R_KINDS ? "," : "\n");
		}
	}
	fflush(stdout);
	if (!outdir)
		cz_quiet_stderr();
	signal(SIGALRM, cz_on_alarm);
	s = seed;
	for (int i = 0; i < count; i++) {
		struct cz_pool *pl = &pools[i % npools];
		bool forged = (i / npools) % 2;
		int nmut = 1 + (int)cz_below(&s, 8);
		struct cz_patch *pa = NULL;
		size_t npa = 0;

		for (int m = 0; m < nmut; m++)
			cz_mutate_once(pl, &s, forged, &pa, &npa, &t);
		cz_index = i;
		alarm(CZ_TIMEOUT);
		if (outdir && cz_write(outdir, i, pl, pa, npa))
			return 1;
		t.images[forged]++;
		if (cz_check(pl, forged, pa, npa, &t, why, sizeof(why))) {
			printf("FAIL: mutation %d (seed %" PRIu64 ", %s, of %s): %s\n", i, seed, mode_names[forged],
			       pl->spec, why);
			failed++;
		}
		alarm(0);
		for (size_t k = 0; k < npa; k++)
			free(pa[k].p);
		free(pa);
	}
	printf("mutations by target:");
	for (int k = 0; k < R_KINDS; k++)
		printf(" %s %u%s", region_names[k], t.hits[k], k + 1 < R_KINDS ? "," : "\n");
	for (int m = 0; m < 2; m++) {
		unsigned n = t.images[m];

		printf("%s: %u mutated pools (seed %" PRIu64 "): %u assembled, %u walked (%u%%), %u reached half"
		       " their entries or more (%u%%), %u all of them; %u compared with the intact pool, %u on an older txg;"
		       " %" PRIu64 " errors returned, %" PRIu64 " bytes read\n", mode_names[m], n, seed,
		       t.assembled[m], t.walked[m], n ? 100 * t.walked[m] / n : 0, t.reached[m],
		       n ? 100 * t.reached[m] / n : 0, t.full[m], t.oracle[m], t.older_txg[m], t.errors[m], t.bytes[m]);
		if (min_walked[m] || min_reached[m])
			printf("%s: at least %d%% walked and %d%% reaching half their entries required\n",
			       mode_names[m], min_walked[m], min_reached[m]);
		if (n && ((uint64_t)t.walked[m] * 100 < (uint64_t)min_walked[m] * n ||
			  (uint64_t)t.reached[m] * 100 < (uint64_t)min_reached[m] * n)) {
			printf("FAIL: %s: under the floors (%d%% walked, %d%% reaching half the entries)\n",
			       mode_names[m], min_walked[m], min_reached[m]);
			too_few = true;
		}
	}
	printf("%d violations\n", failed);
	for (int i = 0; i < npools; i++)
		cz_pool_free(&pools[i]);
	free(pools);
	free(cz_reads);
	return failed || too_few ? 1 : 0;
}
