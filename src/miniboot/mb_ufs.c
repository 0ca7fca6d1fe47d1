/* mb_ufs.c: a read-only UFS1/UFS2 (little-endian) reader over diskread, as a file system backend. */
#include "mb.h"

#define UFS1_MAGIC 0x00011954u
#define UFS2_MAGIC 0x19540119u
#define UFS_ROOTINO 2
#define UFS_NDADDR 12
#define UFS_SBSIZE 1376
#define DIRBLKSIZ 512
#define MAXSYMLINKS 8

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int ilog2(uint32_t v)
{
	int n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Validate a superblock candidate; 0, FBSD_EINVAL (not UFS) or FBSD_EIO (corrupt). */
static int ufs_check_sb(struct mb *mb, struct mb_ufs *u, const uint8_t *sb, uint64_t sbloc)
{
	uint32_t magic = rd32(sb + 1372);

	if (magic == UFS2_MAGIC)
		u->version = 2;
	else if (magic == UFS1_MAGIC)
		u->version = 1;
	else
		return FBSD_EINVAL;
	u->bsize = rd32(sb + 48);
	u->fsize = rd32(sb + 52);
	u->frag = rd32(sb + 56);
	/* A UFS1 backup superblock sits at 64 KiB when blocks are 64 KiB. */
	if (u->version == 1 && sbloc == 65536 && u->bsize == 65536)
		return FBSD_EINVAL;
	u->bshift = rd32(sb + 80);
	u->fshift = rd32(sb + 84);
	u->iblkno = rd32(sb + 16);
	u->ncg = rd32(sb + 44);
	u->ipg = rd32(sb + 184);
	u->fpg = rd32(sb + 188);
	u->nindir = rd32(sb + 116);
	u->inopb = rd32(sb + 120);
	u->old_cgoffset = (int32_t)rd32(sb + 24);
	u->old_cgmask = (int32_t)rd32(sb + 28);
	u->maxsymlinklen = (int32_t)rd32(sb + 1320);
	u->nfrags = u->version == 2 ? rd64(sb + 1080) : rd32(sb + 36);
	u->inosize = u->version == 2 ? 256 : 128;
	u->ptrsize = u->version == 2 ? 8 : 4;

	const char *bad = NULL;
	if (!pow2(u->bsize) || u->bsize < 4096 || u->bsize > MB_UFS_MAXBSIZE)
		bad = "fs_bsize";
	else if (!pow2(u->fsize) || u->fsize < 512 || u->fsize > u->bsize)
		bad = "fs_fsize";
	else if (u->frag != u->bsize / u->fsize || u->frag > 8)
		bad = "fs_frag";
	else if (u->bshift != (uint32_t)ilog2(u->bsize) || u->fshift != (uint32_t)ilog2(u->fsize))
		bad = "fs_bshift/fs_fshift";
	else if (u->inopb != u->bsize / u->inosize)
		bad = "fs_inopb";
	else if (u->nindir != u->bsize / u->ptrsize)
		bad = "fs_nindir";
	else if (u->ncg == 0 || u->ipg < u->inopb || u->ipg % u->inopb ||
		 (uint64_t)u->ipg * u->ncg >= (1ull << 32))
		bad = "fs_ncg/fs_ipg";
	else if (u->fpg < 3 * u->frag || u->iblkno >= u->fpg)
		bad = "fs_fpg/fs_iblkno";
	else if (u->nfrags == 0 || u->nfrags > u->part_size / u->fsize)
		bad = "fs_size";
	else if (u->maxsymlinklen <= 0 || (uint32_t)u->maxsymlinklen != (UFS_NDADDR + 3) * u->ptrsize)
		bad = "fs_maxsymlinklen";
	else if (u->version == 1 && (u->old_cgoffset < 0 || u->old_cgoffset > (int32_t)u->fpg))
		bad = "fs_old_cgoffset";
	if (bad) {
		mb_printf(mb, "miniboot: %s UFS%d superblock: bad %s\n", mb->currdev, u->version, bad);
		return FBSD_EIO;
	}
	return 0;
}

int mb_ufs_mount(struct mb *mb, int unit, uint64_t off, uint64_t size)
{
	static const uint32_t sblock_search[] = { 65536, 8192, 0, 262144 };
	struct mb_ufs *u = &mb->ufs;
	uint8_t sb[UFS_SBSIZE];

	u->unit = unit;
	u->part_off = off;
	u->part_size = size;
	for (int i = 0; i < 3; i++)
		u->ind_addr[i] = 0;
	for (size_t i = 0; i < sizeof(sblock_search) / sizeof(sblock_search[0]); i++) {
		uint64_t loc = sblock_search[i];
		int err;

		if (loc + UFS_SBSIZE > size)
			continue;
		if ((err = mb_disk_read(mb, unit, off + loc, sb, sizeof(sb))))
			return err;
		err = ufs_check_sb(mb, u, sb, loc);
		if (err != FBSD_EINVAL)
			return err;
	}
	return FBSD_EINVAL;
}

/* Read n bytes at byte boff of fragment address frag, inside the partition. */
static int ufs_read_frag(struct mb *mb, uint64_t frag, uint32_t boff, void *buf, size_t n)
{
	struct mb_ufs *u = &mb->ufs;
	uint64_t at;

	if (frag >= u->nfrags)
		return FBSD_EIO;
	at = frag * u->fsize + boff;
	if (at > u->part_size || n > u->part_size - at)
		return FBSD_EIO;
	return mb_disk_read(mb, u->unit, u->part_off + at, buf, n);
}

static int ufs_read_inode(struct mb *mb, uint64_t ino, uint8_t *dino)
{
	struct mb_ufs *u = &mb->ufs;
	uint64_t cg, cgstart, fsba;
	uint32_t in_cg;

	if (ino < UFS_ROOTINO || ino >= (uint64_t)u->ipg * u->ncg)
		return FBSD_EIO;
	cg = ino / u->ipg;
	in_cg = (uint32_t)(ino % u->ipg);
	cgstart = cg * u->fpg;
	if (u->version == 1)
		cgstart += (uint64_t)u->old_cgoffset * (cg & ~(uint64_t)(uint32_t)u->old_cgmask);
	fsba = cgstart + u->iblkno + (uint64_t)(in_cg / u->inopb) * u->frag;
	memset(dino, 0, 256);
	return ufs_read_frag(mb, fsba, (in_cg % u->inopb) * u->inosize, dino, u->inosize);
}

static uint16_t di_mode(const uint8_t *d)
{
	return rd16(d);
}

static uint64_t di_size(const struct mb_ufs *u, const uint8_t *d)
{
	return u->version == 2 ? rd64(d + 16) : rd64(d + 8);
}

static uint64_t di_ptr(const struct mb_ufs *u, const uint8_t *p)
{
	return u->version == 2 ? rd64(p) : rd32(p);
}

/* Fragment address of logical block lbn, 0 for a hole. */
static int ufs_bmap(struct mb *mb, const uint8_t *dino, uint64_t lbn, uint64_t *addr)
{
	struct mb_ufs *u = &mb->ufs;
	const uint8_t *db = dino + (u->version == 2 ? 112 : 40);
	const uint8_t *ib = dino + (u->version == 2 ? 208 : 88);
	uint64_t span = 1;

	if (lbn < UFS_NDADDR) {
		*addr = di_ptr(u, db + lbn * u->ptrsize);
		return 0;
	}
	lbn -= UFS_NDADDR;
	for (int level = 0; level < 3; level++) {
		span *= u->nindir;
		if (lbn >= span) {
			lbn -= span;
			continue;
		}
		uint64_t a = di_ptr(u, ib + level * u->ptrsize), sub = span;

		for (int l = level; l >= 0; l--) {
			int err;

			if (a == 0)
				break;
			if (u->ind_addr[l] != a) {
				u->ind_addr[l] = 0;
				if ((err = ufs_read_frag(mb, a, 0, u->ind_buf[l], u->bsize)))
					return err;
				u->ind_addr[l] = a;
			}
			sub /= u->nindir;
			a = di_ptr(u, u->ind_buf[l] + (lbn / sub) % u->nindir * u->ptrsize);
		}
		*addr = a;
		return 0;
	}
	return FBSD_EFBIG;
}

/* Up to len bytes of the inode's data at pos; *got is what was read (0 at EOF). */
static int ufs_read_data(struct mb *mb, const uint8_t *dino, uint64_t pos, void *buf, size_t len,
			 size_t *got)
{
	struct mb_ufs *u = &mb->ufs;
	uint64_t size = di_size(u, dino);
	uint8_t *out = buf;

	*got = 0;
	if (pos >= size)
		return 0;
	if (len > size - pos)
		len = (size_t)(size - pos);
	while (*got < len) {
		uint64_t p = pos + *got, addr;
		uint32_t boff = (uint32_t)(p & (u->bsize - 1));
		size_t n = u->bsize - boff;
		int err;

		if (n > len - *got)
			n = len - *got;
		if ((err = ufs_bmap(mb, dino, p >> u->bshift, &addr)))
			return err;
		if (addr == 0)
			memset(out + *got, 0, n);
		else if ((err = ufs_read_frag(mb, addr, boff, out + *got, n)))
			return err;
		*got += n;
	}
	return 0;
}

/*
 * The next live entry of directory dino at *pos (advancing it).  Returns 0
 * with ino 0 at the end, FBSD_EIO for an entry FreeBSD would call bad.
 */
static int ufs_dir_next(struct mb *mb, const uint8_t *dino, uint64_t *pos, uint32_t *ino,
			struct mb_dirent *d)
{
	struct mb_ufs *u = &mb->ufs;
	uint64_t size = di_size(u, dino);

	*ino = 0;
	while (*pos < size) {
		uint64_t chunk = *pos & ~(uint64_t)(DIRBLKSIZ - 1);
		uint32_t at = (uint32_t)(*pos - chunk), reclen, namlen;
		size_t got;
		int err;

		if ((err = ufs_read_data(mb, dino, chunk, u->dir_buf, DIRBLKSIZ, &got)))
			return err;
		if (at + 8 > got)
			return FBSD_EIO;
		const uint8_t *e = u->dir_buf + at;
		reclen = rd16(e + 4);
		namlen = e[7];
		if (reclen < 8 || (reclen & 3) || reclen > got - at ||
		    reclen < ((8 + namlen + 1 + 3) & ~3u) || e[8 + namlen] != '\0' ||
		    mb_strlen((const char *)e + 8) != namlen) {
			mb_printf(mb, "miniboot: %s corrupt directory entry at offset %lu\n",
				  mb->currdev, *pos);
			return FBSD_EIO;
		}
		*pos += reclen;
		if (rd32(e) == 0)
			continue;
		*ino = rd32(e);
		memcpy(d->name, e + 8, namlen + 1);
		d->type = e[6];
		return 0;
	}
	return 0;
}

static int ufs_lookup(struct mb *mb, const uint8_t *dir, const char *name, size_t nlen,
		      uint64_t *ino)
{
	struct mb_dirent d;
	uint64_t pos = 0;
	uint32_t i;

	for (;;) {
		int err = ufs_dir_next(mb, dir, &pos, &i, &d);

		if (err)
			return err;
		if (i == 0)
			return FBSD_ENOENT;
		if (mb_strlen(d.name) == nlen && memcmp(d.name, name, nlen) == 0) {
			*ino = i;
			return 0;
		}
	}
}

/* The target of symlink inode dino into buf (NUL-terminated). */
static int ufs_readlink(struct mb *mb, const uint8_t *dino, char *buf, size_t bufsz)
{
	struct mb_ufs *u = &mb->ufs;
	uint64_t size = di_size(u, dino);
	size_t got;
	int err;

	if (size >= bufsz)
		return FBSD_ENAMETOOLONG;
	if (size < (uint64_t)u->maxsymlinklen) {
		memcpy(buf, dino + (u->version == 2 ? 112 : 40), (size_t)size);
	} else {
		if ((err = ufs_read_data(mb, dino, 0, buf, (size_t)size, &got)))
			return err;
		if (got != size)
			return FBSD_EIO;
	}
	buf[size] = '\0';
	return 0;
}

/* Walk an absolute or relative-to-root path, following symlinks, to an inode. */
static int ufs_namei(struct mb *mb, const char *path, uint64_t *out, uint8_t *dino)
{
	char buf[MB_PATH_MAX], link[MB_PATH_MAX];
	uint64_t cur = UFS_ROOTINO, ino;
	const char *p = buf;
	int hops = 0, err;

	if (mb_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return FBSD_ENAMETOOLONG;
	if ((err = ufs_read_inode(mb, cur, dino)))
		return err;
	for (;;) {
		const char *comp;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		comp = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - comp);
		if ((di_mode(dino) & FBSD_S_IFMT) != FBSD_S_IFDIR)
			return FBSD_ENOTDIR;
		if ((err = ufs_lookup(mb, dino, comp, n, &ino)))
			return err;
		if ((err = ufs_read_inode(mb, ino, dino)))
			return err;
		if ((di_mode(dino) & FBSD_S_IFMT) != FBSD_S_IFLNK) {
			cur = ino;
			continue;
		}
		if (++hops > MAXSYMLINKS)
			return FBSD_ELOOP;
		if ((err = ufs_readlink(mb, dino, link, sizeof(link))))
			return err;
		if (mb_strlcat(link, "/", sizeof(link)) >= sizeof(link) ||
		    mb_strlcat(link, p, sizeof(link)) >= sizeof(link))
			return FBSD_ENAMETOOLONG;
		mb_strlcpy(buf, link, sizeof(buf));
		p = buf;
		if (*p == '/')
			cur = UFS_ROOTINO;
		if ((err = ufs_read_inode(mb, cur, dino)))
			return err;
	}
	*out = cur;
	return 0;
}

static int ufs_open(struct mb_file *f, const char *path)
{
	struct mb_ufs *u = &f->mb->ufs;
	int err = ufs_namei(f->mb, path, &f->ino, f->dino);

	if (err)
		return err;
	f->mode = di_mode(f->dino);
	f->size = di_size(u, f->dino);
	f->pos = 0;
	return 0;
}

static int ufs_close(struct mb_file *f)
{
	(void)f;
	return 0;
}

static int ufs_read(struct mb_file *f, void *buf, size_t size, size_t *resid)
{
	size_t got = 0;
	int err;

	if ((f->mode & FBSD_S_IFMT) == FBSD_S_IFDIR)
		return FBSD_EISDIR;
	err = ufs_read_data(f->mb, f->dino, f->pos, buf, size, &got);
	f->pos += got;
	*resid = size - got;
	return err;
}

static int ufs_write(struct mb_file *f, const void *buf, size_t size, size_t *resid)
{
	(void)f;
	(void)buf;
	*resid = size;
	return FBSD_EROFS;
}

static int ufs_seek(struct mb_file *f, uint64_t off, int whence)
{
	if (whence != FBSD_SEEK_SET)
		return FBSD_EINVAL;
	f->pos = off;
	return 0;
}

static int ufs_stat(struct mb_file *f, struct mb_stat *st)
{
	st->mode = f->mode;
	st->size = f->size;
	return 0;
}

static int ufs_readdir(struct mb_file *f, struct mb_dirent *d)
{
	uint32_t ino;
	int err;

	if ((f->mode & FBSD_S_IFMT) != FBSD_S_IFDIR)
		return FBSD_ENOTDIR;
	if ((err = ufs_dir_next(f->mb, f->dino, &f->pos, &ino, d)))
		return err;
	return ino ? 0 : FBSD_ENOENT;
}

const struct mb_fsops ufs_fsops = {
	"ufs", ufs_open, ufs_close, ufs_read, ufs_write, ufs_seek, ufs_stat, ufs_readdir,
};
