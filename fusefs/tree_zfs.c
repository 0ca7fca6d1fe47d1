/* tree_zfs.c: ZFS in the view's layout: pool members among the partitions, zfs/POOL/DATASET mounts, bootfs on member nodes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tree.h"

int tree_zfs_probe(struct tree *t, struct tree_part *tp)
{
	int r;

	if (!t->zset && (r = zfs_set_new(&t->zset)) < 0)
		return r;
	tp->zdev = (struct zfs_dev){ .pread = blkdev_pread, .ctx = &tp->win, .size = tp->win.size,
				     .name = tp->p.name };
	r = zfs_set_add(t->zset, &tp->zdev, &tp->zpool_guid);
	if (r == 0) {
		tp->zmember = true;
		return 0;
	}
	if (r == -ENOMEM)
		return r;
	if (r != -EINVAL)
		log_warnx("%s: %s: ZFS labels unreadable: %s", tp->win.dev->path, tp->p.name, strerror(-r));
	return 0;
}

/* The last component of a dataset name: "default" of "zroot/ROOT/default", "s1" of "p/ds@s1". */
static const char *zfs_leaf_name(const char *name)
{
	const char *at = strchr(name, '@'), *sl = strrchr(name, '/');

	return at ? at + 1 : sl ? sl + 1 : name;
}

static int zmount_new(struct tree *t, struct zfs_pool *pool, const struct zfs_dsinfo *ds, size_t *idx);

/* A mount of dataset ds[i] and, below it, mounts of its child datasets and its snapshots. */
static int zmount_tree(struct tree *t, struct zfs_pool *pool, size_t i, size_t *idx)
{
	size_t n, me;
	const struct zfs_dsinfo *ds = zfs_pool_datasets(pool, &n);
	int r = zmount_new(t, pool, &ds[i], &me);

	if (r < 0)
		return r;
	*idx = me;
	for (size_t k = 0; k < n && !ds[i].snapshot; k++) {
		struct tree_zlink **v, *l;
		size_t *cnt, child;

		if (ds[k].parent != ds[i].obj || ds[k].obj == ds[i].obj)
			continue;
		/* Snapshots are mounts of their own, only under .zfs/snapshot. */
		if (ds[k].snapshot)
			r = zmount_new(t, pool, &ds[k], &child);
		else
			r = zmount_tree(t, pool, k, &child);
		if (r < 0)
			return r;
		v = ds[k].snapshot ? &t->zm[me]->snaps : &t->zm[me]->kids;
		cnt = ds[k].snapshot ? &t->zm[me]->nsnaps : &t->zm[me]->nkids;
		if (!(l = realloc(*v, (*cnt + 1) * sizeof(*l))))
			return -ENOMEM;
		*v = l;
		l += (*cnt)++;
		snprintf(l->name, sizeof(l->name), "%s", zfs_leaf_name(ds[k].name));
		l->mount = child;
	}
	return 0;
}

static int zmount_new(struct tree *t, struct zfs_pool *pool, const struct zfs_dsinfo *ds, size_t *idx)
{
	struct tree_zmount **v = realloc(t->zm, (t->nzm + 1) * sizeof(*v)), *zm;

	if (!v)
		return -ENOMEM;
	t->zm = v;
	if (!(zm = calloc(1, sizeof(*zm))))
		return -ENOMEM;
	zm->pool = pool;
	zm->ds = ds;
	zm->backend = (uint32_t)(TREE_UFS + t->nparts + t->nzm); /* every partition is known by now */
	pthread_mutex_init(&zm->lock, NULL);
	*idx = t->nzm;
	v[t->nzm++] = zm;
	return 0;
}

/* The dataset a member's node shows: bootfs when it is a file system of the pool, else the root dataset. */
static size_t zfs_boot_ds(struct zfs_pool *pool)
{
	struct zfs_pool_info pi;
	size_t n;
	const struct zfs_dsinfo *ds = zfs_pool_datasets(pool, &n);

	zfs_pool_get_info(pool, &pi);
	for (size_t i = 0; i < n; i++)
		if (pi.bootfs && ds[i].obj == pi.bootfs && !ds[i].snapshot)
			return i;
	return 0;
}

int tree_zfs_finish(struct tree *t)
{
	size_t root;
	int r;

	if (!t->zset)
		return 0;
	if ((r = zfs_set_assemble(t->zset)) < 0)
		return r;
	for (size_t i = 0; i < zfs_set_npools(t->zset); i++) {
		struct zfs_pool *pool = zfs_set_pool(t->zset, i);
		struct zfs_pool_info pi;
		struct tree_dirent *v;
		size_t n;

		zfs_pool_datasets(pool, &n);
		if (n == 0)
			continue;
		zfs_pool_get_info(pool, &pi);
		if ((r = zmount_tree(t, pool, 0, &root)) < 0)
			return r;
		if (strlen(pi.name) > NAME_MAX || !(v = realloc(t->pools, (t->npools + 1) * sizeof(*v))))
			return strlen(pi.name) > NAME_MAX ? -ENAMETOOLONG : -ENOMEM;
		t->pools = v;
		v += t->npools++;
		snprintf(v->name, sizeof(v->name), "%s", pi.name);
		v->ino = TREE_INO(t->zm[root]->backend, TREE_ZROOT);
		v->type = S_IFDIR;
	}
	/* Each member's node: its own mount of the boot dataset, so no directory has two parents. */
	for (size_t i = 0; i < t->nparts; i++) {
		struct tree_part *tp = t->parts[i];
		struct zfs_pool *pool = tp->zmember ? zfs_set_find(t->zset, tp->zpool_guid) : NULL;
		size_t n, m;

		if (!pool)
			continue;
		zfs_pool_datasets(pool, &n);
		if (n && (r = zmount_tree(t, pool, zfs_boot_ds(pool), &m)) < 0)
			return r;
		tp->zmount = n ? m + 1 : 0;
	}
	return 0;
}

struct tree_zmount *tree_zfs_part_mount(const struct tree *t, const struct tree_part *tp)
{
	return tp->zmount ? t->zm[tp->zmount - 1] : NULL;
}

struct tree_zmount *tree_zfs(const struct tree *t, uint64_t ino)
{
	uint64_t b = TREE_BACKEND(ino);

	if (b < TREE_UFS + t->nparts || b - TREE_UFS - t->nparts >= t->nzm)
		return NULL;
	return t->zm[b - TREE_UFS - t->nparts];
}

int tree_zfs_fs(struct tree_zmount *zm, struct zfs_fs **fs)
{
	pthread_mutex_lock(&zm->lock);
	if (!zm->tried) {
		zm->tried = true;
		zm->err = zm->ds->why;
		if (zm->err == 0)
			zm->err = zfs_fs_open(zm->pool, zm->ds->obj, &zm->fs);
		if (zm->err == -EACCES)
			log_warnx("%s: encrypted: its files are not shown (kvmload-fs has no keys)", zm->ds->name);
		else if (zm->err == -ENOTSUP)
			log_warnx("%s: not a file system this reader shows (a volume, or an unknown version)",
				  zm->ds->name);
		else if (zm->err < 0)
			log_warnx("%s: cannot be read: %s", zm->ds->name, strerror(-zm->err));
	}
	*fs = zm->fs;
	pthread_mutex_unlock(&zm->lock);
	return *fs ? 0 : zm->err;
}

void tree_zfs_free(struct tree *t)
{
	for (size_t k = 0; k < t->nzm; k++) {
		zfs_fs_close(t->zm[k]->fs);
		pthread_mutex_destroy(&t->zm[k]->lock);
		free(t->zm[k]->kids);
		free(t->zm[k]->snaps);
		free(t->zm[k]);
	}
	free(t->zm);
	free(t->pools);
	zfs_set_free(t->zset);
}
