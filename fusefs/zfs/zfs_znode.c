/* zfs_znode.c: a dataset's files: the master node, system attributes (bonus and spill) or old znode_phys, directories, reads. */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "zfs_int.h"

#define SA_MAGIC 0x2F505Au
#define ZNODE_PHYS_SIZE 264     /* znode_phys_t: attributes of file systems before version 5 */
#define SA_MAX_ATTRS 1024       /* attribute numbers we keep a length for */
#define SA_MAX_LAYOUT 64        /* attributes in one layout */
#define SA_MAX_LAYOUTS 4096
#define ZPL_VERSION_SA 5
#define DIRENT_OBJ(v) ((v) & ((1ull << 48) - 1))
#define DIRENT_TYPE(v) ((uint8_t)((v) >> 60))

/* The attributes the reader uses, by their registered names. */
enum { ZA_ATIME, ZA_MTIME, ZA_CTIME, ZA_CRTIME, ZA_GEN, ZA_MODE, ZA_SIZE, ZA_PARENT, ZA_LINKS, ZA_RDEV,
       ZA_UID, ZA_GID, ZA_SYMLINK, ZA_COUNT };
static const struct {
	const char *name;
	int legacy; /* the attribute number of file systems without a registry */
} zpl_attrs[ZA_COUNT] = {
	{ "ZPL_ATIME", 0 }, { "ZPL_MTIME", 1 }, { "ZPL_CTIME", 2 }, { "ZPL_CRTIME", 3 }, { "ZPL_GEN", 4 },
	{ "ZPL_MODE", 5 }, { "ZPL_SIZE", 6 }, { "ZPL_PARENT", 7 }, { "ZPL_LINKS", 8 }, { "ZPL_RDEV", 10 },
	{ "ZPL_UID", 12 }, { "ZPL_GID", 13 }, { "ZPL_SYMLINK", 17 },
};
/* Registered lengths of the legacy table, for file systems with no registry object. */
static const uint16_t legacy_len[] = { 16, 16, 16, 16, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 32, 88, 8, 0, 32, 0, 0, 8 };

struct sa_layout {
	uint64_t num;
	unsigned n;
	uint16_t attr[SA_MAX_LAYOUT];
};

struct zfs_fs {
	struct zfs_pool *p;
	struct zfs_objset *os;
	uint64_t root, version;
	bool sa;
	int zpl[ZA_COUNT];              /* attribute number, -1 when not registered */
	uint16_t len[SA_MAX_ATTRS];     /* registered length (0: variable) */
	struct sa_layout *layouts;
	size_t nlayouts;
};

uint64_t zfs_fs_root(const struct zfs_fs *fs)
{
	return fs->root;
}

/* ---- system attributes ---- */

static int sa_registry_ent(void *ctx, const struct zfs_zap_ent *e)
{
	struct zfs_fs *fs = ctx;
	uint64_t num = e->value & 0xffff, len = (e->value >> 24) & 0xffff;

	if (e->intlen != 8 || e->numints != 1)
		return -EIO;
	if (num < SA_MAX_ATTRS)
		fs->len[num] = (uint16_t)len;
	for (unsigned i = 0; i < ZA_COUNT; i++)
		if (strcmp(e->name, zpl_attrs[i].name) == 0)
			fs->zpl[i] = num < SA_MAX_ATTRS ? (int)num : -1;
	return 0;
}

struct layout_walk {
	struct zfs_fs *fs;
	const struct zfs_dnode *dn;
};

static int sa_layout_ent(void *ctx, const struct zfs_zap_ent *e)
{
	struct layout_walk *w = ctx;
	struct zfs_fs *fs = w->fs;
	struct sa_layout *v, *l;
	char *end;
	size_t n;
	int r;

	if (fs->nlayouts >= SA_MAX_LAYOUTS)
		return -EIO;
	if (!(v = realloc(fs->layouts, (fs->nlayouts + 1) * sizeof(*v))))
		return -ENOMEM;
	fs->layouts = v;
	l = &v[fs->nlayouts];
	l->num = strtoull(e->name, &end, 10);
	if (*end || e->intlen != 2 || e->numints > SA_MAX_LAYOUT)
		return -EIO;
	r = zfs_zap_lookup(fs->p, w->dn, e->name, 2, l->attr, SA_MAX_LAYOUT, &n);
	if (r < 0)
		return r;
	/* n is the value's length, not what was copied: the lookup may find another entry of this name. */
	if (n > SA_MAX_LAYOUT)
		return -EIO;
	l->n = (unsigned)n;
	for (unsigned i = 0; i < l->n; i++)
		if (l->attr[i] >= SA_MAX_ATTRS)
			return -EIO;
	fs->nlayouts++;
	return 0;
}

/* The SA registry and layouts named by the master node's SA_ATTRS. */
static int sa_setup(struct zfs_fs *fs, uint64_t master)
{
	struct zfs_dnode dn, reg;
	uint64_t robj, lobj;
	int r;

	for (unsigned i = 0; i < ZA_COUNT; i++)
		fs->zpl[i] = zpl_attrs[i].legacy;
	for (unsigned i = 0; i < sizeof(legacy_len) / sizeof(legacy_len[0]); i++)
		fs->len[i] = legacy_len[i];
	if ((r = zfs_dnode_get(fs->os, master, &dn)) < 0)
		return r;
	if (zfs_zap_u64(fs->p, &dn, "REGISTRY", &robj) == 0) {
		if ((r = zfs_dnode_get(fs->os, robj, &reg)) < 0 ||
		    (r = zfs_zap_walk(fs->p, &reg, 0, sa_registry_ent, fs)) < 0)
			return r;
	}
	if (zfs_zap_u64(fs->p, &dn, "LAYOUTS", &lobj) == 0) {
		struct layout_walk w = { fs, &reg };

		if ((r = zfs_dnode_get(fs->os, lobj, &reg)) < 0 ||
		    (r = zfs_zap_walk(fs->p, &reg, 0, sa_layout_ent, &w)) < 0)
			return r;
	}
	return 0;
}

static const struct sa_layout *sa_layout(const struct zfs_fs *fs, uint64_t num)
{
	for (size_t i = 0; i < fs->nlayouts; i++)
		if (fs->layouts[i].num == num)
			return &fs->layouts[i];
	return NULL;
}

/*
 * Attribute attr in an SA buffer (a bonus or a spill block): the header's
 * layout lists the attributes in order, each 8-byte aligned, variable ones
 * sized by the header's length table.  -ENOENT when the layout lacks it.
 */
static int sa_find_in(const struct zfs_fs *fs, struct span s, int attr, struct span *out)
{
	const struct sa_layout *l;
	uint32_t magic;
	uint16_t info;
	uint64_t at;
	unsigned nvar = 0, vi = 0;

	if (attr < 0)
		return -ENOENT;
	if (span_le32(s, 0, &magic) < 0 || span_le16(s, 4, &info) < 0)
		return -EIO;
	if (magic != SA_MAGIC)
		return magic == 0 && info == 0 ? -ENOENT : -EIO;
	if (!(l = sa_layout(fs, info & 0x3ff)))
		return (info & 0x3ff) == 1 ? -ENOENT : -EIO; /* layout 1 is the empty one */
	for (unsigned i = 0; i < l->n; i++)
		nvar += fs->len[l->attr[i]] == 0;
	at = (6 + 2ull * nvar + 7) & ~7ull;
	for (unsigned i = 0; i < l->n; i++) {
		uint64_t len = fs->len[l->attr[i]];

		if (len == 0) {
			uint16_t v;

			if (span_le16(s, 6 + 2ull * vi++, &v) < 0)
				return -EIO;
			len = v;
		}
		if (l->attr[i] == attr)
			return span_sub(s, at, len, out) < 0 ? -EIO : 0;
		at = (at + len + 7) & ~7ull;
	}
	return -ENOENT;
}

/* An attribute of a dnode: in its bonus, else in its spill block (copied into *spill, released by the caller). */
static int sa_find(const struct zfs_fs *fs, const struct zfs_dnode *dn, int attr, struct span *out,
		   struct zfs_buf **spill)
{
	struct zfs_bp bp;
	int r = sa_find_in(fs, dn->bonus, attr, out);

	if (r != -ENOENT || !dn->spill)
		return r;
	if (!*spill) {
		memcpy(bp.raw, dn->spill, ZFS_BP_SIZE);
		if (zfs_bp_is_hole(&bp))
			return -ENOENT;
		if ((r = zfs_bp_read(fs->p, &bp, spill)) < 0)
			return r;
	}
	return sa_find_in(fs, span_make((*spill)->data, (*spill)->size), attr, out);
}

static int sa_u64(const struct zfs_fs *fs, const struct zfs_dnode *dn, int attr, uint64_t *v,
		  struct zfs_buf **spill)
{
	struct span s;
	int r = sa_find(fs, dn, attr, &s, spill);

	if (r < 0)
		return r;
	return s.len == 8 ? span_le64(s, 0, v) : -EIO;
}

static int sa_time(const struct zfs_fs *fs, const struct zfs_dnode *dn, int attr, struct timespec *t,
		   struct zfs_buf **spill)
{
	struct span s;
	uint64_t sec, nsec;
	int r = sa_find(fs, dn, attr, &s, spill);

	if (r == -ENOENT && attr == fs->zpl[ZA_CRTIME]) {
		memset(t, 0, sizeof(*t));
		return 0;
	}
	if (r < 0)
		return r;
	if (s.len != 16 || span_le64(s, 0, &sec) < 0 || span_le64(s, 8, &nsec) < 0 || nsec >= 1000000000)
		return -EIO;
	t->tv_sec = (time_t)sec;
	t->tv_nsec = (long)nsec;
	return 0;
}

/* ---- znodes ---- */

/* A file's attributes from its dnode: SA or znode_phys. */
static int znode_attrs(struct zfs_fs *fs, const struct zfs_dnode *dn, uint64_t obj, struct zfs_stat *st,
		       uint64_t *parent)
{
	struct zfs_buf *spill = NULL;
	uint64_t mode = 0, uid = 0, gid = 0, rdev = 0;
	int r = 0;

	memset(st, 0, sizeof(*st));
	st->obj = obj;
	if (dn->bonustype == ZOT_SA && fs->sa) {
		if ((r = sa_u64(fs, dn, fs->zpl[ZA_MODE], &mode, &spill)) < 0 ||
		    (r = sa_u64(fs, dn, fs->zpl[ZA_SIZE], &st->size, &spill)) < 0 ||
		    (r = sa_u64(fs, dn, fs->zpl[ZA_LINKS], &st->nlink, &spill)) < 0 ||
		    (r = sa_u64(fs, dn, fs->zpl[ZA_UID], &uid, &spill)) < 0 ||
		    (r = sa_u64(fs, dn, fs->zpl[ZA_GID], &gid, &spill)) < 0 ||
		    (r = sa_u64(fs, dn, fs->zpl[ZA_PARENT], parent, &spill)) < 0 ||
		    (r = sa_time(fs, dn, fs->zpl[ZA_ATIME], &st->atime, &spill)) < 0 ||
		    (r = sa_time(fs, dn, fs->zpl[ZA_MTIME], &st->mtime, &spill)) < 0 ||
		    (r = sa_time(fs, dn, fs->zpl[ZA_CTIME], &st->ctime, &spill)) < 0 ||
		    (r = sa_time(fs, dn, fs->zpl[ZA_CRTIME], &st->crtime, &spill)) < 0)
			goto out;
		sa_u64(fs, dn, fs->zpl[ZA_GEN], &st->gen, &spill);
		if ((S_ISCHR(mode) || S_ISBLK(mode)) && (r = sa_u64(fs, dn, fs->zpl[ZA_RDEV], &rdev, &spill)) < 0)
			goto out;
	} else if (dn->bonustype == ZOT_ZNODE) {
		struct span b = dn->bonus;
		uint64_t t[8];

		if (b.len < ZNODE_PHYS_SIZE)
			return -EIO;
		for (unsigned i = 0; i < 8; i++)
			span_le64(b, 8 * i, &t[i]);
		if (t[1] >= 1000000000 || t[3] >= 1000000000 || t[5] >= 1000000000 || t[7] >= 1000000000)
			return -EIO;
		st->atime = (struct timespec){ (time_t)t[0], (long)t[1] };
		st->mtime = (struct timespec){ (time_t)t[2], (long)t[3] };
		st->ctime = (struct timespec){ (time_t)t[4], (long)t[5] };
		st->crtime = (struct timespec){ (time_t)t[6], (long)t[7] };
		span_le64(b, 64, &st->gen);
		span_le64(b, 72, &mode);
		span_le64(b, 80, &st->size);
		span_le64(b, 88, parent);
		span_le64(b, 96, &st->nlink);
		span_le64(b, 112, &rdev);
		span_le64(b, 128, &uid);
		span_le64(b, 136, &gid);
	} else {
		return -EIO; /* not a file of the file system */
	}
	if ((mode & S_IFMT) == 0 || uid > UINT32_MAX || gid > UINT32_MAX) {
		r = -EIO;
		goto out;
	}
	st->mode = (uint32_t)(mode & 07777) | (uint32_t)(mode & S_IFMT);
	st->uid = (uint32_t)uid;
	st->gid = (uint32_t)gid;
	st->rdev = rdev;
	st->blksize = dn->datablksz;
	st->blocks = (dn->flags & 1) ? dn->used / 512 : dn->used; /* DNODE_FLAG_USED_BYTES, else sectors */
out:
	zfs_buf_put(fs->p, spill);
	return r;
}

static int znode_get(struct zfs_fs *fs, uint64_t obj, struct zfs_dnode *dn, struct zfs_stat *st, uint64_t *parent)
{
	uint64_t par = 0;
	int r = zfs_dnode_get(fs->os, obj, dn);

	if (r == -ENOENT)
		return -EIO; /* a name or a parent pointing at a free object */
	if (r < 0)
		return r;
	r = znode_attrs(fs, dn, obj, st, &par);
	if (r == 0 && parent)
		*parent = par;
	return r;
}

int zfs_getattr(struct zfs_fs *fs, uint64_t obj, struct zfs_stat *st)
{
	struct zfs_dnode *dn = malloc(sizeof(*dn));
	int r;

	if (!dn)
		return -ENOMEM;
	r = znode_get(fs, obj, dn, st, NULL);
	free(dn);
	return r;
}

/* The directory obj's dnode, checked to be one. */
static int znode_dir(struct zfs_fs *fs, uint64_t obj, struct zfs_dnode *dn, uint64_t *parent)
{
	struct zfs_stat st;
	int r = znode_get(fs, obj, dn, &st, parent);

	if (r < 0)
		return r;
	return S_ISDIR(st.mode) ? 0 : -ENOTDIR;
}

int zfs_lookup(struct zfs_fs *fs, uint64_t dir, const char *name, uint64_t *obj)
{
	struct zfs_dnode *dn = malloc(sizeof(*dn));
	uint64_t v, parent;
	int r;

	if (!dn)
		return -ENOMEM;
	r = znode_dir(fs, dir, dn, &parent);
	if (r == 0) {
		if (strcmp(name, ".") == 0) {
			*obj = dir;
		} else if (strcmp(name, "..") == 0) {
			*obj = parent;
		} else {
			r = zfs_zap_u64(fs->p, dn, name, &v);
			if (r == 0)
				*obj = DIRENT_OBJ(v);
			else if (r == -EINVAL)
				r = -EIO;
		}
	}
	free(dn);
	return r;
}

struct readdir_walk {
	zfs_dirent_fn *cb;
	void *ctx;
};

static int readdir_ent(void *ctx, const struct zfs_zap_ent *e)
{
	struct readdir_walk *w = ctx;

	if (e->intlen != 8 || e->numints != 1)
		return -EIO;
	/* A name no directory can hold (a damaged ZAP): left out, as the kernel would refuse the listing. */
	if (!e->name[0] || strchr(e->name, '/') || strcmp(e->name, ".") == 0 || strcmp(e->name, "..") == 0)
		return 0;
	/* Cookies 1 and 2 are "." and ".."; the ZAP's own cookies start at 1. */
	return w->cb(w->ctx, e->name, strlen(e->name), DIRENT_OBJ(e->value), DIRENT_TYPE(e->value), e->next + 2);
}

int zfs_readdir(struct zfs_fs *fs, uint64_t dir, uint64_t off, zfs_dirent_fn *cb, void *ctx)
{
	struct zfs_dnode *dn = malloc(sizeof(*dn));
	struct readdir_walk w = { cb, ctx };
	uint64_t parent;
	int r;

	if (!dn)
		return -ENOMEM;
	r = znode_dir(fs, dir, dn, &parent);
	if (r == 0 && off == 0)
		r = cb(ctx, ".", 1, dir, DT_DIR, 1);
	if (r == 0 && off <= 1)
		r = cb(ctx, "..", 2, parent, DT_DIR, 2);
	if (r == 0)
		r = zfs_zap_walk(fs->p, dn, off > 2 ? off - 2 : 0, readdir_ent, &w);
	free(dn);
	return r;
}

ssize_t zfs_read(struct zfs_fs *fs, uint64_t obj, void *buf, size_t len, uint64_t off)
{
	struct zfs_dnode *dn = malloc(sizeof(*dn));
	struct zfs_stat st;
	ssize_t r;

	if (!dn)
		return -ENOMEM;
	r = znode_get(fs, obj, dn, &st, NULL);
	if (r == 0 && S_ISDIR(st.mode))
		r = -EISDIR;
	else if (r == 0 && !S_ISREG(st.mode))
		r = -EINVAL;
	if (r == 0) {
		if (off >= st.size)
			len = 0;
		else if (len > st.size - off)
			len = (size_t)(st.size - off);
		if (len > SSIZE_MAX)
			len = SSIZE_MAX;
		r = len ? zfs_dnode_read(fs->p, dn, off, buf, len) : 0;
		if (r == 0)
			r = (ssize_t)len;
	}
	free(dn);
	return r;
}

ssize_t zfs_readlink(struct zfs_fs *fs, uint64_t obj, char *buf, size_t len)
{
	struct zfs_dnode *dn = malloc(sizeof(*dn));
	struct zfs_buf *spill = NULL;
	struct zfs_stat st;
	struct span s;
	ssize_t r;

	if (!dn)
		return -ENOMEM;
	r = znode_get(fs, obj, dn, &st, NULL);
	if (r == 0 && !S_ISLNK(st.mode))
		r = -EINVAL;
	if (r == 0 && (st.size >= len || st.size > 4096))
		r = st.size > 4096 ? -EIO : -ENAMETOOLONG;
	if (r == 0) {
		if (dn->bonustype == ZOT_SA) {
			/* Version 5 keeps the target in its own attribute, bonus or spill. */
			r = sa_find(fs, dn, fs->zpl[ZA_SYMLINK], &s, &spill);
			if (r == 0 && s.len != st.size)
				r = -EIO;
			if (r == 0)
				memcpy(buf, s.p, s.len);
		} else if (st.size + ZNODE_PHYS_SIZE <= dn->bonus.len) {
			/* A short target follows znode_phys in the bonus; a long one is the file's data. */
			memcpy(buf, dn->bonus.p + ZNODE_PHYS_SIZE, (size_t)st.size);
		} else {
			r = zfs_dnode_read(fs->p, dn, 0, buf, (size_t)st.size);
		}
	}
	zfs_buf_put(fs->p, spill);
	if (r == 0) {
		buf[st.size] = '\0';
		r = (ssize_t)st.size;
	}
	free(dn);
	return r;
}

/* ---- opening ---- */

int zfs_fs_open(struct zfs_pool *p, uint64_t dsobj, struct zfs_fs **out)
{
	struct zfs_fs *fs;
	struct zfs_dnode *master;
	struct zfs_bp bp;
	uint64_t sa_obj;
	int r;

	if ((r = zfs_dsl_dataset_bp(p, dsobj, &bp)) < 0)
		return r;
	if (zfs_bp_encrypted(&bp))
		return -EACCES;
	if (!(fs = calloc(1, sizeof(*fs))) || !(master = malloc(sizeof(*master)))) {
		free(fs);
		return -ENOMEM;
	}
	fs->p = p;
	if ((r = zfs_objset_open(p, &bp, &fs->os)) < 0)
		goto fail;
	if (fs->os->type != ZOS_TYPE_ZFS) {
		r = -ENOTSUP;
		goto fail;
	}
	if ((r = zfs_dnode_get(fs->os, 1, master)) < 0 ||
	    (r = zfs_zap_u64(p, master, "VERSION", &fs->version)) < 0 ||
	    (r = zfs_zap_u64(p, master, "ROOT", &fs->root)) < 0) {
		r = r == -ENOTSUP || r == -ENOMEM ? r : -EIO;
		goto fail;
	}
	if (fs->version < 1 || fs->version > ZPL_VERSION_SA) {
		r = -ENOTSUP;
		goto fail;
	}
	fs->sa = zfs_zap_u64(p, master, "SA_ATTRS", &sa_obj) == 0;
	if (fs->sa && (r = sa_setup(fs, sa_obj)) < 0) {
		r = r == -ENOTSUP || r == -ENOMEM ? r : -EIO; /* a free SA object (-ENOENT), a bad layout */
		goto fail;
	}
	free(master);
	*out = fs;
	return 0;
fail:
	free(master);
	zfs_fs_close(fs);
	return r;
}

void zfs_fs_close(struct zfs_fs *fs)
{
	if (!fs)
		return;
	if (fs->os)
		zfs_objset_close(fs->os);
	free(fs->layouts);
	free(fs);
}
