/* fs_zfs.c: a ZFS mount (libzfsr) as a backend: object numbers made node ids, child datasets and .zfs/snapshot spliced in. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "fs_backend.h"
#include "viewd.h"

/* Cookies past every ZAP cookie: the mount's own entries (child datasets, .zfs listings). */
#define FS_ZFS_OWN_COOKIE ZFS_DIR_COOKIE_END

static struct fs_node fs_zfs_node(const struct fs_node *n, struct tree_zmount *zm, uint32_t local)
{
	struct fs_node child = *n;

	child.zm = zm;
	child.ino = TREE_INO(zm->backend, local);
	child.local = local;
	return child;
}

/* The node of object obj in n's mount: the root directory always as TREE_ZROOT, one id per object. */
static int fs_zfs_obj_node(const struct fs_node *n, struct zfs_fs *fs, uint64_t obj, struct fs_node *out)
{
	if (obj == zfs_fs_root(fs)) {
		*out = fs_zfs_node(n, n->zm, TREE_ZROOT);
		return 0;
	}
	if (obj >= TREE_ZCTL_ROOT) /* a node id holds 32 bits of it, short of our own ids */
		return -EIO;
	*out = fs_zfs_node(n, n->zm, (uint32_t)obj);
	return 0;
}

/* The mount's file system and the object n names. */
static int fs_zfs_obj(const struct fs_node *n, struct zfs_fs **fs, uint64_t *obj)
{
	int r = tree_zfs_fs(n->zm, fs);

	if (r < 0)
		return r;
	*obj = n->local == TREE_ZROOT ? zfs_fs_root(*fs) : n->local;
	return 0;
}

static struct tree_zmount *fs_zfs_mount(const struct fs_node *n, size_t i)
{
	return n->c->tree->zm[i];
}

/* .zfs and .zfs/snapshot, and the root of a mount whose dataset cannot be read: empty directories. */
static int fs_zfs_synth_stat(const struct fs_node *n, struct stat *st, nlink_t links)
{
	tree_made_stat(n->c->tree, n->ino, S_IFDIR | 0555, links, 0, st);
	return 0;
}

static int fs_zfs_getattr(const struct fs_node *n, struct stat *st)
{
	struct zfs_stat zs;
	struct zfs_fs *fs;
	uint64_t obj;
	int r;

	if (n->local == TREE_ZCTL_ROOT)
		return fs_zfs_synth_stat(n, st, 3);
	if (n->local == TREE_ZCTL_SNAPDIR)
		return fs_zfs_synth_stat(n, st, 2 + n->zm->nsnaps);
	r = fs_zfs_obj(n, &fs, &obj);
	if (r < 0)
		return n->local == TREE_ZROOT ? fs_zfs_synth_stat(n, st, 2) : r;
	if ((r = zfs_getattr(fs, obj, &zs)) < 0)
		return r;
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = zs.mode;
	st->st_nlink = (nlink_t)zs.nlink;
	st->st_uid = zs.uid;
	st->st_gid = zs.gid;
	st->st_size = (off_t)zs.size;
	st->st_blocks = (blkcnt_t)zs.blocks;
	st->st_blksize = zs.blksize;
	/* As stored: FreeBSD's and Linux's encodings agree below major and minor 256. */
	if (S_ISCHR(zs.mode) || S_ISBLK(zs.mode))
		st->st_rdev = (dev_t)zs.rdev;
	st->st_atim = zs.atime;
	st->st_mtim = zs.mtime;
	st->st_ctim = zs.ctime;
	return 0;
}

/* name among links (child datasets or snapshots): the mount's root, as a FUSE entry. */
static int fs_zfs_link_lookup(const struct fs_node *dir, const struct tree_zlink *l, size_t nl, const char *name,
			      struct fuse_entry_param *e, bool *found)
{
	*found = false;
	for (size_t i = 0; i < nl; i++) {
		if (strcmp(l[i].name, name) == 0) {
			struct fs_node child = fs_zfs_node(dir, fs_zfs_mount(dir, l[i].mount), TREE_ZROOT);

			*found = true;
			return fs_entry(&child, e);
		}
	}
	return 0;
}

static int fs_zfs_lookup(const struct fs_node *dir, const char *name, struct fuse_entry_param *e)
{
	struct fs_node child;
	struct zfs_fs *fs;
	uint64_t obj, dobj;
	bool found;
	int r;

	if (dir->local == TREE_ZCTL_ROOT) {
		if (strcmp(name, "snapshot") != 0)
			return 0;
		child = fs_zfs_node(dir, dir->zm, TREE_ZCTL_SNAPDIR);
		return fs_entry(&child, e);
	}
	if (dir->local == TREE_ZCTL_SNAPDIR)
		return fs_zfs_link_lookup(dir, dir->zm->snaps, dir->zm->nsnaps, name, e, &found);
	if (dir->local == TREE_ZROOT) {
		/* A child dataset covers a directory of the same name, as its mount would. */
		r = fs_zfs_link_lookup(dir, dir->zm->kids, dir->zm->nkids, name, e, &found);
		if (found || r < 0)
			return r;
		if (strcmp(name, ".zfs") == 0 && !dir->zm->ds->snapshot) {
			child = fs_zfs_node(dir, dir->zm, TREE_ZCTL_ROOT);
			return fs_entry(&child, e);
		}
	}
	r = fs_zfs_obj(dir, &fs, &dobj);
	if (r < 0)
		return dir->local == TREE_ZROOT ? 0 : r;
	r = zfs_lookup(fs, dobj, name, &obj);
	if (r == -ENOENT)
		return 0;
	if (r < 0 || (r = fs_zfs_obj_node(dir, fs, obj, &child)) < 0)
		return r;
	return fs_entry(&child, e);
}

static ssize_t fs_zfs_readlink(const struct fs_node *n, char *buf, size_t len)
{
	struct zfs_fs *fs;
	uint64_t obj;
	int r = fs_zfs_obj(n, &fs, &obj);

	return r < 0 ? r : zfs_readlink(fs, obj, buf, len);
}

static ssize_t fs_zfs_read(const struct fs_node *n, void *buf, size_t len, off_t off)
{
	struct zfs_fs *fs;
	uint64_t obj;
	int r;

	if (n->local == TREE_ZCTL_ROOT || n->local == TREE_ZCTL_SNAPDIR)
		return -EISDIR;
	if ((r = fs_zfs_obj(n, &fs, &obj)) < 0)
		return r;
	return zfs_read(fs, obj, buf, len, (uint64_t)off);
}

struct fs_zfs_walk {
	struct fs_dirbuf *db;
	struct zfs_fs *fs;
	const struct fs_node *dir;
};

static int fs_zfs_dirent(void *ctx, const char *name, size_t namelen, uint64_t obj, uint8_t dtype, uint64_t next)
{
	struct fs_zfs_walk *w = ctx;
	const struct tree_zmount *zm = w->dir->zm;
	struct fs_node child;
	char nm[NAME_MAX + 1];

	if (namelen > NAME_MAX || next >= FS_ZFS_OWN_COOKIE)
		return -EIO;
	memcpy(nm, name, namelen);
	nm[namelen] = '\0';
	if (w->dir->local == TREE_ZROOT)
		for (size_t i = 0; i < zm->nkids; i++)
			if (strcmp(zm->kids[i].name, nm) == 0)
				return 0; /* listed with the child datasets */
	if (fs_zfs_obj_node(w->dir, w->fs, obj, &child) < 0)
		return -EIO;
	if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
		return fs_dir_add_bare(w->db, nm, child.ino, S_IFDIR, (off_t)next);
	return fs_dir_add_node(w->db, nm, &child, (mode_t)dtype << 12, (off_t)next);
}

/* Entries that lead to other mounts (or .zfs's one), from cookie off on, numbered from first. */
static int fs_zfs_links(const struct fs_node *dir, const struct tree_zlink *l, size_t nl, uint64_t first,
			uint64_t off, struct fs_dirbuf *db)
{
	for (size_t i = off > first ? (size_t)(off - first) : 0; i < nl; i++) {
		struct fs_node child = fs_zfs_node(dir, fs_zfs_mount(dir, l[i].mount), TREE_ZROOT);
		int r = fs_dir_add_node(db, l[i].name, &child, S_IFDIR, (off_t)(first + i + 1));

		if (r)
			return r;
	}
	return 0;
}

/* "." and ".." of a directory the mount makes up itself. */
static int fs_zfs_dots(const struct fs_node *dir, uint64_t *off, struct fs_dirbuf *db)
{
	if (*off == 0 && fs_dir_add_bare(db, ".", dir->ino, S_IFDIR, 1))
		return 1;
	if (*off <= 1 && fs_dir_add_bare(db, "..", dir->ino, S_IFDIR, 2))
		return 1;
	if (*off < 2)
		*off = 2;
	return 0;
}

static int fs_zfs_readdir(const struct fs_node *dir, uint64_t fh, off_t off, struct fs_dirbuf *db)
{
	struct fs_zfs_walk w = { db, NULL, dir };
	uint64_t o = (uint64_t)off, dobj;
	int r;

	(void)fh;
	if (dir->local == TREE_ZCTL_ROOT || dir->local == TREE_ZCTL_SNAPDIR) {
		if (fs_zfs_dots(dir, &o, db))
			return 0;
		if (dir->local == TREE_ZCTL_SNAPDIR)
			return fs_zfs_links(dir, dir->zm->snaps, dir->zm->nsnaps, 2, o, db);
		if (o == 2) {
			struct fs_node snap = fs_zfs_node(dir, dir->zm, TREE_ZCTL_SNAPDIR);

			fs_dir_add_node(db, "snapshot", &snap, S_IFDIR, 3);
		}
		return 0;
	}
	/* A dataset that cannot be read (encrypted, a volume) is an empty directory with its children. */
	r = fs_zfs_obj(dir, &w.fs, &dobj);
	if (r < 0 && dir->local != TREE_ZROOT)
		return r;
	if (o < FS_ZFS_OWN_COOKIE) {
		if (r == 0 && (r = zfs_readdir(w.fs, dobj, o, fs_zfs_dirent, &w)) != 0)
			return r;
		if (r < 0 && fs_zfs_dots(dir, &o, db))
			return 0;
		o = FS_ZFS_OWN_COOKIE;
	}
	if (dir->local != TREE_ZROOT)
		return 0;
	return fs_zfs_links(dir, dir->zm->kids, dir->zm->nkids, FS_ZFS_OWN_COOKIE, o, db);
}

/* user.kvmload.dataset on a mount's root: which dataset it shows (kvmload names it in its messages). */
static ssize_t fs_zfs_getxattr(const struct fs_node *n, const char *name, char *buf, size_t size)
{
	size_t len = strlen(n->zm->ds->name);

	if (n->local != TREE_ZROOT || strcmp(name, VIEWD_XATTR_DATASET) != 0)
		return -ENODATA;
	if (len > size)
		return -ERANGE;
	memcpy(buf, n->zm->ds->name, len);
	return (ssize_t)len;
}

static int fs_zfs_statfs(const struct fs_node *n, struct statvfs *sv)
{
	struct zfs_pool_info pi;

	zfs_pool_get_info(n->zm->pool, &pi);
	sv->f_blocks = pi.size / 4096;
	sv->f_bfree = sv->f_bavail = pi.size > pi.used ? (pi.size - pi.used) / 4096 : 0;
	return 0;
}

const struct fs_backend_ops fs_zfs_ops = {
	.timeout = FS_STATIC_TIMEOUT,
	.keep_cache = true,
	.getattr = fs_zfs_getattr,
	.lookup = fs_zfs_lookup,
	.readlink = fs_zfs_readlink,
	.read = fs_zfs_read,
	.readdir = fs_zfs_readdir,
	.statfs = fs_zfs_statfs,
	.getxattr = fs_zfs_getxattr,
};
