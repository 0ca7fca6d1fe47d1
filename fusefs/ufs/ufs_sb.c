/* ufs_sb.c: superblock search (64 KiB, 8 KiB, 0, 256 KiB; either byte order) and its one-time validation. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "span.h"
#include "ufs_int.h"

#define FS_UFS1_MAGIC 0x00011954u
#define FS_UFS2_MAGIC 0x19540119u
#define FS_BAD_MAGIC 0x19960408u
#define FS_FLAGS_UPDATED 0x80u
#define FS_44INODEFMT 2

/* struct fs byte offsets (see doc/ufs-reader.md). */
enum {
	SB_SBLKNO = 8, SB_CBLKNO = 12, SB_IBLKNO = 16, SB_DBLKNO = 20,
	SB_OLD_CGOFFSET = 24, SB_OLD_CGMASK = 28, SB_OLD_SIZE = 36,
	SB_NCG = 44, SB_BSIZE = 48, SB_FSIZE = 52, SB_FRAG = 56,
	SB_BMASK = 72, SB_FMASK = 76, SB_BSHIFT = 80, SB_FSHIFT = 84,
	SB_FRAGSHIFT = 96, SB_FSBTODB = 100, SB_SBSIZE = 104, SB_NINDIR = 116, SB_INOPB = 120,
	SB_ID = 144, SB_IPG = 184, SB_FPG = 188, SB_OLD_FLAGS = 211, SB_VOLNAME = 680,
	SB_MAXBSIZE = 860, SB_SBLOCKLOC = 1000, SB_SIZE = 1080, SB_FLAGS = 1312,
	SB_MAXSYMLINKLEN = 1320, SB_OLD_INODEFMT = 1324, SB_QBMASK = 1336, SB_QFMASK = 1344,
	SB_MAGIC = 1372,
};

static const uint64_t sb_search[] = { 65536, 8192, 0, 262144 };

/* The superblock area is at least UFS_SBSIZE_MIN bytes, so these reads cannot fail. */
static uint32_t sb_u32(struct span s, uint64_t off, bool be)
{
	uint32_t v = 0;

	(void)span_u32(s, off, be, &v);
	return v;
}

static int32_t sb_i32(struct span s, uint64_t off, bool be)
{
	return (int32_t)sb_u32(s, off, be);
}

static uint64_t sb_u64(struct span s, uint64_t off, bool be)
{
	uint64_t v = 0;

	(void)span_u64(s, off, be, &v);
	return v;
}

static bool sb_pow2(int64_t v)
{
	return v > 0 && (v & (v - 1)) == 0;
}

static uint32_t sb_log2(uint64_t v)
{
	uint32_t n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

static int sb_bad(uint64_t at, const char *field, int64_t value, const char *why)
{
	log_warnx("ufs: superblock at %" PRIu64 ": %s = %" PRId64 " %s", at, field, value, why);
	return -EIO;
}

/* Block and fragment sizes: everything else divides by or shifts with these. */
static int sb_check_sizes(struct span s, uint64_t at, bool be, struct ufs_geom *g)
{
	int32_t bsize = sb_i32(s, SB_BSIZE, be), fsize = sb_i32(s, SB_FSIZE, be);
	int32_t frag = sb_i32(s, SB_FRAG, be), sbsize = sb_i32(s, SB_SBSIZE, be);

	if (!sb_pow2(bsize) || bsize < 4096 || bsize > 65536)
		return sb_bad(at, "fs_bsize", bsize, "is not a power of two in [4096, 65536]");
	if (!sb_pow2(fsize) || fsize < 512 || fsize > bsize)
		return sb_bad(at, "fs_fsize", fsize, "is not a power of two in [512, fs_bsize]");
	if (frag != 1 && frag != 2 && frag != 4 && frag != 8)
		return sb_bad(at, "fs_frag", frag, "is not 1, 2, 4 or 8");
	if ((int64_t)fsize * frag != bsize)
		return sb_bad(at, "fs_frag", frag, "does not equal fs_bsize / fs_fsize");
	if (sb_i32(s, SB_BSHIFT, be) != (int32_t)sb_log2((uint64_t)bsize))
		return sb_bad(at, "fs_bshift", sb_i32(s, SB_BSHIFT, be), "is not log2(fs_bsize)");
	if (sb_i32(s, SB_FSHIFT, be) != (int32_t)sb_log2((uint64_t)fsize))
		return sb_bad(at, "fs_fshift", sb_i32(s, SB_FSHIFT, be), "is not log2(fs_fsize)");
	if (sb_i32(s, SB_FRAGSHIFT, be) != (int32_t)sb_log2((uint64_t)frag))
		return sb_bad(at, "fs_fragshift", sb_i32(s, SB_FRAGSHIFT, be), "is not log2(fs_frag)");
	if (sb_i32(s, SB_FSBTODB, be) != (int32_t)sb_log2((uint64_t)fsize / 512))
		return sb_bad(at, "fs_fsbtodb", sb_i32(s, SB_FSBTODB, be), "is not log2(fs_fsize / 512)");
	if (sb_i32(s, SB_BMASK, be) != ~(bsize - 1))
		return sb_bad(at, "fs_bmask", sb_i32(s, SB_BMASK, be), "does not match fs_bsize");
	if (sb_i32(s, SB_FMASK, be) != ~(fsize - 1))
		return sb_bad(at, "fs_fmask", sb_i32(s, SB_FMASK, be), "does not match fs_fsize");
	if (sb_u64(s, SB_QBMASK, be) != (uint64_t)bsize - 1)
		return sb_bad(at, "fs_qbmask", (int64_t)sb_u64(s, SB_QBMASK, be), "does not match fs_bsize");
	if (sb_u64(s, SB_QFMASK, be) != (uint64_t)fsize - 1)
		return sb_bad(at, "fs_qfmask", (int64_t)sb_u64(s, SB_QFMASK, be), "does not match fs_fsize");
	if (sbsize < UFS_SBSIZE_MIN || sbsize > UFS_SBLOCKSIZE)
		return sb_bad(at, "fs_sbsize", sbsize, "is not in [1376, 8192]");
	g->bsize = (uint32_t)bsize;
	g->fsize = (uint32_t)fsize;
	g->frag = (uint32_t)frag;
	g->bshift = sb_log2((uint64_t)bsize);
	g->fshift = sb_log2((uint64_t)fsize);
	return 0;
}

/* Per-version constants: inode size, pointers per block, inodes per block, symlink room. */
static int sb_check_version(struct span s, uint64_t at, bool be, struct ufs_geom *g)
{
	uint32_t ptrsize = g->version == 1 ? 4 : 8;
	int32_t nindir = sb_i32(s, SB_NINDIR, be), msl = sb_i32(s, SB_MAXSYMLINKLEN, be);
	uint32_t inopb = sb_u32(s, SB_INOPB, be);

	g->inosize = g->version == 1 ? 128 : 256;
	if (nindir != (int32_t)(g->bsize / ptrsize))
		return sb_bad(at, "fs_nindir", nindir, "does not equal fs_bsize / pointer size");
	if (inopb != g->bsize / g->inosize)
		return sb_bad(at, "fs_inopb", inopb, "does not equal fs_bsize / inode size");
	if (g->version == 2 && msl != 120)
		return sb_bad(at, "fs_maxsymlinklen", msl, "is not 120 for UFS2");
	if (g->version == 1 && msl != 60 && msl > 0)
		return sb_bad(at, "fs_maxsymlinklen", msl, "is neither 60 nor <= 0 for UFS1");
	if (g->version == 1 && msl <= 0 && sb_i32(s, SB_OLD_INODEFMT, be) >= FS_44INODEFMT)
		return sb_bad(at, "fs_maxsymlinklen", msl, "is <= 0 with the 4.4BSD inode format");
	g->nindir = (uint32_t)nindir;
	g->inopb = inopb;
	g->maxsymlinklen = msl;
	g->old_dirfmt = msl <= 0;
	return 0;
}

/* Cylinder-group shape: counts and the frag layout inside each group. */
static int sb_check_groups(struct span s, uint64_t at, bool be, struct ufs_geom *g)
{
	uint32_t ncg = sb_u32(s, SB_NCG, be), ipg = sb_u32(s, SB_IPG, be);
	int32_t fpg = sb_i32(s, SB_FPG, be);
	int32_t sblkno = sb_i32(s, SB_SBLKNO, be), cblkno = sb_i32(s, SB_CBLKNO, be);
	int32_t iblkno = sb_i32(s, SB_IBLKNO, be), dblkno = sb_i32(s, SB_DBLKNO, be);
	uint32_t inopf = g->inopb / g->frag;

	if (ncg < 1)
		return sb_bad(at, "fs_ncg", ncg, "is 0");
	if (fpg < 3 * (int32_t)g->frag || fpg % (int32_t)g->frag)
		return sb_bad(at, "fs_fpg", fpg, "is below 3 blocks or not a multiple of fs_frag");
	if (ipg < g->inopb || ipg % g->inopb)
		return sb_bad(at, "fs_ipg", ipg, "is not a non-zero multiple of fs_inopb");
	if ((uint64_t)ipg * ncg > (1ull << 32) - g->inopb)
		return sb_bad(at, "fs_ipg", ipg, "times fs_ncg exceeds 2^32 inodes");
	if (sblkno < 0 || cblkno <= sblkno)
		return sb_bad(at, "fs_cblkno", cblkno, "is not after fs_sblkno");
	if (iblkno != cblkno + (int32_t)g->frag)
		return sb_bad(at, "fs_iblkno", iblkno, "is not fs_cblkno + fs_frag");
	if ((int64_t)dblkno != (int64_t)iblkno + ipg / inopf)
		return sb_bad(at, "fs_dblkno", dblkno, "is not fs_iblkno + fs_ipg / INOPF");
	if (dblkno >= fpg)
		return sb_bad(at, "fs_dblkno", dblkno, "is not inside a cylinder group (fs_fpg)");
	g->ncg = ncg;
	g->ipg = ipg;
	g->fpg = (uint32_t)fpg;
	g->iblkno = (uint32_t)iblkno;
	return 0;
}

/* Total size (with the UFS1 compat fields), UFS1 cg rotation, and where the superblock claims to be. */
static int sb_check_layout(struct span s, uint64_t at, bool be, const struct ufs_dev *dev,
			   struct ufs_geom *g)
{
	uint64_t size = sb_u64(s, SB_SIZE, be), loc = sb_u64(s, SB_SBLOCKLOC, be);
	uint8_t old_flags = 0;

	(void)span_u8(s, SB_OLD_FLAGS, &old_flags);
	g->fs_flags = sb_u32(s, SB_FLAGS, be);
	if (g->version == 1) {
		int32_t cgoff = sb_i32(s, SB_OLD_CGOFFSET, be);
		uint32_t cgmask = sb_u32(s, SB_OLD_CGMASK, be);

		/* Pre-UFS2 kernels kept the size and flags only in the old 32-bit fields. */
		if (sb_i32(s, SB_MAXBSIZE, be) != (int32_t)g->bsize)
			size = (uint64_t)(int64_t)sb_i32(s, SB_OLD_SIZE, be);
		if (!(old_flags & FS_FLAGS_UPDATED))
			g->fs_flags = old_flags;
		if (cgoff < 0 || (uint64_t)cgoff * (uint32_t)~cgmask > g->fpg)
			return sb_bad(at, "fs_old_cgoffset", cgoff, "with fs_old_cgmask moves groups past fs_fpg");
		g->old_cgoffset = cgoff;
		g->old_cgmask = cgmask;
		if (loc != 0 && loc != at)
			return sb_bad(at, "fs_sblockloc", (int64_t)loc, "does not match where it was found");
	} else if (loc != at) {
		return sb_bad(at, "fs_sblockloc", (int64_t)loc, "does not match where it was found");
	}
	if (size > (uint64_t)g->ncg * g->fpg || size <= (uint64_t)(g->ncg - 1) * g->fpg)
		return sb_bad(at, "fs_size", (int64_t)size, "does not fit fs_ncg * fs_fpg");
	if (size > dev->size >> g->fshift)
		return sb_bad(at, "fs_size", (int64_t)size, "frags exceed the device");
	g->size = size;
	return 0;
}

static uint64_t sb_maxfilesize(const struct ufs_geom *g)
{
	uint64_t blocks = UFS_NDADDR, n = 1;

	for (int level = 0; level < UFS_NIADDR; level++) {
		n *= g->nindir;
		blocks += n;
	}
	/* At most 12 + 8192^3 blocks of 64 KiB: below 2^56 bytes, no overflow. */
	return blocks * g->bsize - 1;
}

static void sb_fill_names(struct span s, bool be, struct ufs_geom *g)
{
	memcpy(g->volname, s.p + SB_VOLNAME, 32);
	g->volname[32] = '\0';
	g->id[0] = sb_u32(s, SB_ID, be);
	g->id[1] = sb_u32(s, SB_ID + 4, be);
}

static int sb_validate(struct span s, uint64_t at, const struct ufs_dev *dev, struct ufs_geom *g)
{
	int r;

	if ((r = sb_check_sizes(s, at, g->be, g)) ||
	    (r = sb_check_version(s, at, g->be, g)) ||
	    (r = sb_check_groups(s, at, g->be, g)) ||
	    (r = sb_check_layout(s, at, g->be, dev, g)))
		return r;
	g->maxfilesize = sb_maxfilesize(g);
	sb_fill_names(s, g->be, g);
	return 0;
}

/* Which version and byte order the magic at `at` names; 0 when none. */
static int sb_magic(struct span s, bool *be)
{
	uint32_t le = sb_u32(s, SB_MAGIC, false), bem = sb_u32(s, SB_MAGIC, true);

	*be = false;
	if (le == FS_UFS1_MAGIC || le == FS_UFS2_MAGIC)
		return le == FS_UFS1_MAGIC ? 1 : 2;
	*be = true;
	if (bem == FS_UFS1_MAGIC || bem == FS_UFS2_MAGIC)
		return bem == FS_UFS1_MAGIC ? 1 : 2;
	if (le == FS_BAD_MAGIC || bem == FS_BAD_MAGIC)
		return -1;
	return 0;
}

int ufs_sb_find(const struct ufs_dev *dev, struct ufs_geom *g)
{
	uint8_t *buf = malloc(UFS_SBLOCKSIZE);
	int r = -EINVAL;

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(sb_search) / sizeof(sb_search[0]); i++) {
		uint64_t at = sb_search[i];
		size_t len;
		struct span s;
		int version;
		bool be;

		if (dev->size < at + UFS_SBSIZE_MIN)
			continue;
		len = dev->size - at < UFS_SBLOCKSIZE ? (size_t)(dev->size - at) : UFS_SBLOCKSIZE;
		r = dev->pread(dev->ctx, buf, len, at);
		if (r < 0) {
			log_warnx("ufs: reading the superblock at %" PRIu64 ": %s", at, strerror(-r));
			break;
		}
		s = span_make(buf, len);
		version = sb_magic(s, &be);
		if (version < 0) {
			log_warnx("ufs: superblock at %" PRIu64 ": fs_magic = FS_BAD_MAGIC (newfs did not finish)", at);
			r = -EIO;
			break;
		}
		/* UFS1 with 64 KiB blocks keeps its first backup at 64 KiB; the primary is at 8 KiB. */
		if (version == 0 || (version == 1 && at == 65536 &&
				     sb_i32(s, SB_BSIZE, be) == 65536)) {
			r = -EINVAL;
			continue;
		}
		memset(g, 0, sizeof(*g));
		g->version = version;
		g->be = be;
		g->sblock_off = at;
		r = sb_validate(s, at, dev, g);
		break;
	}
	free(buf);
	return r;
}
