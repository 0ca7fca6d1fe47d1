/* fs_synth.c: the view's synthetic nodes (the root, by-label and its links, from tree.c) as a backend. */
#include <errno.h>
#include <stdio.h>

#include "fs_backend.h"

static int fs_synth_getattr(const struct fs_node *n, struct stat *st)
{
	return tree_synth_stat(n->c->tree, n->ino, st);
}

static int fs_synth_lookup(const struct fs_node *dir, const char *name, struct fuse_entry_param *e)
{
	struct fs_node child;
	uint64_t ino;
	int r = tree_synth_lookup(dir->c->tree, dir->ino, name, &ino);

	if (r == -ENOENT)
		return 0;
	/* host0 and the partitions belong to other backends. */
	if (r == 0)
		r = fs_resolve(dir->c, ino, &child);
	return r < 0 ? r : fs_entry(&child, e);
}

static ssize_t fs_synth_readlink(const struct fs_node *n, char *buf, size_t len)
{
	const char *target = tree_synth_link(n->c->tree, n->ino);
	int k;

	if (!target)
		return -EINVAL;
	k = snprintf(buf, len, "%s", target);
	return (size_t)k < len ? k : -ENAMETOOLONG;
}

static ssize_t fs_synth_read(const struct fs_node *n, void *buf, size_t len, off_t off)
{
	(void)n, (void)buf, (void)len, (void)off;
	return -EISDIR; /* directories and links only */
}

static int fs_synth_readdir(const struct fs_node *dir, uint64_t fh, off_t off, struct fs_dirbuf *db)
{
	size_t n;
	const struct tree_dirent *d = tree_synth_dir(dir->c->tree, dir->ino, &n);

	(void)fh;
	if (!d && dir->ino != TREE_ROOT_INO && dir->ino != TREE_BYLABEL_INO)
		return -ENOTDIR;
	/* Cookies: 1 after ".", 2 after "..", 3 + i after entry i. */
	for (uint64_t i = (uint64_t)off; i < n + 2; i++) {
		struct fs_node child;
		int r;

		if (i < 2)
			r = fs_dir_add_bare(db, i ? ".." : ".", i ? TREE_ROOT_INO : dir->ino, S_IFDIR, (off_t)i + 1);
		else if (fs_resolve(dir->c, d[i - 2].ino, &child) < 0)
			r = fs_dir_add_bare(db, d[i - 2].name, d[i - 2].ino, d[i - 2].type, (off_t)i + 1);
		else
			r = fs_dir_add_node(db, d[i - 2].name, &child, d[i - 2].type, (off_t)i + 1);
		if (r)
			return r;
	}
	return 0;
}

const struct fs_backend_ops fs_synth_ops = {
	.timeout = FS_STATIC_TIMEOUT,
	.keep_cache = true,
	.getattr = fs_synth_getattr,
	.lookup = fs_synth_lookup,
	.readlink = fs_synth_readlink,
	.read = fs_synth_read,
	.readdir = fs_synth_readdir,
};
