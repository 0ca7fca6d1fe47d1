/* zfs_label.c: vdev labels, pools assembled from their members by GUID, the uberblock ZFS would choose, features_for_read. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "zfs_int.h"

#define LABEL_UB_TRIES 16   /* older uberblocks tried when the newest does not read (a torn last write) */
#define POOL_STATE_DESTROYED 2

/* One member device: what its newest valid label says. */
struct zfs_member {
	const struct zfs_dev *dev;
	uint64_t pool_guid, guid, txg, top_id;
	char pool[256];
	uint8_t *nvbuf; /* the label's nvlist region, kept for the vdev tree */
	struct zfs_nvl config;
};

/* A pool found on the members but not assembled, for --list. */
struct zfs_refused {
	char name[256];
	uint64_t guid;
	char why[256];
};

struct zfs_set {
	struct zfs_member *m;
	size_t nm;
	struct zfs_pool **pools;
	size_t npools;
	struct zfs_refused *refused;
	size_t nrefused;
};

/* Features whose on-disk changes this reader follows (or, for checksums, reports as unverified). */
static const char *const label_features[] = {
	"com.delphix:hole_birth", "com.delphix:extensible_dataset", "com.delphix:embedded_data",
	"org.open-zfs:large_blocks", "org.illumos:lz4_compress", "org.illumos:sha512", "org.illumos:skein",
	"org.illumos:edonr", "org.openzfs:blake3", "org.zfsonlinux:large_dnode", "com.datto:bookmark_v2",
	"com.datto:encryption", "com.delphix:head_errlog", "com.klarasystems:vdev_zaps_v2",
	"org.freebsd:zstd_compress", "com.delphix:multi_vdev_crash_dump", "com.datto:bookmark_written",
	"com.delphix:bookmarks", "com.delphix:async_destroy", "com.delphix:empty_bpobj",
	"com.delphix:enabled_txg", "com.delphix:spacemap_histogram", "com.delphix:spacemap_v2",
	"com.delphix:zpool_checkpoint", "com.delphix:log_spacemap", "com.joyent:filesystem_limits",
	"org.zfsonlinux:userobj_accounting", "org.zfsonlinux:project_quota", "com.delphix:obsolete_counts",
	"org.openzfs:zilsaxattr", "com.delphix:redaction_bookmarks", "com.delphix:redacted_datasets",
	"com.delphix:livelist", "org.openzfs:device_rebuild", "com.datto:resilver_defer",
	"org.illumos:allocation_classes", "org.openzfs:draid", "com.fudosecurity:block_cloning",
	"org.openzfs:avz_v2", "com.klarasystems:raidz_expansion_placeholder",
};

static bool label_feature_known(const char *name)
{
	for (size_t i = 0; i < sizeof(label_features) / sizeof(label_features[0]); i++)
		if (strcmp(label_features[i], name) == 0)
			return true;
	return false;
}

/* Label l's byte offset on a device of psize (aligned) bytes: two at the front, two at the end. */
static uint64_t label_offset(uint64_t psize, unsigned l)
{
	return l * (uint64_t)ZFS_LABEL_SIZE + (l < 2 ? 0 : psize - 4 * (uint64_t)ZFS_LABEL_SIZE);
}

static uint64_t label_psize(const struct zfs_dev *dev)
{
	return dev->size & ~((uint64_t)ZFS_LABEL_SIZE - 1);
}

int zfs_set_new(struct zfs_set **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

/* Read and check label l's nvlist into buf (ZFS_LABEL_NVL_SIZE bytes). */
static int label_read_nvl(const struct zfs_dev *dev, unsigned l, uint8_t *buf, struct zfs_nvl *nvl)
{
	uint64_t off = label_offset(label_psize(dev), l) + ZFS_LABEL_NVL_OFF;
	struct zfs_cksum v = { { off, 0, 0, 0 } };
	int r = dev->pread(dev->ctx, buf, ZFS_LABEL_NVL_SIZE, off);

	if (r < 0)
		return r;
	if (zfs_eck_verify(buf, ZFS_LABEL_NVL_SIZE, &v) < 0)
		return -EINVAL;
	return zfs_nvl_open(span_make(buf, ZFS_LABEL_NVL_SIZE - ZFS_ECK_SIZE), nvl);
}

int zfs_set_add(struct zfs_set *s, const struct zfs_dev *dev, uint64_t *pool_guid)
{
	struct zfs_member best = { 0 }, *v;
	uint8_t *buf = NULL;
	bool any = false;

	if (dev->size < 4ull * ZFS_LABEL_SIZE + ZFS_LABEL_START)
		return -EINVAL;
	for (unsigned l = 0; l < 4; l++) {
		struct zfs_member m = { .dev = dev };
		uint64_t state = 0;

		if (!buf && !(buf = malloc(ZFS_LABEL_NVL_SIZE)))
			break;
		if (label_read_nvl(dev, l, buf, &m.config) < 0)
			continue;
		any = true;
		/* Spares and cache devices carry no txg: they hold no pool data. */
		if (zfs_nvl_u64(&m.config, "pool_guid", &m.pool_guid) < 0 ||
		    zfs_nvl_u64(&m.config, "guid", &m.guid) < 0 || zfs_nvl_u64(&m.config, "txg", &m.txg) < 0 ||
		    m.txg == 0 || zfs_nvl_str(&m.config, "name", m.pool, sizeof(m.pool)) < 0)
			continue;
		if (zfs_nvl_u64(&m.config, "state", &state) == 0 && state == POOL_STATE_DESTROYED)
			continue;
		if (!best.nvbuf || m.txg > best.txg) {
			free(best.nvbuf);
			m.nvbuf = buf;
			best = m;
			buf = NULL;
		}
	}
	free(buf);
	if (!best.nvbuf)
		return any ? -EIO : -EINVAL;
	/* The nvlist window points into nvbuf, which stays where it is as the array grows. */
	v = realloc(s->m, (s->nm + 1) * sizeof(*v));
	if (!v) {
		free(best.nvbuf);
		return -ENOMEM;
	}
	s->m = v;
	s->m[s->nm++] = best;
	*pool_guid = best.pool_guid;
	return 0;
}

/* ---- the vdev tree ---- */

static struct zfs_member *set_member(struct zfs_set *s, uint64_t pool_guid, uint64_t guid)
{
	for (size_t i = 0; i < s->nm; i++)
		if (s->m[i].pool_guid == pool_guid && s->m[i].guid == guid)
			return &s->m[i];
	return NULL;
}

static void vdev_free(struct zfs_vdev *vd)
{
	for (unsigned i = 0; i < vd->nchildren; i++)
		vdev_free(&vd->child[i]);
	free(vd->child);
	vd->child = NULL;
	vd->nchildren = 0;
}

/* Build vd from a vdev_tree nvlist, attaching the members present; depth 0 is the top level. */
static int vdev_parse(struct zfs_set *s, uint64_t pool_guid, const struct zfs_nvl *nv, struct zfs_vdev *vd,
		      unsigned depth, char *why, size_t whylen)
{
	char type[32];
	size_t n = 0;
	struct zfs_nvl c;
	uint64_t v;

	memset(vd, 0, sizeof(*vd));
	if (zfs_nvl_str(nv, "type", type, sizeof(type)) < 0 || zfs_nvl_u64(nv, "guid", &vd->guid) < 0) {
		snprintf(why, whylen, "a vdev of its configuration is unreadable");
		return -EIO;
	}
	zfs_nvl_u64(nv, "id", &vd->id);
	if (zfs_nvl_str(nv, "path", vd->path, sizeof(vd->path)) < 0)
		snprintf(vd->path, sizeof(vd->path), "guid %" PRIu64, vd->guid);
	if (zfs_nvl_u64(nv, "ashift", &v) == 0)
		vd->ashift = v >= 9 && v <= 16 ? (unsigned)v : 0;
	zfs_nvl_u64(nv, "asize", &vd->asize);
	if (strcmp(type, "disk") == 0 || strcmp(type, "file") == 0) {
		struct zfs_member *m = set_member(s, pool_guid, vd->guid);

		vd->type = ZV_DISK;
		vd->dev = m ? m->dev : NULL;
		return 0;
	}
	if (strcmp(type, "hole") == 0 || strcmp(type, "missing") == 0) {
		vd->type = ZV_HOLE;
		return 0;
	}
	if (depth > 0 || (strcmp(type, "mirror") != 0 && strcmp(type, "raidz") != 0)) {
		snprintf(why, whylen, "its %s vdev (%s) is not supported", type, vd->path);
		return -ENOTSUP;
	}
	vd->type = strcmp(type, "mirror") == 0 ? ZV_MIRROR : ZV_RAIDZ;
	if (vd->type == ZV_RAIDZ) {
		if (zfs_nvl_u64(nv, "nparity", &v) < 0 || v < 1 || v > 3) {
			snprintf(why, whylen, "a raidz vdev has no valid parity count");
			return -EIO;
		}
		vd->nparity = (unsigned)v;
	}
	if (zfs_nvl_list_at(nv, "children", 0, &c, &n) < 0 || n == 0 || n > ZFS_MAX_VDEV_CHILDREN) {
		snprintf(why, whylen, "a %s vdev has no children", type);
		return -EIO;
	}
	if (!(vd->child = calloc(n, sizeof(*vd->child))))
		return -ENOMEM;
	vd->nchildren = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		int r = zfs_nvl_list_at(nv, "children", i, &c, &n);

		if (r == 0)
			r = vdev_parse(s, pool_guid, &c, &vd->child[i], depth + 1, why, whylen);
		if (r < 0)
			return r;
		if (vd->child[i].type != ZV_DISK) {
			snprintf(why, whylen, "a %s vdev holds a vdev that is not a disk", type);
			return -ENOTSUP;
		}
		vd->child[i].ashift = vd->ashift;
	}
	return 0;
}

/* Every member a top-level vdev needs for reading is present; else why names the first missing one. */
static int vdev_complete(const struct zfs_vdev *vd, char *why, size_t whylen)
{
	unsigned present = 0;

	if (vd->type == ZV_DISK) {
		if (vd->dev)
			return 0;
		snprintf(why, whylen, "its disk %s (guid %" PRIu64 ") is missing", vd->path, vd->guid);
		return -ENXIO;
	}
	for (unsigned i = 0; i < vd->nchildren; i++)
		present += vd->child[i].dev != NULL;
	if (vd->type == ZV_MIRROR && present == 0) {
		snprintf(why, whylen, "no side of its mirror is present (%s, guid %" PRIu64 ", is missing)",
			 vd->child[0].path, vd->child[0].guid);
		return -ENXIO;
	}
	if (vd->type == ZV_RAIDZ && present < vd->nchildren) {
		for (unsigned i = 0; i < vd->nchildren; i++) {
			if (!vd->child[i].dev) {
				snprintf(why, whylen, "raidz%u member %s (guid %" PRIu64 ") is missing, %u of %u present",
					 vd->nparity, vd->child[i].path, vd->child[i].guid, present, vd->nchildren);
				break;
			}
		}
		return -ENXIO;
	}
	return 0;
}

/* ---- uberblocks ---- */

struct label_ub {
	uint64_t txg, timestamp;
	struct zfs_bp rootbp;
};

static int ub_cmp(const void *a, const void *b)
{
	const struct label_ub *x = a, *y = b;

	if (x->txg != y->txg)
		return x->txg > y->txg ? -1 : 1;
	return x->timestamp > y->timestamp ? -1 : x->timestamp < y->timestamp;
}

/* Every valid uberblock of dev's four labels, appended to *v. */
static int ub_collect(const struct zfs_dev *dev, unsigned ashift, struct label_ub **v, size_t *n)
{
	unsigned shift = ashift < 10 ? 10 : ashift > 13 ? 13 : ashift;
	uint64_t psize = label_psize(dev);
	uint8_t *ring = malloc(ZFS_LABEL_UB_SIZE);

	if (!ring)
		return -ENOMEM;
	for (unsigned l = 0; l < 4; l++) {
		uint64_t base = label_offset(psize, l) + ZFS_LABEL_UB_OFF;

		if (dev->pread(dev->ctx, ring, ZFS_LABEL_UB_SIZE, base) < 0)
			continue;
		for (uint64_t at = 0; at < ZFS_LABEL_UB_SIZE; at += 1u << shift) {
			struct span s = span_make(ring + at, 1u << shift);
			struct zfs_cksum ver = { { base + at, 0, 0, 0 } };
			struct label_ub ub, *nv;
			uint64_t magic;

			if (span_le64(s, 0, &magic) < 0 || magic != ZFS_UB_MAGIC ||
			    span_le64(s, 16, &ub.txg) < 0 || span_le64(s, 32, &ub.timestamp) < 0 ||
			    span_copy(s, 40, ub.rootbp.raw, ZFS_BP_SIZE) < 0 || ub.txg == 0 ||
			    zfs_eck_verify(s.p, s.len, &ver) < 0)
				continue;
			if (!(nv = realloc(*v, (*n + 1) * sizeof(**v)))) {
				free(ring);
				return -ENOMEM;
			}
			*v = nv;
			nv[(*n)++] = ub;
		}
	}
	free(ring);
	return 0;
}

/* ---- features ---- */

struct feat_check {
	const char *pool;
	char *why;
	size_t whylen;
};

static int feat_check_name(void *ctx, const char *name)
{
	struct feat_check *fc = ctx;

	if (label_feature_known(name))
		return 0;
	snprintf(fc->why, fc->whylen, "it uses feature %s, which this reader does not know", name);
	return -ENOTSUP;
}

/* The MOS's features_for_read: every active one (refcount > 0) must be known. */
static int feat_check_zap(void *ctx, const struct zfs_zap_ent *e)
{
	return e->value ? feat_check_name(ctx, e->name) : 0;
}

/* ---- assembly ---- */

static void pool_free(struct zfs_pool *p)
{
	if (!p)
		return;
	zfs_dsl_free(p);
	if (p->mos)
		zfs_objset_close(p->mos);
	for (unsigned i = 0; i < p->ntop; i++)
		vdev_free(&p->top[i]);
	free(p->top);
	zfs_cache_free(p);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* The MOS of the newest uberblock that reads, then the features and the datasets. */
static int pool_open_mos(struct zfs_pool *p, struct label_ub *ubs, size_t nub, char *why, size_t whylen)
{
	struct feat_check fc = { p->name, why, whylen };
	struct zfs_dnode dir;
	int r = -EIO;

	if (nub) /* qsort of NULL, even of nothing, is undefined */
		qsort(ubs, nub, sizeof(*ubs), ub_cmp);
	for (size_t i = 0; i < nub && i < LABEL_UB_TRIES; i++) {
		if (i && ubs[i].txg == ubs[i - 1].txg)
			continue;
		r = zfs_objset_open(p, &ubs[i].rootbp, &p->mos);
		if (r == 0) {
			if (i)
				log_warnx("pool %s: the newest uberblock (txg %" PRIu64 ") does not read; using txg %" PRIu64,
					  p->name, ubs[0].txg, ubs[i].txg);
			p->txg = ubs[i].txg;
			p->rootbp = ubs[i].rootbp;
			break;
		}
	}
	if (r < 0) {
		snprintf(why, whylen, nub ? "no uberblock leads to a readable pool" : "it has no valid uberblock");
		return r;
	}
	if ((r = zfs_dnode_get(p->mos, 1, &dir)) < 0) {
		snprintf(why, whylen, "its object directory is unreadable");
		return r;
	}
	{
		uint64_t ffr;

		if (zfs_zap_u64(p, &dir, "features_for_read", &ffr) == 0) {
			struct zfs_dnode fz;

			if ((r = zfs_dnode_get(p->mos, ffr, &fz)) < 0 ||
			    (r = zfs_zap_walk(p, &fz, 0, feat_check_zap, &fc)) != 0) {
				if (r != -ENOTSUP)
					snprintf(why, whylen, "its features_for_read is unreadable");
				return r;
			}
		}
	}
	if ((r = zfs_dsl_load(p)) < 0) {
		snprintf(why, whylen, "its datasets are unreadable (%s)", strerror(-r));
		return r;
	}
	return 0;
}

/* Assemble the pool of pool_guid from the members of the set. */
static int pool_assemble(struct zfs_set *s, uint64_t pool_guid, struct zfs_pool **out, char *why, size_t whylen)
{
	struct zfs_member *best = NULL;
	struct feat_check fc = { NULL, why, whylen };
	struct label_ub *ubs = NULL;
	struct zfs_nvl ffr;
	struct zfs_pool *p;
	size_t nub = 0;
	uint64_t nchildren = 0;
	int r;

	for (size_t i = 0; i < s->nm; i++)
		if (s->m[i].pool_guid == pool_guid && (!best || s->m[i].txg > best->txg))
			best = &s->m[i];
	if (!(p = calloc(1, sizeof(*p))))
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	p->guid = pool_guid;
	snprintf(p->name, sizeof(p->name), "%s", best->pool);
	fc.pool = p->name;
	if (zfs_nvl_list(&best->config, "features_for_read", &ffr) == 0 &&
	    (r = zfs_nvl_names(&ffr, feat_check_name, &fc)) != 0)
		goto fail;
	if (zfs_nvl_u64(&best->config, "vdev_children", &nchildren) < 0)
		nchildren = 1;
	if (nchildren == 0 || nchildren > 1024 || !(p->top = calloc(nchildren, sizeof(*p->top)))) {
		r = nchildren && nchildren <= 1024 ? -ENOMEM : -EIO;
		snprintf(why, whylen, "its vdev count is %" PRIu64, nchildren);
		goto fail;
	}
	p->ntop = (unsigned)nchildren;
	for (unsigned t = 0; t < p->ntop; t++) {
		struct zfs_member *tm = NULL;

		/* Each top-level vdev's tree comes from the newest label of one of its members. */
		for (size_t i = 0; i < s->nm; i++) {
			struct zfs_nvl tree;
			uint64_t id;

			if (s->m[i].pool_guid != pool_guid || zfs_nvl_list(&s->m[i].config, "vdev_tree", &tree) < 0 ||
			    zfs_nvl_u64(&tree, "id", &id) < 0 || id != t)
				continue;
			if (!tm || s->m[i].txg > tm->txg)
				tm = &s->m[i];
		}
		if (!tm) {
			r = -ENXIO;
			snprintf(why, whylen, "none of its disks belongs to top-level vdev %u", t);
			goto fail;
		}
		{
			struct zfs_nvl tree;

			zfs_nvl_list(&tm->config, "vdev_tree", &tree);
			if ((r = vdev_parse(s, pool_guid, &tree, &p->top[t], 0, why, whylen)) < 0 ||
			    (r = vdev_complete(&p->top[t], why, whylen)) < 0)
				goto fail;
		}
		if (p->top[t].ashift == 0) {
			r = -EIO;
			snprintf(why, whylen, "top-level vdev %u has no ashift", t);
			goto fail;
		}
		p->size += p->top[t].asize;
	}
	for (size_t i = 0; i < s->nm; i++) {
		struct zfs_nvl tree;
		uint64_t id = 0;

		if (s->m[i].pool_guid != pool_guid)
			continue;
		if (zfs_nvl_list(&s->m[i].config, "vdev_tree", &tree) == 0)
			zfs_nvl_u64(&tree, "id", &id);
		if (id < p->ntop && (r = ub_collect(s->m[i].dev, p->top[id].ashift, &ubs, &nub)) < 0)
			goto fail;
	}
	r = pool_open_mos(p, ubs, nub, why, whylen);
	free(ubs);
	ubs = NULL;
	if (r < 0)
		goto fail;
	*out = p;
	return 0;
fail:
	free(ubs);
	pool_free(p);
	return r;
}

int zfs_set_assemble(struct zfs_set *s)
{
	for (size_t i = 0; i < s->nm; i++) {
		uint64_t g = s->m[i].pool_guid;
		char why[256] = "";
		struct zfs_pool *p = NULL;
		void *v;
		int r;
		bool seen = false;

		for (size_t k = 0; k < i; k++)
			seen |= s->m[k].pool_guid == g;
		if (seen)
			continue;
		r = pool_assemble(s, g, &p, why, sizeof(why));
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			struct zfs_refused *f = realloc(s->refused, (s->nrefused + 1) * sizeof(*f));

			if (!why[0])
				snprintf(why, sizeof(why), "%s", strerror(-r));
			log_warnx("pool %s (guid %" PRIu64 ") not shown: %s", s->m[i].pool, g, why);
			if (!f)
				return -ENOMEM;
			s->refused = f;
			f += s->nrefused++;
			snprintf(f->name, sizeof(f->name), "%s", s->m[i].pool);
			f->guid = g;
			snprintf(f->why, sizeof(f->why), "%s", why);
			continue;
		}
		if (!(v = realloc(s->pools, (s->npools + 1) * sizeof(*s->pools)))) {
			pool_free(p);
			return -ENOMEM;
		}
		s->pools = v;
		s->pools[s->npools++] = p;
	}
	return 0;
}

size_t zfs_set_npools(const struct zfs_set *s)
{
	return s->npools;
}

struct zfs_pool *zfs_set_pool(const struct zfs_set *s, size_t i)
{
	return i < s->npools ? s->pools[i] : NULL;
}

struct zfs_pool *zfs_set_find(const struct zfs_set *s, uint64_t pool_guid)
{
	for (size_t i = 0; i < s->npools; i++)
		if (s->pools[i]->guid == pool_guid)
			return s->pools[i];
	return NULL;
}

void zfs_set_free(struct zfs_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->npools; i++)
		pool_free(s->pools[i]);
	for (size_t i = 0; i < s->nm; i++)
		free(s->m[i].nvbuf);
	free(s->pools);
	free(s->m);
	free(s->refused);
	free(s);
}

void zfs_pool_get_info(const struct zfs_pool *p, struct zfs_pool_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", p->name);
	info->guid = p->guid;
	info->txg = p->txg;
	info->size = p->size;
	info->used = p->used;
	info->bootfs = p->bootfs;
}

static const char *vdev_type_name(const struct zfs_vdev *vd)
{
	static const char *const names[] = { "disk", "mirror", "raidz", "hole" };

	return names[vd->type];
}

static void list_vdev(const struct zfs_vdev *vd, unsigned indent, FILE *out)
{
	if (vd->type == ZV_DISK) {
		fprintf(out, "%*s%s (guid %" PRIu64 "): %s%s\n", (int)indent, "", vd->path, vd->guid,
			vd->dev ? "present as " : "MISSING", vd->dev ? vd->dev->name : "");
		return;
	}
	if (vd->type == ZV_RAIDZ)
		fprintf(out, "%*sraidz%u-%" PRIu64 "\n", (int)indent, "", vd->nparity, vd->id);
	else
		fprintf(out, "%*s%s-%" PRIu64 "\n", (int)indent, "", vdev_type_name(vd), vd->id);
	for (unsigned i = 0; i < vd->nchildren; i++)
		list_vdev(&vd->child[i], indent + 2, out);
}

void zfs_set_list(const struct zfs_set *s, FILE *out)
{
	for (size_t i = 0; i < s->npools; i++) {
		const struct zfs_pool *p = s->pools[i];
		bool degraded = false;

		for (unsigned t = 0; t < p->ntop; t++)
			degraded |= p->top[t].type == ZV_MIRROR && zfs_vdev_copies(&p->top[t]) < p->top[t].nchildren;
		fprintf(out, "pool %s guid %" PRIu64 " txg %" PRIu64 ": %s\n", p->name, p->guid, p->txg,
			degraded ? "DEGRADED (a mirror side is missing)" : "ONLINE");
		for (unsigned t = 0; t < p->ntop; t++)
			list_vdev(&p->top[t], 2, out);
		for (size_t d = 0; d < p->nds; d++) {
			const struct zfs_dsinfo *ds = &p->ds[d];

			fprintf(out, "  dataset %s%s%s%s\n", ds->name, ds->obj == p->bootfs ? " (bootfs)" : "",
				ds->why == -EACCES ? " (encrypted: files not shown)" : "",
				ds->why == -ENOTSUP ? " (volume: not shown)" : "");
		}
		for (unsigned a = 0; a < ZCK_COUNT; a++)
			if (p->unverified[a])
				fprintf(out, "  %u block(s) read without verifying their %s checksum\n",
					p->unverified[a], zfs_cksum_name(a));
	}
	for (size_t i = 0; i < s->nrefused; i++)
		fprintf(out, "pool %s guid %" PRIu64 ": UNAVAILABLE: %s\n", s->refused[i].name, s->refused[i].guid,
			s->refused[i].why);
}
