/* fs_ops.c: the fuse_lowlevel_ops table: each request's node resolved once to its backend, EROFS for every write. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_backend.h"

static struct fs_ctx *fs_ctx(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* The one place a node id is mapped to its backend (tree.h numbers them), as squashfuse's sqfs_ll_iget. */
int fs_resolve(struct fs_ctx *c, uint64_t ino, struct fs_node *n)
{
	uint32_t b = TREE_BACKEND(ino);

	*n = (struct fs_node){ .c = c, .ino = ino, .local = TREE_LOCAL(ino) };
	if (b == TREE_SYNTH)
		n->ops = &fs_synth_ops;
	else if (b == TREE_HOST && c->tree->host)
		n->ops = &fs_host_ops;
	else if ((n->part = tree_ufs(c->tree, ino)))
		n->ops = &fs_ufs_ops;
	else if ((n->zm = tree_zfs(c->tree, ino)))
		n->ops = &fs_zfs_ops;
	else
		return -ENOENT;
	return 0;
}

int fs_entry(const struct fs_node *n, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = n->ino;
	e->attr_timeout = e->entry_timeout = n->ops->timeout;
	return n->ops->getattr(n, &e->attr);
}

/* One byte to a waiter, then close: the mount answers requests from now on. */
static void fs_notify(int *fd)
{
	const char byte = '\n';

	if (*fd < 0)
		return;
	if (write(*fd, &byte, 1) < 0) {
		/* the waiter went away: nobody is left to tell */
	}
	close(*fd);
	*fd = -1;
}

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs_ctx *c = userdata;

	c->no_open = conn->capable & FUSE_CAP_NO_OPEN_SUPPORT;
	/* Always READDIRPLUS: directories are small and every entry's attributes get cached. */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	/*
	 * O_TRUNC as a SETATTR, which fs_setattr refuses: with zero-message opens an
	 * atomic O_TRUNC never reaches us, and on a mount made rw behind our back
	 * (mount -i -o remount,rw) the kernel would empty its cached copy of the file.
	 */
	conn->want &= ~(unsigned)FUSE_CAP_ATOMIC_O_TRUNC;
	/* Host files revalidate after their timeout; drop their cached pages when they changed. */
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	fs_notify(&c->ready_fd);
	fs_notify(&c->notify_fd);
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct fs_node dir;
	int r = fs_resolve(fs_ctx(req), parent, &dir);

	if (r == 0) {
		/* Left at e.ino 0, a negative entry: the kernel remembers the name does not exist. */
		memset(&e, 0, sizeof(e));
		e.attr_timeout = e.entry_timeout = dir.ops->timeout;
		r = dir.ops->lookup(&dir, name, &e);
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static void fs_forget_one(struct fs_ctx *c, fuse_ino_t ino, uint64_t nlookup)
{
	struct fs_node n;

	if (fs_resolve(c, ino, &n) == 0 && n.ops->forget)
		n.ops->forget(&n, nlookup);
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fs_forget_one(fs_ctx(req), ino, nlookup);
	fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		fs_forget_one(fs_ctx(req), forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	struct fs_node n;
	int r = fs_resolve(fs_ctx(req), ino, &n);

	(void)fi;
	if (r == 0)
		r = n.ops->getattr(&n, &st);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, n.ops->timeout);
}

static void fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[PATH_MAX];
	struct fs_node n;
	ssize_t r = fs_resolve(fs_ctx(req), ino, &n);

	if (r == 0)
		r = n.ops->readlink(&n, buf, sizeof(buf));
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_readlink(req, buf);
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_node n;
	int r;

	/*
	 * On the ro mount the kernel refuses write opens itself.  This answers them
	 * on a mount made rw behind our back, until the first ENOSYS below: from
	 * then on the kernel opens without asking, and each write gets EROFS.  O_TRUNC
	 * never comes here: it is a SETATTR (see fs_init).
	 */
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	/* Zero-message opens: no OPEN/RELEASE round trips, and the page cache is kept. */
	if (fs_ctx(req)->no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	r = fs_resolve(fs_ctx(req), ino, &n);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fi->keep_cache = n.ops->keep_cache;
	fuse_reply_open(req, fi);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_node n;
	char *buf = NULL;
	ssize_t r = fs_resolve(fs_ctx(req), ino, &n);

	(void)fi;
	if (r == 0 && off < 0)
		r = -EINVAL;
	if (r == 0 && !(buf = malloc(size ? size : 1)))
		r = -ENOMEM;
	if (r == 0)
		r = n.ops->read(&n, buf, size, off);
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_node n;
	int r = fs_resolve(fs_ctx(req), ino, &n);

	fi->fh = 0;
	if (r == 0 && n.ops->opendir)
		r = n.ops->opendir(&n, &fi->fh);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	/* Directories that never change: the kernel may keep their listing. */
	fi->cache_readdir = fi->keep_cache = n.ops->keep_cache;
	fuse_reply_open(req, fi);
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_node n;

	if (fs_resolve(fs_ctx(req), ino, &n) == 0 && n.ops->releasedir)
		n.ops->releasedir(fi->fh);
	fuse_reply_err(req, 0);
}

bool fs_dir_plus(const struct fs_dirbuf *db, const char *name)
{
	return db->plus && !(name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')));
}

int fs_dir_add(struct fs_dirbuf *db, const char *name, const struct fuse_entry_param *e, off_t next)
{
	size_t room = db->size - db->used, n;

	if (db->plus)
		n = fuse_add_direntry_plus(db->req, db->buf + db->used, room, name, e, next);
	else
		n = fuse_add_direntry(db->req, db->buf + db->used, room, name, &e->attr, next);
	if (n > room)
		return 1;
	db->used += n;
	return 0;
}

int fs_dir_add_bare(struct fs_dirbuf *db, const char *name, uint64_t ino, mode_t type, off_t next)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.attr.st_ino = ino;
	e.attr.st_mode = type;
	return fs_dir_add(db, name, &e, next);
}

int fs_dir_add_node(struct fs_dirbuf *db, const char *name, const struct fs_node *n, mode_t type, off_t next)
{
	struct fuse_entry_param e;

	/* Attributes that cannot be had leave a bare entry: the lookup will report the error. */
	if (!fs_dir_plus(db, name) || fs_entry(n, &e) < 0)
		return fs_dir_add_bare(db, name, n->ino, type, next);
	return fs_dir_add(db, name, &e, next);
}

static void fs_readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi, bool plus)
{
	struct fs_node dir;
	struct fs_dirbuf db = { .req = req, .dir = &dir, .plus = plus, .size = size };
	int r = fs_resolve(fs_ctx(req), ino, &dir);

	if (r == 0 && off < 0)
		r = -EINVAL;
	if (r == 0 && !(db.buf = malloc(size ? size : 1)))
		r = -ENOMEM;
	if (r == 0)
		r = dir.ops->readdir(&dir, fi->fh, off, &db);
	/* Entries gathered before an error are still delivered; the next call reports it. */
	if (r < 0 && db.used == 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, db.buf, db.used);
	free(db.buf);
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	fs_readdir_common(req, ino, size, off, fi, false);
}

static void fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	fs_readdir_common(req, ino, size, off, fi, true);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	struct fs_node n;
	int r = fs_resolve(fs_ctx(req), ino, &n);

	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_namemax = NAME_MAX;
	if (r == 0 && n.ops->statfs)
		r = n.ops->statfs(&n, &sv);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_statfs(req, &sv);
}

/*
 * Every operation that would change anything.  On the ro mount the kernel
 * answers them all with EROFS and none reaches us; these answer on a mount made
 * rw behind our back (mount -i -o remount,rw skips mount.fuse3, which would
 * refuse), where libfuse's ENOSYS would otherwise be the reply
 * (tests/fuse/test_erofs.sh).  create and copy_file_range are left out: after
 * one ENOSYS the kernel makes a file with mknod and copies with writes.
 */
static void fs_erofs(fuse_req_t req)
{
	fuse_reply_err(req, EROFS);
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	(void)ino, (void)attr, (void)to_set, (void)fi;
	fs_erofs(req);
}

static void fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	fs_erofs(req);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	fs_erofs(req);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent, (void)name;
	fs_erofs(req);
}

static void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link, (void)parent, (void)name;
	fs_erofs(req);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	fs_erofs(req);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	fs_erofs(req);
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)ino, (void)buf, (void)size, (void)off, (void)fi;
	fs_erofs(req);
}

/*
 * Only what a backend names (a ZFS mount's dataset); no listxattr handler,
 * so after its first ENOSYS the kernel stops asking for lists, and tools
 * that copy attributes see none.
 */
static void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct fs_node n;
	char buf[512];
	ssize_t r = fs_resolve(fs_ctx(req), ino, &n);

	if (r == 0)
		r = n.ops->getxattr ? n.ops->getxattr(&n, name, buf, sizeof(buf)) : -ENODATA;
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)r);
	else if ((size_t)r > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, (size_t)r);
}

static void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
			int flags)
{
	(void)ino, (void)name, (void)value, (void)size, (void)flags;
	fs_erofs(req);
}

static void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino, (void)name;
	fs_erofs(req);
}

static void fs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			 struct fuse_file_info *fi)
{
	(void)ino, (void)mode, (void)offset, (void)length, (void)fi;
	fs_erofs(req);
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = fs_init,
	.lookup = fs_lookup,
	.forget = fs_forget,
	.forget_multi = fs_forget_multi,
	.getattr = fs_getattr,
	.readlink = fs_readlink,
	.open = fs_open,
	.read = fs_read,
	.release = fs_release,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.readdirplus = fs_readdirplus,
	.releasedir = fs_releasedir,
	.statfs = fs_statfs,
	.setattr = fs_setattr,
	.mknod = fs_mknod,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_unlink,
	.symlink = fs_symlink,
	.rename = fs_rename,
	.link = fs_link,
	.write = fs_write,
	.getxattr = fs_getxattr,
	.setxattr = fs_setxattr,
	.removexattr = fs_removexattr,
	.fallocate = fs_fallocate,
};
