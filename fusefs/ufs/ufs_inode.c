/* ufs_inode.c: dinode decoding (UFS1/UFS2, either order), the checked block map with its indirect-block cache, file and symlink reads. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "span.h"
#include "ufs_int.h"

/* Fixed-size raw inodes: the offsets below are always inside the span. */
static uint64_t ino_u(struct span s, uint64_t off, int bytes, bool be)
{
	uint16_t v16 = 0;
	uint32_t v32 = 0;
	uint64_t v64 = 0;

	if (bytes == 2) {
		(void)span_u16(s, off, be, &v16);
		return v16;
	}
	if (bytes == 4) {
		(void)span_u32(s, off, be, &v32);
		return v32;
	}
	(void)span_u64(s, off, be, &v64);
	return v64;
}

/* Sign-extends UFS1's 32-bit fields (times, block pointers) to 64 bits. */
static uint64_t ino_s32(struct span s, uint64_t off, bool be)
{
	return (uint64_t)(int64_t)(int32_t)ino_u(s, off, 4, be);
}

int ufs_inode_offset(const struct ufs *fs, uint64_t ino, uint64_t *off)
{
	const struct ufs_geom *g = &fs->g;
	uint64_t cg = ino / g->ipg, frag;

	frag = cg * g->fpg;
	if (g->version == 1)
		frag += (uint64_t)g->old_cgoffset * (cg & (uint32_t)~g->old_cgmask);
	frag += g->iblkno + (uint64_t)((ino % g->ipg) / g->inopb) * g->frag;
	if (frag + g->frag > g->size) {
		log_warnx("ufs: inode %" PRIu64 ": inode block %" PRIu64 " beyond fs_size %" PRIu64,
			  ino, frag, g->size);
		return -EIO;
	}
	*off = (frag << g->fshift) + (ino % g->inopb) * g->inosize;
	return 0;
}

static void inode_decode1(const struct ufs_geom *g, struct span s, struct ufs_inode *ip)
{
	bool be = g->be;

	if (g->old_dirfmt) { /* 4.2BSD inode format: 16-bit ids where 4.4BSD keeps di_freelink */
		ip->uid = (uint32_t)ino_u(s, 4, 2, be);
		ip->gid = (uint32_t)ino_u(s, 6, 2, be);
	} else {
		ip->uid = (uint32_t)ino_u(s, 112, 4, be);
		ip->gid = (uint32_t)ino_u(s, 116, 4, be);
	}
	ip->size = ino_u(s, 8, 8, be);
	ip->atime.tv_sec = (time_t)ino_s32(s, 16, be);
	ip->atime.tv_nsec = (long)(int32_t)ino_u(s, 20, 4, be);
	ip->mtime.tv_sec = (time_t)ino_s32(s, 24, be);
	ip->mtime.tv_nsec = (long)(int32_t)ino_u(s, 28, 4, be);
	ip->ctime.tv_sec = (time_t)ino_s32(s, 32, be);
	ip->ctime.tv_nsec = (long)(int32_t)ino_u(s, 36, 4, be);
	for (int i = 0; i < UFS_NDADDR; i++)
		ip->db[i] = ino_s32(s, 40 + 4 * (uint64_t)i, be);
	for (int i = 0; i < UFS_NIADDR; i++)
		ip->ib[i] = ino_s32(s, 88 + 4 * (uint64_t)i, be);
	(void)span_copy(s, 40, ip->shortlink, 60);
	ip->flags = (uint32_t)ino_u(s, 100, 4, be);
	ip->blocks = ino_u(s, 104, 4, be);
	ip->gen = (uint32_t)ino_u(s, 108, 4, be);
}

static void inode_decode2(const struct ufs_geom *g, struct span s, struct ufs_inode *ip)
{
	bool be = g->be;

	ip->uid = (uint32_t)ino_u(s, 4, 4, be);
	ip->gid = (uint32_t)ino_u(s, 8, 4, be);
	ip->size = ino_u(s, 16, 8, be);
	ip->blocks = ino_u(s, 24, 8, be);
	ip->atime.tv_sec = (time_t)ino_u(s, 32, 8, be);
	ip->mtime.tv_sec = (time_t)ino_u(s, 40, 8, be);
	ip->ctime.tv_sec = (time_t)ino_u(s, 48, 8, be);
	ip->birthtime.tv_sec = (time_t)ino_u(s, 56, 8, be);
	/* UFS2 keeps mtimensec before atimensec. */
	ip->mtime.tv_nsec = (long)(int32_t)ino_u(s, 64, 4, be);
	ip->atime.tv_nsec = (long)(int32_t)ino_u(s, 68, 4, be);
	ip->ctime.tv_nsec = (long)(int32_t)ino_u(s, 72, 4, be);
	ip->birthtime.tv_nsec = (long)(int32_t)ino_u(s, 76, 4, be);
	ip->gen = (uint32_t)ino_u(s, 80, 4, be);
	ip->flags = (uint32_t)ino_u(s, 88, 4, be);
	for (int i = 0; i < UFS_NDADDR; i++)
		ip->db[i] = ino_u(s, 112 + 8 * (uint64_t)i, 8, be);
	for (int i = 0; i < UFS_NIADDR; i++)
		ip->ib[i] = ino_u(s, 208 + 8 * (uint64_t)i, 8, be);
	(void)span_copy(s, 112, ip->shortlink, 120);
}

static bool inode_type_ok(uint16_t mode)
{
	switch (mode & UFS_IFMT) {
	case UFS_IFIFO: case UFS_IFCHR: case UFS_IFDIR: case UFS_IFBLK:
	case UFS_IFREG: case UFS_IFLNK: case UFS_IFSOCK:
		return true;
	default:
		return false;
	}
}

static int inode_check_nsec(uint64_t ino, const char *field, const struct timespec *ts)
{
	if (ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L)
		return 0;
	log_warnx("ufs: inode %" PRIu64 ": %s = %ld is not below 10^9", ino, field, ts->tv_nsec);
	return -EIO;
}

int ufs_inode_load(struct ufs *fs, uint64_t ino, struct ufs_inode *ip)
{
	const struct ufs_geom *g = &fs->g;
	uint8_t raw[256];
	uint64_t off;
	struct span s;
	int r;

	if (ino < UFS_ROOT_INO || ino >= (uint64_t)g->ipg * g->ncg)
		return -ENOENT;
	if ((r = ufs_inode_offset(fs, ino, &off)) || (r = ufs_dev_read(fs, raw, g->inosize, off)))
		return r;
	s = span_make(raw, g->inosize);
	memset(ip, 0, sizeof(*ip));
	ip->ino = ino;
	ip->mode = (uint16_t)ino_u(s, 0, 2, g->be);
	ip->nlink = (uint16_t)ino_u(s, 2, 2, g->be);
	if (ip->mode == 0)
		return -ENOENT; /* a free inode */
	if (g->version == 1)
		inode_decode1(g, s, ip);
	else
		inode_decode2(g, s, ip);
	if (!inode_type_ok(ip->mode)) {
		log_warnx("ufs: inode %" PRIu64 ": di_mode = 0%o has no valid file type", ino, ip->mode);
		return -EIO;
	}
	if ((r = inode_check_nsec(ino, "di_atimensec", &ip->atime)) ||
	    (r = inode_check_nsec(ino, "di_mtimensec", &ip->mtime)) ||
	    (r = inode_check_nsec(ino, "di_ctimensec", &ip->ctime)) ||
	    (r = inode_check_nsec(ino, "di_birthnsec", &ip->birthtime)))
		return r;
	return 0;
}

/* Bytes stored for logical block lbn: only a last direct block may end in a fragment tail. */
static uint64_t inode_blksize(const struct ufs_geom *g, const struct ufs_inode *ip, uint64_t lbn)
{
	uint64_t tail = ip->size & (g->bsize - 1);

	if (lbn < UFS_NDADDR && lbn == ip->size >> g->bshift && tail)
		return (tail + g->fsize - 1) & ~(uint64_t)(g->fsize - 1);
	return g->bsize;
}

static int inode_check_ptr(const struct ufs *fs, const struct ufs_inode *ip, uint64_t daddr,
			   uint64_t bytes, const char *field, uint64_t where, uint64_t idx)
{
	uint64_t frags = bytes >> fs->g.fshift;

	if ((int64_t)daddr > 0 && daddr <= fs->g.size && frags <= fs->g.size - daddr)
		return 0;
	if (field)
		log_warnx("ufs: inode %" PRIu64 ": %s[%" PRIu64 "] = %" PRId64 " beyond fs_size %" PRIu64,
			  ip->ino, field, idx, (int64_t)daddr, fs->g.size);
	else
		log_warnx("ufs: inode %" PRIu64 ": indirect block %" PRIu64 " entry %" PRIu64
			  " = %" PRId64 " beyond fs_size %" PRIu64,
			  ip->ino, where, idx, (int64_t)daddr, fs->g.size);
	return -EIO;
}

static struct ufs_cache_slot *inode_cache_get(struct ufs *fs, uint64_t daddr, int *err)
{
	struct ufs_cache_slot *victim = &fs->cache[0];

	for (int i = 0; i < UFS_CACHE_SLOTS; i++) {
		struct ufs_cache_slot *c = &fs->cache[i];

		if (c->daddr == daddr && c->data) {
			c->used = ++fs->clock;
			return c;
		}
		if (c->used < victim->used)
			victim = c;
	}
	if (!victim->data && !(victim->data = malloc(fs->g.bsize))) {
		*err = -ENOMEM;
		return NULL;
	}
	victim->daddr = 0;
	*err = ufs_dev_read(fs, victim->data, fs->g.bsize, daddr << fs->g.fshift);
	if (*err)
		return NULL;
	victim->daddr = daddr;
	victim->used = ++fs->clock;
	return victim;
}

/* Entry idx of the (already range-checked) indirect block at daddr. */
static int inode_indir(struct ufs *fs, uint64_t daddr, uint64_t idx, uint64_t *out)
{
	struct ufs_cache_slot *c;
	struct span s;
	int r = 0;

	pthread_mutex_lock(&fs->lock);
	c = inode_cache_get(fs, daddr, &r);
	if (c) {
		s = span_make(c->data, fs->g.bsize);
		*out = fs->g.version == 1 ? ino_s32(s, idx * 4, fs->g.be) : ino_u(s, idx * 8, 8, fs->g.be);
	}
	pthread_mutex_unlock(&fs->lock);
	return r;
}

int ufs_inode_bmap(struct ufs *fs, const struct ufs_inode *ip, uint64_t lbn, uint64_t *daddr)
{
	const struct ufs_geom *g = &fs->g;
	uint64_t span = 1, ptr, rest = lbn;
	int level, r;

	if (lbn < UFS_NDADDR) {
		*daddr = ip->db[lbn];
		if (!*daddr)
			return 0;
		return inode_check_ptr(fs, ip, *daddr, inode_blksize(g, ip, lbn), "di_db", 0, lbn);
	}
	rest -= UFS_NDADDR;
	for (level = 0; level < UFS_NIADDR; level++) {
		span *= g->nindir;
		if (rest < span)
			break;
		rest -= span;
	}
	if (level == UFS_NIADDR) {
		log_warnx("ufs: inode %" PRIu64 ": block %" PRIu64 " beyond triple indirect", ip->ino, lbn);
		return -EIO;
	}
	ptr = ip->ib[level];
	if (ptr && (r = inode_check_ptr(fs, ip, ptr, g->bsize, "di_ib", 0, (uint64_t)level)))
		return r;
	while (ptr) {
		uint64_t blk = ptr, idx;

		span /= g->nindir;
		idx = rest / span;
		rest %= span;
		if ((r = inode_indir(fs, blk, idx, &ptr)))
			return r;
		if (ptr && (r = inode_check_ptr(fs, ip, ptr, g->bsize, NULL, blk, idx)))
			return r;
		if (span == 1)
			break;
	}
	*daddr = ptr;
	return 0;
}

ssize_t ufs_inode_read(struct ufs *fs, const struct ufs_inode *ip, void *buf, size_t len,
		       uint64_t off)
{
	const struct ufs_geom *g = &fs->g;
	uint8_t *out = buf;
	uint64_t run_dev = 0;
	size_t done = 0, run_len = 0, run_at = 0;
	int r;

	if (ip->size > g->maxfilesize) {
		log_warnx("ufs: inode %" PRIu64 ": di_size = %" PRIu64 " exceeds fs_maxfilesize %" PRIu64,
			  ip->ino, ip->size, g->maxfilesize);
		return -EIO;
	}
	if (off >= ip->size)
		return 0;
	if (len > ip->size - off)
		len = (size_t)(ip->size - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	/* Physically adjacent blocks are gathered into one device read. */
	while (done < len) {
		uint64_t pos = off + done, lbn = pos >> g->bshift, boff = pos & (g->bsize - 1), daddr;
		size_t n = g->bsize - boff < len - done ? (size_t)(g->bsize - boff) : len - done;

		if ((r = ufs_inode_bmap(fs, ip, lbn, &daddr)))
			return r;
		if (run_len && (!daddr || (daddr << g->fshift) + boff != run_dev + run_len)) {
			if ((r = ufs_dev_read(fs, out + run_at, run_len, run_dev)))
				return r;
			run_len = 0;
		}
		if (!daddr) {
			memset(out + done, 0, n);
		} else {
			if (!run_len) {
				run_dev = (daddr << g->fshift) + boff;
				run_at = done;
			}
			run_len += n;
		}
		done += n;
	}
	if (run_len && (r = ufs_dev_read(fs, out + run_at, run_len, run_dev)))
		return r;
	return (ssize_t)len;
}

ssize_t ufs_inode_readlink(struct ufs *fs, const struct ufs_inode *ip, char *buf, size_t len)
{
	const struct ufs_geom *g = &fs->g;
	ssize_t r;

	if ((ip->mode & UFS_IFMT) != UFS_IFLNK)
		return -EINVAL;
	if (ip->size > UFS_SYMLINK_MAX) {
		log_warnx("ufs: inode %" PRIu64 ": di_size = %" PRIu64 " exceeds the symlink limit %d",
			  ip->ino, ip->size, UFS_SYMLINK_MAX);
		return -EIO;
	}
	if (ip->size >= len)
		return -ENAMETOOLONG;
	if (g->maxsymlinklen > 0 && ip->size < (uint64_t)g->maxsymlinklen) {
		memcpy(buf, ip->shortlink, (size_t)ip->size);
	} else {
		r = ufs_inode_read(fs, ip, buf, (size_t)ip->size, 0);
		if (r < 0)
			return r;
	}
	buf[ip->size] = '\0';
	return (ssize_t)ip->size;
}

void ufs_inode_cache_free(struct ufs *fs)
{
	for (int i = 0; i < UFS_CACHE_SLOTS; i++)
		free(fs->cache[i].data);
}
