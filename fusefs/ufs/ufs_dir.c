/* ufs_dir.c: directory walking in 512-byte chunks with every ufs_dirbadentry rule, and name lookup. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "span.h"
#include "ufs_int.h"

struct dir_walk {
	struct ufs *fs;
	const struct ufs_inode *dp;
	uint64_t from;
	ufs_dir_fn *cb;
	void *ctx;
};

static int dir_bad(const struct dir_walk *w, uint64_t at, const char *what, unsigned value,
		   const char *why)
{
	log_warnx("ufs: inode %" PRIu64 ": directory entry at offset %" PRIu64 ": %s = %u %s",
		  w->dp->ino, at, what, value, why);
	return -EIO;
}

/* DIRSIZ: header, name and its NUL, rounded to 4. */
static unsigned dir_size(unsigned namlen)
{
	return (8 + namlen + 1 + 3) & ~3u;
}

static int dir_entry(const struct dir_walk *w, struct span c, uint64_t base, uint32_t pos,
		     uint16_t *reclen_out)
{
	const struct ufs_geom *g = &w->fs->g;
	uint64_t at = base + pos;
	uint32_t ino = 0;
	uint16_t reclen = 0, namlen16 = 0;
	uint8_t type = 0, namlen8 = 0;
	unsigned namlen;
	struct span name;

	if (span_u32(c, pos, g->be, &ino) || span_u16(c, pos + 4, g->be, &reclen))
		return dir_bad(w, at, "d_reclen", 0, "crosses a 512-byte directory block");
	if (g->old_dirfmt) {
		(void)span_u16(c, pos + 6, g->be, &namlen16);
		namlen = namlen16;
	} else {
		(void)span_u8(c, pos + 6, &type);
		(void)span_u8(c, pos + 7, &namlen8);
		namlen = namlen8;
	}
	if (reclen == 0 || (reclen & 3))
		return dir_bad(w, at, "d_reclen", reclen, "is not a non-zero multiple of 4");
	if (reclen > UFS_DIRBLKSIZ - pos)
		return dir_bad(w, at, "d_reclen", reclen, "crosses a 512-byte directory block");
	if (namlen > UFS_MAXNAMLEN)
		return dir_bad(w, at, "d_namlen", namlen, "exceeds 255");
	if (reclen < dir_size(namlen))
		return dir_bad(w, at, "d_reclen", reclen, "is below DIRSIZ(d_namlen)");
	*reclen_out = reclen;
	if (ino == 0)
		return 0; /* free space */
	/* fsck_ffs rejects it too, and no name can look it up (FUSE refuses the listing). */
	if (namlen == 0)
		return dir_bad(w, at, "d_namlen", namlen, "is empty in a used entry");
	if (span_sub(c, pos + 8, namlen + 1, &name))
		return dir_bad(w, at, "d_namlen", namlen, "runs past the chunk");
	if (memchr(name.p, '\0', namlen))
		return dir_bad(w, at, "d_namlen", namlen, "covers a NUL in d_name");
	if (name.p[namlen] != '\0')
		return dir_bad(w, at, "d_namlen", namlen, "is not followed by NUL in d_name");
	if ((uint64_t)ino >= (uint64_t)g->ipg * g->ncg)
		return dir_bad(w, at, "d_ino", ino, "is beyond fs_ipg * fs_ncg");
	if (type == UFS_DT_WHT || at < w->from)
		return 0;
	struct ufs_dirent de = {
		.off = at, .next = at + reclen, .ino = ino, .type = type,
		.namlen = (uint8_t)namlen, .name = (const char *)name.p,
	};
	return w->cb(w->ctx, &de);
}

static int dir_chunk(const struct dir_walk *w, struct span c, uint64_t base)
{
	uint32_t pos = 0;
	uint16_t reclen = 0;
	int r;

	while (pos < UFS_DIRBLKSIZ) {
		if ((r = dir_entry(w, c, base, pos, &reclen)))
			return r;
		pos += reclen;
	}
	return 0;
}

int ufs_dir_walk(struct ufs *fs, const struct ufs_inode *dp, uint64_t off, ufs_dir_fn *cb,
		 void *ctx)
{
	const struct ufs_geom *g = &fs->g;
	struct dir_walk w = { fs, dp, off, cb, ctx };
	uint64_t pos = off & ~(uint64_t)(UFS_DIRBLKSIZ - 1);
	uint8_t *buf;
	int r = 0;

	if ((dp->mode & UFS_IFMT) != UFS_IFDIR)
		return -ENOTDIR;
	if (dp->size % UFS_DIRBLKSIZ || dp->size > fs->dev.size) {
		log_warnx("ufs: inode %" PRIu64 ": di_size = %" PRIu64
			  " of a directory is not a multiple of 512 within the device",
			  dp->ino, dp->size);
		return -EIO;
	}
	if (!(buf = malloc(g->bsize)))
		return -ENOMEM;
	/* One block per device read; entries are checked chunk by chunk from the chunk start. */
	while (pos < dp->size && r == 0) {
		uint64_t n = g->bsize - (pos & (g->bsize - 1));
		ssize_t got;

		if (n > dp->size - pos)
			n = dp->size - pos;
		got = ufs_inode_read(fs, dp, buf, (size_t)n, pos);
		if (got < 0) {
			r = (int)got;
			break;
		}
		for (uint64_t c = 0; c < n && r == 0; c += UFS_DIRBLKSIZ)
			r = dir_chunk(&w, span_make(buf + c, UFS_DIRBLKSIZ), pos + c);
		pos += n;
	}
	free(buf);
	return r;
}

struct dir_find {
	const char *name;
	size_t namelen;
	uint64_t ino;
};

static int dir_match(void *ctx, const struct ufs_dirent *de)
{
	struct dir_find *f = ctx;

	if (de->namlen != f->namelen || memcmp(de->name, f->name, f->namelen) != 0)
		return 0;
	f->ino = de->ino;
	return 1;
}

int ufs_dir_lookup(struct ufs *fs, const struct ufs_inode *dp, const char *name, size_t namelen,
		   uint64_t *ino)
{
	struct dir_find f = { name, namelen, 0 };
	int r;

	if (namelen == 0)
		return -ENOENT;
	if (namelen > UFS_MAXNAMLEN)
		return -ENAMETOOLONG;
	r = ufs_dir_walk(fs, dp, 0, dir_match, &f);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	*ino = f.ino;
	return 0;
}
