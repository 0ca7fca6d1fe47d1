/* zfs_codec.c: decompressing ZFS blocks (lzjb, zle, gzip, lz4, zstd, stored) into exactly their logical size. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <lz4.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_d_format: ZFS's frames have no magic number */
#include <zstd.h>

#include "zfs_int.h"

static const char *const compress_names[ZCP_COUNT] = {
	[ZCP_INHERIT] = "inherit", [ZCP_ON] = "on", [ZCP_OFF] = "off", [ZCP_LZJB] = "lzjb",
	[ZCP_EMPTY] = "empty", [ZCP_GZIP1] = "gzip-1", [ZCP_GZIP1 + 1] = "gzip-2",
	[ZCP_GZIP1 + 2] = "gzip-3", [ZCP_GZIP1 + 3] = "gzip-4", [ZCP_GZIP1 + 4] = "gzip-5",
	[ZCP_GZIP1 + 5] = "gzip-6", [ZCP_GZIP1 + 6] = "gzip-7", [ZCP_GZIP1 + 7] = "gzip-8",
	[ZCP_GZIP9] = "gzip-9", [ZCP_ZLE] = "zle", [ZCP_LZ4] = "lz4", [ZCP_ZSTD] = "zstd",
};

const char *zfs_compress_name(unsigned comp)
{
	return comp < ZCP_COUNT ? compress_names[comp] : "unknown";
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * lz4, gzip and zstd accept a stream that decodes to fewer bytes than the
 * logical size, as ZFS does (it checks only the decoder's status); ZFS
 * leaves the rest of its buffer as it was, we make it zeros.
 */
static int fill_short(uint8_t *dst, size_t got, size_t dlen)
{
	if (got > dlen)
		return -EIO;
	memset(dst + got, 0, dlen - got);
	return 0;
}

/* ---- lzjb: ZFS's own LZ variant (lzjb.c) ---- */
#define LZJB_NBBY 8
#define LZJB_MATCH_BITS 6
#define LZJB_MATCH_MIN 3
#define LZJB_OFFSET_MASK ((1u << (16 - LZJB_MATCH_BITS)) - 1)

/*
 * A copy map byte flags each of the next 8 items: a literal byte, or a
 * 2-byte (length, offset) back-reference into what is already decoded.
 * Decoding stops once dlen bytes are out (a last copy may be cut short,
 * as in ZFS); running out of source first is corruption.
 */
static int lzjb_decompress(const uint8_t *src, size_t slen, uint8_t *dst, size_t dlen)
{
	size_t si = 0, di = 0;
	unsigned copymap = 0, copymask = 1u << (LZJB_NBBY - 1);

	while (di < dlen) {
		if ((copymask <<= 1) == (1u << LZJB_NBBY)) {
			if (si >= slen)
				return -EIO;
			copymask = 1;
			copymap = src[si++];
		}
		if (!(copymap & copymask)) {
			if (si >= slen)
				return -EIO;
			dst[di++] = src[si++];
			continue;
		}
		if (slen - si < 2)
			return -EIO;
		size_t mlen = (src[si] >> (LZJB_NBBY - LZJB_MATCH_BITS)) + LZJB_MATCH_MIN;
		size_t off = ((unsigned)src[si] << LZJB_NBBY | src[si + 1]) & LZJB_OFFSET_MASK;
		si += 2;
		/* The compressor never makes offset 0: ZFS would copy a byte onto itself. */
		if (off == 0 || off > di)
			return -EIO;
		/* Byte by byte: a copy may overlap what it writes (a run). */
		for (; mlen > 0 && di < dlen; mlen--, di++)
			dst[di] = dst[di - off];
	}
	return 0;
}

/* ---- zle: zero-length encoding (zle.c) ---- */
#define ZLE_N 64 /* zio_compress_table's level for ZIO_COMPRESS_ZLE */

/* A length byte b: b < n, b + 1 literal bytes follow; else b - n + 1 zeros.  It must end exactly at dlen. */
static int zle_decompress(const uint8_t *src, size_t slen, uint8_t *dst, size_t dlen)
{
	size_t si = 0, di = 0;

	while (si < slen && di < dlen) {
		size_t len = 1 + (size_t)src[si++];

		if (len <= ZLE_N) {
			if (len > slen - si || len > dlen - di)
				return -EIO;
			memcpy(dst + di, src + si, len);
			si += len;
		} else {
			len -= ZLE_N;
			if (len > dlen - di)
				return -EIO;
			memset(dst + di, 0, len);
		}
		di += len;
	}
	return di == dlen ? 0 : -EIO;
}

/* ---- gzip: a zlib stream (gzip.c); what follows its end is the sector's padding ---- */
static int gzip_decompress(const uint8_t *src, size_t slen, uint8_t *dst, size_t dlen)
{
	uLongf got = dlen;

	_Static_assert(sizeof(uLong) >= sizeof(size_t), "zlib lengths hold a size_t");
	if (uncompress(dst, &got, src, slen) != Z_OK)
		return -EIO;
	return fill_short(dst, got, dlen);
}

/* ---- lz4: the compressed length (BE32), then an LZ4 block (lz4_zfs.c) ---- */
static int lz4_decompress(const uint8_t *src, size_t slen, uint8_t *dst, size_t dlen)
{
	if (slen < 4 || dlen > INT_MAX)
		return -EIO;
	uint32_t clen = get_be32(src);

	if (clen > slen - 4 || clen > INT_MAX)
		return -EIO;
	int got = LZ4_decompress_safe((const char *)src + 4, (char *)dst, (int)clen, (int)dlen);

	if (got < 0)
		return -EIO;
	return fill_short(dst, (size_t)got, dlen);
}

/* ---- zstd: zfs_zstdhdr (BE32 compressed length, BE32 version and level), then a magicless frame ---- */
#define ZSTD_ZFS_HDR 8

/*
 * The level byte, which ZFS checks as a sign of corruption.  Old writers
 * put the 24-bit version and the level in a bitfield whose layout followed
 * the host, so ZFS finds the level by where the version's zero top byte is
 * (zfs_get_hdrmeta); valid levels are 1-19 and the fast levels' codes
 * 103-123 (enum zio_zstd_levels).
 */
static bool zstd_level_ok(uint32_t raw)
{
	unsigned shift, level;

	for (shift = 0; shift < 4; shift++)
		if (((raw >> (8 * shift)) & 0xff) == 0)
			break;
	if (shift == 4)
		return false;
	level = (shift == 0 || shift == 2) ? raw >> 24 : raw & 0xff;
	return (level >= 1 && level <= 19) || (level >= 103 && level <= 123);
}

/* A context per call: the reader is multi-threaded, and zstd blocks are opt-in and few. */
static int zstd_decompress(const uint8_t *src, size_t slen, uint8_t *dst, size_t dlen)
{
	if (slen < ZSTD_ZFS_HDR)
		return -EIO;
	uint32_t clen = get_be32(src);

	if (clen > slen - ZSTD_ZFS_HDR || !zstd_level_ok(get_be32(src + 4)))
		return -EIO;
	ZSTD_DCtx *dctx = ZSTD_createDCtx();

	if (!dctx)
		return -ENOMEM;
	size_t got = ZSTD_DCtx_setParameter(dctx, ZSTD_d_format, ZSTD_f_zstd1_magicless);

	if (!ZSTD_isError(got))
		got = ZSTD_decompressDCtx(dctx, dst, dlen, src + ZSTD_ZFS_HDR, clen);
	ZSTD_freeDCtx(dctx);
	if (ZSTD_isError(got))
		return -EIO;
	return fill_short(dst, got, dlen);
}

/*
 * OFF and EMPTY blocks are stored as they are (EMPTY only turns an all-zero
 * block into a hole): the physical size covers the logical one.
 */
static int stored_copy(const uint8_t *src, size_t slen, uint8_t *dst, size_t dlen)
{
	if (slen < dlen)
		return -EIO;
	memcpy(dst, src, dlen);
	return 0;
}

/* INHERIT and ON are resolved before a block is written: on disk they are unknown codecs. */
int zfs_decompress(unsigned comp, const void *src, size_t slen, void *dst, size_t dlen)
{
	switch (comp) {
	case ZCP_OFF:
	case ZCP_EMPTY:
		return stored_copy(src, slen, dst, dlen);
	case ZCP_LZJB:
		return lzjb_decompress(src, slen, dst, dlen);
	case ZCP_ZLE:
		return zle_decompress(src, slen, dst, dlen);
	case ZCP_LZ4:
		return lz4_decompress(src, slen, dst, dlen);
	case ZCP_ZSTD:
		return zstd_decompress(src, slen, dst, dlen);
	default:
		if (comp >= ZCP_GZIP1 && comp <= ZCP_GZIP9)
			return gzip_decompress(src, slen, dst, dlen);
		return -ENOTSUP;
	}
}
