/* tree.c: the view's top level: sources, partitions mounted as UFS, by-label links, synthetic nodes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "errmsg.h"
#include "tree.h"

void tree_init(struct tree *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < TREE_MAXDISKS; i++)
		t->disks[i].fd = -1;
	clock_gettime(CLOCK_REALTIME, &t->born);
	t->uid = geteuid();
	t->gid = getegid();
}

/* Mount the partition's UFS if it has one; only -ENOMEM is fatal. */
static int tree_mount(struct tree_part *tp)
{
	int r;

	if (tp->p.container || tp->win.size == 0)
		return 0;
	tp->dev = blkdev_ufs_dev(&tp->win);
	r = ufs_open(&tp->fs, &tp->dev);
	if (r == 0) {
		ufs_get_info(tp->fs, &tp->info);
		return 0;
	}
	tp->fs = NULL;
	if (r == -ENOMEM)
		return r;
	if (r != -EINVAL)
		log_warnx("%s: %s: UFS not shown: %s", tp->win.dev->path, tp->p.name, strerror(-r));
	return 0;
}

int tree_open_disk(struct tree *t, const char *path, const char *format, int fd, bool raw,
		   const struct confine_user *reader, char *err, size_t errlen)
{
	int r;

	if (t->ndisks == TREE_MAXDISKS)
		return -E2BIG;
	r = blkdev_open(&t->disks[t->ndisks], path, format, fd, raw, reader, err, errlen);
	if (r < 0)
		return r;
	t->ndisks++;
	return 0;
}

int tree_probe_disk(struct tree *t, unsigned unit, char *err, size_t errlen)
{
	const struct blkdev *bd = &t->disks[unit];
	struct probe_part *pp;
	struct tree_part **v;
	size_t np;
	int r;

	r = probe_disk(bd, unit, &pp, &np);
	if (r < 0)
		return errmsg_set(err, errlen, -r, "cannot read its partitions: %s", strerror(-r));
	v = realloc(t->parts, (t->nparts + np) * sizeof(*v));
	if (!v && np) {
		free(pp);
		return errmsg_set(err, errlen, ENOMEM, "%s", strerror(ENOMEM));
	}
	t->parts = v;
	for (size_t i = 0; i < np; i++) {
		struct tree_part *tp = calloc(1, sizeof(*tp));

		if (!tp) {
			r = -ENOMEM;
			break;
		}
		tp->p = pp[i];
		t->parts[t->nparts++] = tp;
		if (tp->p.refused || blkdev_window(bd, tp->p.start, tp->p.size, &tp->win) < 0)
			continue;
		/*
		 * Cut short by the end of the disk: the file system keeps the size
		 * its table gives it, and blkdev_read fails reads past the end (EIO).
		 */
		if (tp->p.recorded > tp->win.size)
			tp->win.size = tp->p.recorded;
		r = tree_mount(tp);
		if (r == 0 && !tp->fs && !tp->p.container && tp->win.size)
			r = tree_zfs_probe(t, tp);
		if (r < 0)
			break;
	}
	free(pp);
	return r < 0 ? errmsg_set(err, errlen, -r, "cannot read its partitions: %s", strerror(-r)) : 0;
}

int tree_set_host(struct tree *t, const char *path)
{
	return hostfs_open(&t->host, path);
}

const char *tree_part_label(const struct tree_part *tp)
{
	if (tp->p.label[0])
		return tp->p.label;
	return tp->fs ? tp->info.volname : "";
}

static struct tree_dirent *tree_push(struct tree_dirent **v, size_t *n, const char *name, uint64_t ino,
				     mode_t type)
{
	struct tree_dirent *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return NULL;
	*v = nv;
	nv += (*n)++;
	snprintf(nv->name, sizeof(nv->name), "%s", name);
	nv->ino = ino;
	nv->type = type;
	return nv;
}

static bool tree_label_taken(const struct tree *t, const char *name)
{
	for (size_t i = 0; i < t->nlabels; i++)
		if (strcmp(t->labels[i].name, name) == 0)
			return true;
	return false;
}

/*
 * by-label/NAME pointing at target: '/' becomes '_', a taken name gets _2,
 * _3, ... (as udisks does).
 */
static int tree_add_label(struct tree *t, const char *label, const char *target)
{
	char base[NAME_MAX - 12], name[NAME_MAX + 1];
	char (*tg)[NAME_MAX + 8];

	snprintf(base, sizeof(base), "%s", label);
	if (!base[0] || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return 0;
	for (char *c = base; *c; c++)
		if (*c == '/')
			*c = '_';
	snprintf(name, sizeof(name), "%s", base);
	for (unsigned k = 2; tree_label_taken(t, name); k++)
		snprintf(name, sizeof(name), "%s_%u", base, k);
	tg = realloc(t->targets, (t->nlabels + 1) * sizeof(*tg));
	if (!tg)
		return -ENOMEM;
	t->targets = tg;
	snprintf(tg[t->nlabels], sizeof(tg[0]), "../%s", target);
	if (!tree_push(&t->labels, &t->nlabels, name, TREE_LINK0_INO + t->nlabels, S_IFLNK))
		return -ENOMEM;
	return 0;
}

int tree_finish(struct tree *t)
{
	int r = tree_zfs_finish(t);

	if (r < 0)
		return r;
	if (t->host && !tree_push(&t->top, &t->ntop, "host0", TREE_INO(TREE_HOST, HOSTFS_ROOT), S_IFDIR))
		return -ENOMEM;
	for (size_t i = 0; i < t->nparts; i++) {
		const struct tree_part *tp = t->parts[i];
		const struct tree_zmount *zm = tree_zfs_part_mount(t, tp);
		uint64_t ino;

		if (tp->fs)
			ino = TREE_INO(TREE_UFS + i, UFS_ROOT_INO);
		else if (zm)
			ino = TREE_INO(zm->backend, TREE_ZROOT);
		else
			continue;
		if (!tree_push(&t->top, &t->ntop, tp->p.name, ino, S_IFDIR) ||
		    tree_add_label(t, tree_part_label(tp), tp->p.name) < 0)
			return -ENOMEM;
	}
	if (t->npools && !tree_push(&t->top, &t->ntop, "zfs", TREE_ZFSDIR_INO, S_IFDIR))
		return -ENOMEM;
	for (size_t i = 0; i < t->npools; i++) {
		char target[NAME_MAX + 8];

		snprintf(target, sizeof(target), "zfs/%s", t->pools[i].name);
		if (tree_add_label(t, t->pools[i].name, target) < 0)
			return -ENOMEM;
	}
	if (!tree_push(&t->top, &t->ntop, "by-label", TREE_BYLABEL_INO, S_IFDIR))
		return -ENOMEM;
	return 0;
}

void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->nparts; i++) {
		if (t->parts[i]->fs)
			ufs_close(t->parts[i]->fs);
		free(t->parts[i]);
	}
	free(t->parts);
	for (unsigned i = 0; i < t->ndisks; i++)
		blkdev_close(&t->disks[i]);
	hostfs_close(t->host);
	tree_zfs_free(t);
	free(t->top);
	free(t->labels);
	free(t->targets);
	memset(t, 0, sizeof(*t));
}

struct tree_part *tree_ufs(const struct tree *t, uint64_t ino)
{
	uint32_t b = TREE_BACKEND(ino);

	if (b < TREE_UFS || b - TREE_UFS >= t->nparts)
		return NULL;
	return t->parts[b - TREE_UFS]->fs ? t->parts[b - TREE_UFS] : NULL;
}

const struct tree_dirent *tree_synth_dir(const struct tree *t, uint64_t ino, size_t *n)
{
	if (ino == TREE_ROOT_INO) {
		*n = t->ntop;
		return t->top;
	}
	if (ino == TREE_BYLABEL_INO) {
		*n = t->nlabels;
		return t->labels;
	}
	if (ino == TREE_ZFSDIR_INO && t->npools) {
		*n = t->npools;
		return t->pools;
	}
	return NULL;
}

int tree_synth_lookup(const struct tree *t, uint64_t dir, const char *name, uint64_t *ino)
{
	size_t n;
	const struct tree_dirent *d = tree_synth_dir(t, dir, &n);

	if (!d && dir != TREE_ROOT_INO && dir != TREE_BYLABEL_INO)
		return dir == TREE_ZFSDIR_INO ? -ENOENT : -ENOTDIR;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(d[i].name, name) == 0) {
			*ino = d[i].ino;
			return 0;
		}
	}
	return -ENOENT;
}

const char *tree_synth_link(const struct tree *t, uint64_t ino)
{
	if (TREE_BACKEND(ino) != TREE_SYNTH || ino < TREE_LINK0_INO || ino - TREE_LINK0_INO >= t->nlabels)
		return NULL;
	return t->targets[ino - TREE_LINK0_INO];
}

void tree_made_stat(const struct tree *t, uint64_t ino, mode_t mode, nlink_t nlink, off_t size, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = mode;
	st->st_nlink = nlink;
	st->st_size = size;
	st->st_uid = t->uid;
	st->st_gid = t->gid;
	st->st_blksize = 4096;
	st->st_atim = st->st_mtim = st->st_ctim = t->born;
}

int tree_synth_stat(const struct tree *t, uint64_t ino, struct stat *st)
{
	const char *target = tree_synth_link(t, ino);
	nlink_t n = 2;

	if (ino == TREE_ROOT_INO || ino == TREE_BYLABEL_INO || (ino == TREE_ZFSDIR_INO && t->npools)) {
		if (ino == TREE_ROOT_INO)
			for (size_t i = 0; i < t->ntop; i++)
				n += t->top[i].type == S_IFDIR;
		if (ino == TREE_ZFSDIR_INO)
			n += t->npools;
		tree_made_stat(t, ino, S_IFDIR | 0555, n, 0, st);
	} else if (target) {
		tree_made_stat(t, ino, S_IFLNK | 0777, 1, (off_t)strlen(target), st);
	} else {
		return -ENOENT;
	}
	return 0;
}
