/* fs_ops.c: the fuse_lowlevel_ops table: read operations per backend, EROFS for every write. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs_ops.h"

/* Guest disks do not change under a read-only view; the host tree may, so it is revalidated. */
#define FS_TIMEOUT 3600.0
#define FS_HOST_TIMEOUT 1.0

static struct fs_ctx *fs_ctx(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static double fs_timeout(uint64_t ino)
{
	return TREE_BACKEND(ino) == TREE_HOST ? FS_HOST_TIMEOUT : FS_TIMEOUT;
}

/* FreeBSD's 32-bit dev_t on disk: major in bits 8-15, minor in the rest. */
static dev_t fs_rdev(uint64_t r)
{
	return makedev((r >> 8) & 0xff, (r & 0xff) | ((r >> 8) & 0xffff00));
}

static void fs_ufs_stat(const struct ufs_stat *us, uint64_t ino, uint32_t backend, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = TREE_INO(backend, ino);
	st->st_mode = us->mode;
	st->st_nlink = us->nlink;
	st->st_uid = us->uid;
	st->st_gid = us->gid;
	st->st_size = (off_t)us->size;
	st->st_blocks = (blkcnt_t)us->blocks;
	st->st_blksize = us->blksize;
	if (S_ISCHR(us->mode) || S_ISBLK(us->mode))
		st->st_rdev = fs_rdev(us->rdev);
	st->st_atim = us->atime;
	st->st_mtim = us->mtime;
	st->st_ctim = us->ctime;
}

/* Attributes of any node; st_ino is always the FUSE node id, unique across the view. */
static int fs_stat(struct fs_ctx *c, uint64_t ino, struct stat *st)
{
	uint32_t b = TREE_BACKEND(ino);
	struct tree_part *tp;
	struct ufs_stat us;
	int r;

	if (b == TREE_SYNTH)
		return tree_synth_stat(c->tree, ino, st);
	if (b == TREE_HOST) {
		if (!c->tree->host)
			return -ENOENT;
		r = hostfs_getattr(c->tree->host, TREE_LOCAL(ino), st);
		if (r == 0)
			st->st_ino = ino;
		return r;
	}
	tp = tree_ufs(c->tree, ino);
	if (!tp)
		return -ENOENT;
	r = ufs_getattr(tp->fs, TREE_LOCAL(ino), &us);
	if (r == 0)
		fs_ufs_stat(&us, TREE_LOCAL(ino), b, st);
	return r;
}

static void fs_entry_init(struct fuse_entry_param *e, uint64_t ino)
{
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->attr_timeout = e->entry_timeout = fs_timeout(ino);
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
	/* Host files revalidate after FS_HOST_TIMEOUT; drop their cached pages when they changed. */
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	fs_notify(&c->ready_fd);
	fs_notify(&c->notify_fd);
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_ctx *c = fs_ctx(req);
	uint32_t b = TREE_BACKEND(parent);
	struct fuse_entry_param e;
	uint64_t ino = 0;
	int r;

	if (b == TREE_SYNTH) {
		r = tree_synth_lookup(c->tree, parent, name, &ino);
	} else if (b == TREE_HOST && c->tree->host) {
		uint32_t node;

		fs_entry_init(&e, TREE_INO(TREE_HOST, HOSTFS_ROOT)); /* host timeouts */
		r = hostfs_lookup(c->tree->host, TREE_LOCAL(parent), name, &node, &e.attr);
		if (r == 0 || r == -ENOENT) {
			e.ino = e.attr.st_ino = r ? 0 : TREE_INO(TREE_HOST, node);
			fuse_reply_entry(req, &e);
			return;
		}
	} else {
		struct tree_part *tp = tree_ufs(c->tree, parent);

		r = tp ? ufs_lookup(tp->fs, TREE_LOCAL(parent), name, strlen(name), &ino) : -ENOENT;
		if (r == 0)
			ino = ino > UINT32_MAX ? (r = -EIO, 0) : TREE_INO(b, ino);
	}
	if (r == -ENOENT) {
		/* A negative entry: the kernel remembers the name does not exist. */
		fs_entry_init(&e, 0);
		fuse_reply_entry(req, &e);
		return;
	}
	if (r == 0) {
		fs_entry_init(&e, ino);
		r = fs_stat(c, ino, &e.attr);
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static void fs_forget_one(struct fs_ctx *c, fuse_ino_t ino, uint64_t nlookup)
{
	/* Only host nodes are counted; synthetic and UFS ids are computed, not allocated. */
	if (TREE_BACKEND(ino) == TREE_HOST && c->tree->host)
		hostfs_forget(c->tree->host, TREE_LOCAL(ino), nlookup);
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
	int r = fs_stat(fs_ctx(req), ino, &st);

	(void)fi;
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, fs_timeout(ino));
}

static void fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs_ctx *c = fs_ctx(req);
	uint32_t b = TREE_BACKEND(ino);
	char buf[PATH_MAX];
	ssize_t r;

	if (b == TREE_SYNTH) {
		const char *target = tree_synth_link(c->tree, ino);

		if (target)
			fuse_reply_readlink(req, target);
		else
			fuse_reply_err(req, EINVAL);
		return;
	}
	if (b == TREE_HOST) {
		r = c->tree->host ? hostfs_readlink(c->tree->host, TREE_LOCAL(ino), buf, sizeof(buf)) : -ENOENT;
	} else {
		struct tree_part *tp = tree_ufs(c->tree, ino);

		r = tp ? ufs_readlink(tp->fs, TREE_LOCAL(ino), buf, sizeof(buf)) : -ENOENT;
	}
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_readlink(req, buf);
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	/* Zero-message opens: no OPEN/RELEASE round trips, and the page cache is kept. */
	if (fs_ctx(req)->no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->keep_cache = TREE_BACKEND(ino) != TREE_HOST;
	fuse_reply_open(req, fi);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fs_ctx(req);
	char *buf = malloc(size ? size : 1);
	ssize_t n;

	(void)fi;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off < 0) {
		n = -EINVAL;
	} else if (TREE_BACKEND(ino) == TREE_HOST) {
		n = c->tree->host ? hostfs_read(c->tree->host, TREE_LOCAL(ino), buf, size, off) : -ENOENT;
	} else {
		struct tree_part *tp = tree_ufs(c->tree, ino);

		/* UFS data is scattered over the disk, so it is gathered here, not spliced. */
		n = tp ? ufs_read(tp->fs, TREE_LOCAL(ino), buf, size, (uint64_t)off) : -EISDIR;
	}
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
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
	struct fs_ctx *c = fs_ctx(req);

	fi->fh = 0;
	if (TREE_BACKEND(ino) == TREE_HOST) {
		struct hostfs_dir *d;
		int r = c->tree->host ? hostfs_opendir(c->tree->host, TREE_LOCAL(ino), &d) : -ENOENT;

		if (r < 0) {
			fuse_reply_err(req, -r);
			return;
		}
		fi->fh = (uintptr_t)d;
	} else {
		/* Synthetic and UFS directories never change: the kernel may keep their listing. */
		fi->cache_readdir = 1;
		fi->keep_cache = 1;
	}
	fuse_reply_open(req, fi);
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (TREE_BACKEND(ino) == TREE_HOST && fi->fh)
		hostfs_closedir((struct hostfs_dir *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* One READDIR(PLUS) reply being filled. */
struct fs_dirbuf {
	fuse_req_t req;
	struct fs_ctx *c;
	uint64_t dir;  /* node id of the directory */
	bool plus;
	char *buf;
	size_t size, used;
};

static bool fs_dot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/*
 * Append one entry; 1 when it does not fit.  For READDIRPLUS, e carries the
 * attributes (e->ino == 0: attributes only, no lookup taken).
 */
static int fs_dir_add(struct fs_dirbuf *db, const char *name, const struct fuse_entry_param *e, off_t next)
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

/* An entry whose attributes are not given: only its id and type reach the kernel. */
static int fs_dir_add_bare(struct fs_dirbuf *db, const char *name, uint64_t ino, mode_t type, off_t next)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.attr.st_ino = ino;
	e.attr.st_mode = type;
	return fs_dir_add(db, name, &e, next);
}

static int fs_dir_add_node(struct fs_dirbuf *db, const char *name, uint64_t ino, mode_t type, off_t next)
{
	struct fuse_entry_param e;

	if (!db->plus || fs_dot(name))
		return fs_dir_add_bare(db, name, ino, type, next);
	fs_entry_init(&e, ino);
	if (fs_stat(db->c, ino, &e.attr) < 0)
		return fs_dir_add_bare(db, name, ino, type, next); /* the lookup will report the error */
	return fs_dir_add(db, name, &e, next);
}

static int fs_ufs_dirent(void *ctx, const char *name, size_t namelen, uint64_t ino, uint8_t dtype,
			 uint64_t next_off)
{
	struct fs_dirbuf *db = ctx;
	char nm[NAME_MAX + 1];

	if (namelen > NAME_MAX || ino > UINT32_MAX || next_off > INT64_MAX)
		return -EIO;
	memcpy(nm, name, namelen);
	nm[namelen] = '\0';
	return fs_dir_add_node(db, nm, TREE_INO(TREE_BACKEND(db->dir), ino), (mode_t)dtype << 12,
			       (off_t)next_off);
}

static int fs_host_dirent(void *ctx, const char *name, ino_t ino, unsigned char dtype, off_t next)
{
	struct fs_dirbuf *db = ctx;
	struct fuse_entry_param e;
	uint32_t node;
	int r;

	if (!db->plus || fs_dot(name))
		return fs_dir_add_bare(db, name, ino, (mode_t)dtype << 12, next);
	fs_entry_init(&e, TREE_INO(TREE_HOST, HOSTFS_ROOT)); /* host timeouts */
	r = hostfs_lookup(db->c->tree->host, TREE_LOCAL(db->dir), name, &node, &e.attr);
	if (r < 0)
		return fs_dir_add_bare(db, name, ino, (mode_t)dtype << 12, next);
	e.ino = e.attr.st_ino = TREE_INO(TREE_HOST, node);
	r = fs_dir_add(db, name, &e, next);
	if (r)
		hostfs_forget(db->c->tree->host, node, 1); /* not sent: the kernel took no lookup */
	return r;
}

static int fs_synth_readdir(struct fs_dirbuf *db, off_t off)
{
	size_t n;
	const struct tree_dirent *d = tree_synth_dir(db->c->tree, db->dir, &n);

	if (!d && db->dir != TREE_ROOT_INO && db->dir != TREE_BYLABEL_INO)
		return -ENOTDIR;
	/* Cookies: 1 after ".", 2 after "..", 3 + i after entry i. */
	for (uint64_t i = (uint64_t)off; i < n + 2; i++) {
		int r;

		if (i < 2)
			r = fs_dir_add_node(db, i ? ".." : ".", i ? TREE_ROOT_INO : db->dir, S_IFDIR, (off_t)i + 1);
		else
			r = fs_dir_add_node(db, d[i - 2].name, d[i - 2].ino, d[i - 2].type, (off_t)i + 1);
		if (r)
			return r;
	}
	return 0;
}

static void fs_readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi, bool plus)
{
	struct fs_dirbuf db = { req, fs_ctx(req), ino, plus, malloc(size ? size : 1), size, 0 };
	uint32_t b = TREE_BACKEND(ino);
	int r;

	if (!db.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off < 0) {
		r = -EINVAL;
	} else if (b == TREE_SYNTH) {
		r = fs_synth_readdir(&db, off);
	} else if (b == TREE_HOST) {
		r = fi->fh ? hostfs_readdir((struct hostfs_dir *)(uintptr_t)fi->fh, off, fs_host_dirent, &db)
			   : -EBADF;
	} else {
		struct tree_part *tp = tree_ufs(db.c->tree, ino);

		r = tp ? ufs_readdir(tp->fs, TREE_LOCAL(ino), (uint64_t)off, fs_ufs_dirent, &db) : -ENOENT;
	}
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
	struct fs_ctx *c = fs_ctx(req);
	struct statvfs sv;
	struct tree_part *tp;
	int r = 0;

	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_namemax = NAME_MAX;
	if (TREE_BACKEND(ino) == TREE_HOST && c->tree->host) {
		r = hostfs_statfs(c->tree->host, TREE_LOCAL(ino), &sv);
	} else if ((tp = tree_ufs(c->tree, ino))) {
		/* Free counts would need the cylinder groups; a read-only view offers no space anyway. */
		sv.f_bsize = tp->info.bsize;
		sv.f_frsize = tp->info.fsize;
		sv.f_blocks = tp->info.fsize ? tp->info.size_bytes / tp->info.fsize : 0;
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_statfs(req, &sv);
}

/* Every operation that would change anything. */
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

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	(void)parent, (void)name, (void)mode, (void)fi;
	fs_erofs(req);
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

static void fs_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in, struct fuse_file_info *fi_in,
			       fuse_ino_t ino_out, off_t off_out, struct fuse_file_info *fi_out, size_t len,
			       int flags)
{
	(void)ino_in, (void)off_in, (void)fi_in, (void)ino_out, (void)off_out, (void)fi_out, (void)len,
		(void)flags;
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
	.create = fs_create,
	.setxattr = fs_setxattr,
	.removexattr = fs_removexattr,
	.fallocate = fs_fallocate,
	.copy_file_range = fs_copy_file_range,
};
