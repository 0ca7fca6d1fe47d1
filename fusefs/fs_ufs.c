/* fs_ufs.c: a partition's UFS (libufs) as a backend: Linux attributes, inode numbers made node ids of the view. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "fs_backend.h"

/* FreeBSD's 32-bit dev_t on disk: major in bits 8-15, minor in the rest. */
static dev_t fs_ufs_rdev(uint64_t r)
{
	return makedev((r >> 8) & 0xff, (r & 0xff) | ((r >> 8) & 0xffff00));
}

/* Inode ino of the partition n is on. */
static struct fs_node fs_ufs_node(const struct fs_node *n, uint32_t ino)
{
	struct fs_node child = *n;

	child.ino = TREE_INO(TREE_BACKEND(n->ino), ino);
	child.local = ino;
	return child;
}

static int fs_ufs_getattr(const struct fs_node *n, struct stat *st)
{
	struct ufs_stat us;
	int r = ufs_getattr(n->part->fs, n->local, &us);

	if (r < 0)
		return r;
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = us.mode;
	st->st_nlink = us.nlink;
	st->st_uid = us.uid;
	st->st_gid = us.gid;
	st->st_size = (off_t)us.size;
	st->st_blocks = (blkcnt_t)us.blocks;
	st->st_blksize = us.blksize;
	if (S_ISCHR(us.mode) || S_ISBLK(us.mode))
		st->st_rdev = fs_ufs_rdev(us.rdev);
	st->st_atim = us.atime;
	st->st_mtim = us.mtime;
	st->st_ctim = us.ctime;
	return 0;
}

static int fs_ufs_lookup(const struct fs_node *dir, const char *name, struct fuse_entry_param *e)
{
	struct fs_node child;
	uint64_t ino;
	int r = ufs_lookup(dir->part->fs, dir->local, name, strlen(name), &ino);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (ino > UINT32_MAX) /* a node id holds 32 bits of it */
		return -EIO;
	child = fs_ufs_node(dir, (uint32_t)ino);
	return fs_entry(&child, e);
}

static ssize_t fs_ufs_readlink(const struct fs_node *n, char *buf, size_t len)
{
	return ufs_readlink(n->part->fs, n->local, buf, len);
}

static ssize_t fs_ufs_read(const struct fs_node *n, void *buf, size_t len, off_t off)
{
	/* UFS data is scattered over the disk, so it is gathered here, not spliced. */
	return ufs_read(n->part->fs, n->local, buf, len, (uint64_t)off);
}

static int fs_ufs_dirent(void *ctx, const char *name, size_t namelen, uint64_t ino, uint8_t dtype,
			 uint64_t next_off)
{
	struct fs_dirbuf *db = ctx;
	struct fs_node child;
	char nm[NAME_MAX + 1];

	if (namelen > NAME_MAX || ino > UINT32_MAX || next_off > INT64_MAX)
		return -EIO;
	memcpy(nm, name, namelen);
	nm[namelen] = '\0';
	child = fs_ufs_node(db->dir, (uint32_t)ino);
	return fs_dir_add_node(db, nm, &child, (mode_t)dtype << 12, (off_t)next_off);
}

static int fs_ufs_readdir(const struct fs_node *dir, uint64_t fh, off_t off, struct fs_dirbuf *db)
{
	(void)fh;
	return ufs_readdir(dir->part->fs, dir->local, (uint64_t)off, fs_ufs_dirent, db);
}

static int fs_ufs_statfs(const struct fs_node *n, struct statvfs *sv)
{
	const struct ufs_info *info = &n->part->info;

	/* Free counts would need the cylinder groups; a read-only view offers no space anyway. */
	sv->f_bsize = info->bsize;
	sv->f_frsize = info->fsize;
	sv->f_blocks = info->fsize ? info->size_bytes / info->fsize : 0;
	return 0;
}

const struct fs_backend_ops fs_ufs_ops = {
	.timeout = FS_STATIC_TIMEOUT,
	.keep_cache = true,
	.getattr = fs_ufs_getattr,
	.lookup = fs_ufs_lookup,
	.readlink = fs_ufs_readlink,
	.read = fs_ufs_read,
	.readdir = fs_ufs_readdir,
	.statfs = fs_ufs_statfs,
};
