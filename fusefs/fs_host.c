/* fs_host.c: host0 (hostfs.c) as a backend: its counted nodes made node ids of the view, revalidated every second. */
#include <errno.h>
#include <string.h>

#include "fs_backend.h"

static struct hostfs *fs_host(const struct fs_node *n)
{
	return n->c->tree->host;
}

static int fs_host_getattr(const struct fs_node *n, struct stat *st)
{
	int r = hostfs_getattr(fs_host(n), n->local, st);

	if (r == 0)
		st->st_ino = n->ino;
	return r;
}

/* The lookup is counted in hostfs: the kernel forgets it, or the caller does when it is not sent. */
static int fs_host_lookup(const struct fs_node *dir, const char *name, struct fuse_entry_param *e)
{
	struct stat st;
	uint32_t node;
	int r = hostfs_lookup(fs_host(dir), dir->local, name, &node, &st);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	memset(e, 0, sizeof(*e));
	e->attr = st;
	e->ino = e->attr.st_ino = TREE_INO(TREE_HOST, node);
	e->attr_timeout = e->entry_timeout = fs_host_ops.timeout;
	return 0;
}

static ssize_t fs_host_readlink(const struct fs_node *n, char *buf, size_t len)
{
	return hostfs_readlink(fs_host(n), n->local, buf, len);
}

static ssize_t fs_host_read(const struct fs_node *n, void *buf, size_t len, off_t off)
{
	return hostfs_read(fs_host(n), n->local, buf, len, off);
}

static int fs_host_opendir(const struct fs_node *n, uint64_t *fh)
{
	struct hostfs_dir *d;
	int r = hostfs_opendir(fs_host(n), n->local, &d);

	if (r == 0)
		*fh = (uintptr_t)d;
	return r;
}

static void fs_host_releasedir(uint64_t fh)
{
	if (fh)
		hostfs_closedir((struct hostfs_dir *)(uintptr_t)fh);
}

static int fs_host_dirent(void *ctx, const char *name, ino_t ino, unsigned char dtype, off_t next)
{
	struct fs_dirbuf *db = ctx;
	struct fuse_entry_param e = { .ino = 0 };
	int r;

	/* Bare entries carry the host's inode number: the kernel takes only the type from them. */
	if (!fs_dir_plus(db, name) || fs_host_lookup(db->dir, name, &e) < 0 || !e.ino)
		return fs_dir_add_bare(db, name, ino, (mode_t)dtype << 12, next);
	r = fs_dir_add(db, name, &e, next);
	if (r)
		hostfs_forget(fs_host(db->dir), TREE_LOCAL(e.ino), 1); /* not sent: the kernel took no lookup */
	return r;
}

static int fs_host_readdir(const struct fs_node *dir, uint64_t fh, off_t off, struct fs_dirbuf *db)
{
	(void)dir; /* the handle stands for it */
	if (!fh)
		return -EBADF;
	return hostfs_readdir((struct hostfs_dir *)(uintptr_t)fh, off, fs_host_dirent, db);
}

static int fs_host_statfs(const struct fs_node *n, struct statvfs *sv)
{
	return hostfs_statfs(fs_host(n), n->local, sv);
}

static void fs_host_forget(const struct fs_node *n, uint64_t nlookup)
{
	hostfs_forget(fs_host(n), n->local, nlookup);
}

/* The host tree may change under the view: short timeouts, no kept pages or listings. */
const struct fs_backend_ops fs_host_ops = {
	.timeout = 1.0,
	.keep_cache = false,
	.getattr = fs_host_getattr,
	.lookup = fs_host_lookup,
	.readlink = fs_host_readlink,
	.read = fs_host_read,
	.opendir = fs_host_opendir,
	.releasedir = fs_host_releasedir,
	.readdir = fs_host_readdir,
	.statfs = fs_host_statfs,
	.forget = fs_host_forget,
};
