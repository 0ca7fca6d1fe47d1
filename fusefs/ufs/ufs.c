/* ufs.c: the public reader API (ufs.h): open/close, attributes, lookup, readdir, read, readlink, path resolution. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ufs_int.h"

#define UFS_PATH_MAX 4096
#define UFS_SYMLINK_HOPS 8

int ufs_dev_read(struct ufs *fs, void *buf, size_t len, uint64_t off)
{
	int r;

	if (off > fs->dev.size || len > fs->dev.size - off) {
		log_warnx("ufs: read of %zu bytes at %" PRIu64 " past the device end %" PRIu64,
			  len, off, fs->dev.size);
		return -EIO;
	}
	r = fs->dev.pread(fs->dev.ctx, buf, len, off);
	if (r < 0)
		log_warnx("ufs: device read of %zu bytes at %" PRIu64 ": %s", len, off, strerror(-r));
	return r < 0 ? r : 0;
}

int ufs_open(struct ufs **out, const struct ufs_dev *dev)
{
	struct ufs_inode root;
	struct ufs *fs;
	int r;

	if (!(fs = calloc(1, sizeof(*fs))))
		return -ENOMEM;
	fs->dev = *dev;
	if ((r = ufs_sb_find(dev, &fs->g))) {
		free(fs);
		return r;
	}
	pthread_mutex_init(&fs->lock, NULL);
	r = ufs_inode_load(fs, UFS_ROOT_INO, &root);
	if (r == 0 && (root.mode & UFS_IFMT) != UFS_IFDIR) {
		log_warnx("ufs: inode 2: di_mode = 0%o: the root is not a directory", root.mode);
		r = -EIO;
	} else if (r == -ENOENT) {
		log_warnx("ufs: inode 2: di_mode = 0: the root inode is free");
		r = -EIO;
	}
	if (r) {
		ufs_close(fs);
		return r;
	}
	*out = fs;
	return 0;
}

void ufs_close(struct ufs *fs)
{
	if (!fs)
		return;
	ufs_inode_cache_free(fs);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

void ufs_get_info(const struct ufs *fs, struct ufs_info *info)
{
	const struct ufs_geom *g = &fs->g;

	memset(info, 0, sizeof(*info));
	info->version = g->version;
	info->big_endian = g->be;
	info->sblock_offset = g->sblock_off;
	info->bsize = g->bsize;
	info->fsize = g->fsize;
	info->size_bytes = g->size << g->fshift;
	memcpy(info->volname, g->volname, sizeof(info->volname));
	info->id[0] = g->id[0];
	info->id[1] = g->id[1];
}

int ufs_getattr(struct ufs *fs, uint64_t ino, struct ufs_stat *st)
{
	struct ufs_inode ip;
	uint16_t type;
	int r;

	if ((r = ufs_inode_load(fs, ino, &ip)))
		return r;
	type = ip.mode & UFS_IFMT;
	memset(st, 0, sizeof(*st));
	st->ino = ino;
	st->mode = ip.mode;
	st->nlink = ip.nlink;
	st->uid = ip.uid;
	st->gid = ip.gid;
	st->flags = ip.flags;
	st->gen = ip.gen;
	st->size = ip.size;
	st->blocks = ip.blocks;
	st->rdev = (type == UFS_IFCHR || type == UFS_IFBLK) ? ip.db[0] : 0;
	st->blksize = fs->g.bsize;
	st->atime = ip.atime;
	st->mtime = ip.mtime;
	st->ctime = ip.ctime;
	st->birthtime = ip.birthtime;
	return 0;
}

int ufs_lookup(struct ufs *fs, uint64_t dir_ino, const char *name, size_t namelen, uint64_t *ino)
{
	struct ufs_inode dp;
	int r;

	if ((r = ufs_inode_load(fs, dir_ino, &dp)))
		return r;
	return ufs_dir_lookup(fs, &dp, name, namelen, ino);
}

struct readdir_ctx {
	ufs_dirent_fn *cb;
	void *ctx;
};

static int ufs_readdir_one(void *ctx, const struct ufs_dirent *de)
{
	struct readdir_ctx *rc = ctx;

	return rc->cb(rc->ctx, de->name, de->namlen, de->ino, de->type, de->next);
}

int ufs_readdir(struct ufs *fs, uint64_t dir_ino, uint64_t off, ufs_dirent_fn *cb, void *ctx)
{
	struct readdir_ctx rc = { cb, ctx };
	struct ufs_inode dp;
	int r;

	if ((r = ufs_inode_load(fs, dir_ino, &dp)))
		return r;
	return ufs_dir_walk(fs, &dp, off, ufs_readdir_one, &rc);
}

ssize_t ufs_read(struct ufs *fs, uint64_t ino, void *buf, size_t len, uint64_t off)
{
	struct ufs_inode ip;
	int r;

	if ((r = ufs_inode_load(fs, ino, &ip)))
		return r;
	if ((ip.mode & UFS_IFMT) == UFS_IFDIR)
		return -EISDIR;
	if ((ip.mode & UFS_IFMT) != UFS_IFREG)
		return -EINVAL;
	return ufs_inode_read(fs, &ip, buf, len, off);
}

ssize_t ufs_readlink(struct ufs *fs, uint64_t ino, char *buf, size_t len)
{
	struct ufs_inode ip;
	int r;

	if ((r = ufs_inode_load(fs, ino, &ip)))
		return r;
	return ufs_inode_readlink(fs, &ip, buf, len);
}

/*
 * Walks `path` component by component.  Symlinks met before the last
 * component are spliced into the remaining path (at most UFS_SYMLINK_HOPS).
 */
int ufs_resolve(struct ufs *fs, const char *path, uint64_t *ino)
{
	char *work = malloc(2 * UFS_PATH_MAX), *link = work + UFS_PATH_MAX, *p;
	uint64_t cur = UFS_ROOT_INO;
	int hops = 0, r = 0;

	if (!work)
		return -ENOMEM;
	if (strlen(path) >= UFS_PATH_MAX) {
		free(work);
		return -ENAMETOOLONG;
	}
	strcpy(work, path);
	p = work;
	while (r == 0) {
		struct ufs_inode ip;
		size_t n;
		uint64_t next;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		n = strcspn(p, "/");
		if ((r = ufs_inode_load(fs, cur, &ip)))
			break;
		if (n == 1 && p[0] == '.') {
			r = (ip.mode & UFS_IFMT) == UFS_IFDIR ? 0 : -ENOTDIR;
			p += n;
			continue;
		}
		if ((r = ufs_dir_lookup(fs, &ip, p, n, &next)))
			break;
		p += n;
		while (*p == '/')
			p++;
		if (*p && (r = ufs_inode_load(fs, next, &ip)) == 0 &&
		    (ip.mode & UFS_IFMT) == UFS_IFLNK) {
			ssize_t len = ufs_inode_readlink(fs, &ip, link, UFS_PATH_MAX);

			if (len < 0) {
				r = (int)len;
			} else if (++hops > UFS_SYMLINK_HOPS) {
				r = -ELOOP;
			} else if ((size_t)len + 1 + strlen(p) >= UFS_PATH_MAX) {
				r = -ENAMETOOLONG;
			} else {
				/* link + "/" + rest, built in place at the end of the buffer */
				memmove(work + len + 1, p, strlen(p) + 1);
				memcpy(work, link, (size_t)len);
				work[len] = '/';
				p = work;
				if (link[0] == '/')
					next = UFS_ROOT_INO;
				else
					continue; /* relative: stay in cur */
			}
		}
		cur = next;
	}
	free(work);
	if (r == 0)
		*ino = cur;
	return r;
}
