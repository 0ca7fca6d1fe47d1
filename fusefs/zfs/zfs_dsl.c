/* zfs_dsl.c: a pool's datasets from the MOS: the dsl_dir tree by name, each head dataset and its snapshots, bootfs. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "zfs_int.h"

#define DSL_MAX_DATASETS 4096 /* file systems and snapshots shown per pool */
#define DSL_MAX_DEPTH 64      /* dsl_dir nesting: also what stops a cycle */
#define DSL_DIR_PHYS 112      /* bytes of dsl_dir_phys the reader uses */
#define DSL_DATASET_PHYS 256

/* The entries of one dataset ZAP (a dir's children, a dataset's snapshots), sorted by name. */
struct dsl_ent {
	char name[256];
	uint64_t obj;
};
struct dsl_list {
	struct dsl_ent *v;
	size_t n;
};

static int dsl_bonus(struct zfs_pool *p, uint64_t obj, unsigned type, size_t need, struct zfs_dnode *dn)
{
	int r = zfs_dnode_get(p->mos, obj, dn);

	if (r < 0)
		return r == -ENOENT ? -EIO : r;
	return dn->bonustype == type && dn->bonus.len >= need ? 0 : -EIO;
}

/* n little-endian words at offs[] of object obj's bonus (of the given type); the dnode lives on the heap (the walk recurses). */
static int dsl_words(struct zfs_pool *p, uint64_t obj, unsigned type, size_t need, const unsigned *offs,
		     uint64_t *vals, unsigned n)
{
	struct zfs_dnode *dn = malloc(sizeof(*dn));
	int r;

	if (!dn)
		return -ENOMEM;
	r = dsl_bonus(p, obj, type, need, dn);
	for (unsigned i = 0; r == 0 && i < n; i++)
		r = span_le64(dn->bonus, offs[i], &vals[i]) < 0 ? -EIO : 0;
	free(dn);
	return r;
}

int zfs_dsl_dataset_bp(struct zfs_pool *p, uint64_t dsobj, struct zfs_bp *bp)
{
	struct zfs_dnode *dn = malloc(sizeof(*dn));
	int r;

	if (!dn)
		return -ENOMEM;
	r = dsl_bonus(p, dsobj, ZOT_DSL_DATASET, DSL_DATASET_PHYS, dn);
	if (r == 0)
		r = span_copy(dn->bonus, 128, bp->raw, ZFS_BP_SIZE) < 0 ? -EIO : 0;
	free(dn);
	return r;
}

static int dsl_add(struct zfs_pool *p, const char *name, uint64_t obj, uint64_t parent, bool snap)
{
	struct zfs_dsinfo *v, *d;
	struct zfs_bp bp;
	int r;

	if (p->nds >= DSL_MAX_DATASETS) {
		log_warnx("pool %s: more than %u datasets; %s and later ones are not shown", p->name,
			  DSL_MAX_DATASETS, name);
		return -E2BIG;
	}
	for (size_t i = 0; i < p->nds; i++)
		if (p->ds[i].obj == obj)
			return -EIO; /* a dataset reached twice: the tree has a cycle */
	if (!(v = realloc(p->ds, (p->nds + 1) * sizeof(*v))))
		return -ENOMEM;
	p->ds = v;
	d = &v[p->nds];
	memset(d, 0, sizeof(*d));
	if (strlen(name) >= sizeof(d->name))
		return -EIO;
	snprintf(d->name, sizeof(d->name), "%s", name);
	p->nds++;
	d->obj = obj;
	d->parent = parent;
	d->snapshot = snap;
	if ((r = zfs_dsl_dataset_bp(p, obj, &bp)) < 0)
		return r;
	if (zfs_bp_encrypted(&bp)) {
		d->why = -EACCES;
	} else {
		struct zfs_objset *os;

		if (zfs_bp_is_hole(&bp))
			d->why = -ENOTSUP; /* never written: nothing to show */
		else if ((r = zfs_objset_open(p, &bp, &os)) < 0)
			d->why = r;
		else {
			if (os->type != ZOS_TYPE_ZFS)
				d->why = -ENOTSUP;
			zfs_objset_close(os);
		}
	}
	return 0;
}

static int dsl_collect(void *ctx, const struct zfs_zap_ent *e)
{
	struct dsl_list *l = ctx;
	struct dsl_ent *v;

	/* $MOS, $FREE, $ORIGIN: the pool's own bookkeeping, no file systems. */
	if (e->name[0] == '$' || e->intlen != 8 || e->numints != 1)
		return 0;
	if (l->n >= DSL_MAX_DATASETS)
		return -E2BIG;
	if (!(v = realloc(l->v, (l->n + 1) * sizeof(*v))))
		return -ENOMEM;
	l->v = v;
	snprintf(v[l->n].name, sizeof(v[l->n].name), "%s", e->name);
	v[l->n++].obj = e->value;
	return 0;
}

static int dsl_ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dsl_ent *)a)->name, ((const struct dsl_ent *)b)->name);
}

/* ZAP object zap's entries into l (empty for object 0), sorted; l->v is the caller's to free. */
static int dsl_list_read(struct zfs_pool *p, uint64_t zap, struct dsl_list *l)
{
	struct zfs_dnode *dn;
	int r;

	if (zap == 0)
		return 0;
	if (!(dn = malloc(sizeof(*dn))))
		return -ENOMEM;
	if ((r = zfs_dnode_get(p->mos, zap, dn)) == 0)
		r = zfs_zap_walk(p, dn, 0, dsl_collect, l);
	free(dn);
	if (r < 0)
		return r == -ENOENT ? -EIO : r;
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), dsl_ent_cmp);
	return 0;
}

typedef int dsl_each_fn(struct zfs_pool *p, const char *full, uint64_t obj, void *ctx);

/* fn for each entry of ZAP object zap in name order, its full name "NAME<sep>ENTRY". */
static int dsl_each(struct zfs_pool *p, uint64_t zap, const char *name, char sep, dsl_each_fn *fn, void *ctx)
{
	struct dsl_list l = { NULL, 0 };
	int r = dsl_list_read(p, zap, &l);

	for (size_t i = 0; i < l.n && r == 0; i++) {
		char *full;

		if (asprintf(&full, "%s%c%s", name, sep, l.v[i].name) < 0) {
			r = -ENOMEM;
			break;
		}
		r = fn(p, full, l.v[i].obj, ctx);
		free(full);
	}
	free(l.v);
	return r;
}

/* A snapshot of the head dataset *ctx. */
static int dsl_snapshot(struct zfs_pool *p, const char *full, uint64_t obj, void *ctx)
{
	return dsl_add(p, full, obj, *(const uint64_t *)ctx, true);
}

struct dsl_child {
	uint64_t parent; /* the head dataset of the dir above */
	unsigned depth;
	unsigned *visits;
};

static int dsl_dir_load(struct zfs_pool *p, uint64_t dir, const char *name, uint64_t parent, unsigned depth,
			unsigned *visits);

static int dsl_child(struct zfs_pool *p, const char *full, uint64_t obj, void *ctx)
{
	const struct dsl_child *c = ctx;

	return dsl_dir_load(p, obj, full, c->parent, c->depth, c->visits);
}

/*
 * dsl_dir dir named name: its head dataset, its snapshots, then its children
 * in name order.  *visits counts the dirs loaded: a damaged MOS whose child
 * maps name the same dirs several times (no cycle needed: two names for each
 * next dir, 60 deep) would otherwise take 2^60 visits.
 */
static int dsl_dir_load(struct zfs_pool *p, uint64_t dir, const char *name, uint64_t parent, unsigned depth,
			unsigned *visits)
{
	static const unsigned dir_offs[] = { 8, 32, 40 }; /* dd_head_dataset_obj, dd_child_dir_zapobj, dd_used_bytes */
	static const unsigned ds_offs[] = { 32 };         /* ds_snapnames_zapobj */
	uint64_t d[3], snaps = 0;
	struct dsl_child child;
	int r;

	if (depth > DSL_MAX_DEPTH)
		return -EIO;
	if (++*visits > DSL_MAX_DATASETS) {
		log_warnx("pool %s: more than %u dataset directories; %s and later ones are not shown", p->name,
			  DSL_MAX_DATASETS, name);
		return -E2BIG;
	}
	if ((r = dsl_words(p, dir, ZOT_DSL_DIR, DSL_DIR_PHYS, dir_offs, d, 3)) < 0)
		return r;
	if (depth == 0)
		p->used = d[2];
	if (d[0] && ((r = dsl_add(p, name, d[0], parent, false)) < 0 ||
		     (r = dsl_words(p, d[0], ZOT_DSL_DATASET, DSL_DATASET_PHYS, ds_offs, &snaps, 1)) < 0 ||
		     (r = dsl_each(p, snaps, name, '@', dsl_snapshot, &d[0])) < 0))
		return r;
	child = (struct dsl_child){ d[0], depth + 1, visits };
	return dsl_each(p, d[1], name, '/', dsl_child, &child);
}

int zfs_dsl_load(struct zfs_pool *p)
{
	struct zfs_dnode dir, props;
	uint64_t root, pp;
	unsigned visits = 0;
	int r;

	if ((r = zfs_dnode_get(p->mos, 1, &dir)) < 0 || (r = zfs_zap_u64(p, &dir, "root_dataset", &root)) < 0)
		return r == -ENOENT ? -EIO : r;
	/* bootfs is a pool property: the dataset object of the file system to boot. */
	if (zfs_zap_u64(p, &dir, "pool_props", &pp) == 0 && zfs_dnode_get(p->mos, pp, &props) == 0)
		zfs_zap_u64(p, &props, "bootfs", &p->bootfs);
	r = dsl_dir_load(p, root, p->name, 0, 0, &visits);
	if (r == -E2BIG)
		r = 0;
	return r;
}

void zfs_dsl_free(struct zfs_pool *p)
{
	free(p->ds);
	p->ds = NULL;
	p->nds = 0;
}

const struct zfs_dsinfo *zfs_pool_datasets(const struct zfs_pool *p, size_t *n)
{
	*n = p->nds;
	return p->ds;
}
