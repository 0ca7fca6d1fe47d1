/* zfs_cksum.c: ZFS's block checksums (fletcher2, fletcher4, SHA-256, SHA-512/256) in ZFS's word order, and their names. */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "zfs_int.h"

static const char *const cksum_names[ZCK_COUNT] = {
	[ZCK_INHERIT] = "inherit", [ZCK_ON] = "on", [ZCK_OFF] = "off", [ZCK_LABEL] = "label",
	[ZCK_GANG_HEADER] = "gang_header", [ZCK_ZILOG] = "zilog", [ZCK_FLETCHER2] = "fletcher2",
	[ZCK_FLETCHER4] = "fletcher4", [ZCK_SHA256] = "sha256", [ZCK_ZILOG2] = "zilog2",
	[ZCK_NOPARITY] = "noparity", [ZCK_SHA512] = "sha512", [ZCK_SKEIN] = "skein",
	[ZCK_EDONR] = "edonr", [ZCK_BLAKE3] = "blake3",
};

const char *zfs_cksum_name(unsigned alg)
{
	return alg < ZCK_COUNT ? cksum_names[alg] : "unknown";
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v)); /* the host is little-endian (span.h) */
	return v;
}

static uint64_t get_be64(const uint8_t *p)
{
	return __builtin_bswap64(get_le64(p));
}

/*
 * fletcher_2_native: pairs of 64-bit words.  A tail shorter than a pair is
 * left out: ZFS only checksums whole sectors, and its loop would read past
 * the end of a buffer with such a tail.
 */
static void fletcher2(const uint8_t *p, size_t len, struct zfs_cksum *out)
{
	uint64_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;

	for (const uint8_t *end = p + len / 16 * 16; p < end; p += 16) {
		a0 += get_le64(p);
		a1 += get_le64(p + 8);
		b0 += a0;
		b1 += a1;
	}
	*out = (struct zfs_cksum){ { a0, a1, b0, b1 } };
}

/*
 * fletcher_4_native: 32-bit words summed into 64-bit accumulators (a tail
 * under 4 bytes left out).  It runs on every block read, so the words go
 * through four independent lanes (word i to lane i % 4, which the compiler
 * can keep in one vector register), combined at the end into the serial
 * sums: a word at lane j, t steps from a lane's end, is weighted 4t - j in
 * b, C(4t - j + 1, 2) in c and C(4t - j + 2, 3) in d, which are these
 * combinations of the lanes' own 1, t, C(t + 1, 2) and C(t + 2, 3).  Sums
 * wrap modulo 2^64, as ZFS's do.
 */
static void fletcher4(const uint8_t *p, size_t len, struct zfs_cksum *out)
{
	uint64_t la[4] = { 0 }, lb[4] = { 0 }, lc[4] = { 0 }, ld[4] = { 0 };
	uint64_t a, b, c, d;
	const uint8_t *end4 = p + len / 16 * 16, *end = p + len / 4 * 4;

	for (; p < end4; p += 16) {
		uint32_t w[4];

		memcpy(w, p, sizeof(w));
		for (unsigned j = 0; j < 4; j++) {
			la[j] += w[j];
			lb[j] += la[j];
			lc[j] += lb[j];
			ld[j] += lc[j];
		}
	}
	a = la[0] + la[1] + la[2] + la[3];
	b = 4 * (lb[0] + lb[1] + lb[2] + lb[3]) - la[1] - 2 * la[2] - 3 * la[3];
	c = 16 * (lc[0] + lc[1] + lc[2] + lc[3]) - 6 * lb[0] - 10 * lb[1] - 14 * lb[2] - 18 * lb[3] + la[2] +
	    3 * la[3];
	d = 64 * (ld[0] + ld[1] + ld[2] + ld[3]) - 48 * lc[0] - 64 * lc[1] - 80 * lc[2] - 96 * lc[3] + 4 * lb[0] +
	    10 * lb[1] + 20 * lb[2] + 34 * lb[3] - la[3];
	for (; p < end; p += 4) {
		uint32_t w;

		memcpy(&w, p, sizeof(w));
		a += w;
		b += a;
		c += b;
		d += c;
	}
	*out = (struct zfs_cksum){ { a, b, c, d } };
}

/*
 * The two SHA-2 checksums pack their 32-byte digests differently, for
 * history's sake: SHA-256 words are the digest read big-endian (an early
 * private implementation wrote them so, and sha2_zfs.c keeps it), while
 * SHA-512/256 copies the digest bytes straight into the words, so on the
 * little-endian hosts that write our pools each word is the digest read
 * little-endian (abd_checksum_sha512_native).
 */
static int sha2(const EVP_MD *md, bool big_endian, const void *data, size_t len,
		struct zfs_cksum *out)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	/* A library that refuses (no provider for SHA-512/256) leaves the block unverified. */
	if (!md || EVP_Digest(data, len, digest, &n, md, NULL) != 1 || n != 32)
		return -ENOTSUP;
	for (unsigned i = 0; i < 4; i++)
		out->w[i] = big_endian ? get_be64(digest + 8 * i) : get_le64(digest + 8 * i);
	return 0;
}

int zfs_cksum_prepare(void)
{
	struct zfs_cksum c;
	int r = sha2(EVP_sha256(), true, "", 0, &c);

	return r < 0 ? r : sha2(EVP_sha512_256(), false, "", 0, &c);
}

/*
 * OFF and NOPARITY carry no checksum and INHERIT never reaches the disk, so
 * a caller asking for them has a block pointer it should not have verified:
 * -EINVAL, as for an unknown algorithm.  ON is resolved when written, to
 * fletcher4 (ZIO_CHECKSUM_ON_VALUE).  LABEL and GANG_HEADER are SHA-256 and
 * ZILOG/ZILOG2 fletcher2/4 over an embedded-checksum region.
 */
int zfs_cksum_compute(unsigned alg, const void *data, size_t len, struct zfs_cksum *out)
{
	switch (alg) {
	case ZCK_FLETCHER2:
	case ZCK_ZILOG:
		fletcher2(data, len, out);
		return 0;
	case ZCK_ON:
	case ZCK_FLETCHER4:
	case ZCK_ZILOG2:
		fletcher4(data, len, out);
		return 0;
	case ZCK_SHA256:
	case ZCK_LABEL:
	case ZCK_GANG_HEADER:
		return sha2(EVP_sha256(), true, data, len, out);
	case ZCK_SHA512:
		return sha2(EVP_sha512_256(), false, data, len, out);
	case ZCK_SKEIN:
	case ZCK_EDONR:
	case ZCK_BLAKE3:
		return -ENOTSUP; /* no Debian 12 library implements them */
	default:
		return -EINVAL;
	}
}
