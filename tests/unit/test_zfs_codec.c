/* test_zfs_codec.c: the ZFS reader's checksums (known answers) and decompressors (round trips through the real libraries, corrupt input). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include <lz4.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_c_format: ZFS writes magicless frames */
#include <zstd.h>

#include "check.h"
#include "zfs_int.h"

/* ---- test data ---- */

static uint64_t rng_state;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

enum kind { K_TEXT, K_ZEROS, K_RANDOM, K_MIXED, K_COUNT };
static const char *const kind_names[K_COUNT] = { "text", "zeros", "random", "mixed" };

static void fill_text(uint8_t *p, size_t n)
{
	static const char *const words[] = { "the ", "pool ", "dataset ", "uberblock ", "of ",
					     "a ", "block ", "pointer\n", "zfs ", "loader " };
	size_t i = 0;

	while (i < n) {
		const char *w = words[rng() % 10];

		for (; *w && i < n; w++)
			p[i++] = (uint8_t)*w;
	}
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
}

/* Runs of each kind, plus single zeros and short byte runs (the codecs' edge cases). */
static void fill_mixed(uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t len = 1 + rng() % 700;

		if (len > n - i)
			len = n - i;
		switch (rng() % 5) {
		case 0:
			fill_text(p + i, len);
			break;
		case 1:
			memset(p + i, 0, len);
			break;
		case 2:
			fill_random(p + i, len);
			break;
		case 3:
			memset(p + i, 'x', len);
			break;
		default:
			for (size_t j = 0; j < len; j++)
				p[i + j] = (rng() % 3) ? 0 : (uint8_t)rng();
		}
		i += len;
	}
}

static uint8_t *make_data(enum kind k, size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n);

	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
	if (k == K_TEXT)
		fill_text(p, n);
	else if (k == K_ZEROS)
		memset(p, 0, n);
	else if (k == K_RANDOM)
		fill_random(p, n);
	else
		fill_mixed(p, n);
	return p;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- test-only compressors, written from the formats ---- */

/* ZLE, n = 64: literal runs of up to 64 non-zero bytes, zero runs of up to 192. */
static size_t zle_pack(const uint8_t *s, size_t n, uint8_t *d)
{
	size_t si = 0, di = 0;

	while (si < n) {
		size_t run = 0;

		if (s[si] == 0) {
			while (si + run < n && s[si + run] == 0 && run < 192)
				run++;
			d[di++] = (uint8_t)(run - 1 + 64);
		} else {
			while (si + run < n && s[si + run] != 0 && run < 64)
				run++;
			d[di++] = (uint8_t)(run - 1);
			memcpy(d + di, s + si, run);
			di += run;
		}
		si += run;
	}
	return di;
}

/* LZJB: greedy matches of 3-66 bytes up to 1023 back, found through a table of last positions. */
static size_t lzjb_pack(const uint8_t *s, size_t n, uint8_t *d)
{
	long head[4096];
	size_t si = 0, di = 0, map = 0;
	unsigned item = 8;

	for (size_t i = 0; i < 4096; i++)
		head[i] = -1;
	while (si < n) {
		size_t mlen = 0, off = 0;

		if (item == 8) {
			map = di;
			d[di++] = 0;
			item = 0;
		}
		if (n - si >= 3) {
			unsigned h = ((unsigned)s[si] << 8 ^ (unsigned)s[si + 1] << 4 ^ s[si + 2]) & 4095;

			if (head[h] >= 0) {
				off = si - (size_t)head[h];
				if (off >= 1 && off <= 1023 && memcmp(s + si, s + si - off, 3) == 0)
					for (mlen = 3; mlen < 66 && si + mlen < n &&
						       s[si + mlen] == s[si + mlen - off];)
						mlen++;
			}
			head[h] = (long)si;
		}
		if (mlen >= 3) {
			d[map] |= (uint8_t)(1u << item);
			d[di++] = (uint8_t)((mlen - 3) << 2 | off >> 8);
			d[di++] = (uint8_t)off;
			si += mlen;
		} else {
			d[di++] = s[si++];
		}
		item++;
	}
	return di;
}

/* A ZFS zstd block: BE32 length, BE32 level and version (level in the top byte), magicless frame. */
static size_t zstd_pack(const uint8_t *s, size_t n, uint8_t *d, size_t cap, int level,
			uint8_t zfs_level)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t r;

	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(c, ZSTD_c_format, ZSTD_f_zstd1_magicless);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0);
	r = ZSTD_compress2(c, d + 8, cap - 8, s, n);
	ZSTD_freeCCtx(c);
	if (ZSTD_isError(r))
		return 0;
	put_be32(d, (uint32_t)r);
	put_be32(d + 4, (uint32_t)zfs_level << 24 | ZSTD_VERSION_NUMBER);
	return r + 8;
}

/* The same block made from an ordinary frame with its 4-byte magic number cut off. */
static size_t zstd_pack_strip(const uint8_t *s, size_t n, uint8_t *d, size_t cap)
{
	uint8_t *tmp = malloc(cap);
	size_t r = ZSTD_compress(tmp, cap, s, n, 1);

	if (ZSTD_isError(r) || r < 4 || tmp[0] != 0x28 || tmp[3] != 0xfd) {
		free(tmp);
		return 0;
	}
	memcpy(d + 8, tmp + 4, r - 4);
	free(tmp);
	put_be32(d, (uint32_t)(r - 4));
	put_be32(d + 4, 1u << 24 | ZSTD_VERSION_NUMBER);
	return r - 4 + 8;
}

static size_t lz4_pack(const uint8_t *s, size_t n, uint8_t *d, size_t cap)
{
	int r = LZ4_compress_default((const char *)s, (char *)d + 4, (int)n, (int)(cap - 4));

	if (r <= 0)
		return 0;
	put_be32(d, (uint32_t)r);
	return (size_t)r + 4;
}

static size_t gzip_pack(const uint8_t *s, size_t n, uint8_t *d, size_t cap, int level)
{
	uLongf len = cap;

	return compress2(d, &len, s, n, level) == Z_OK ? len : 0;
}

enum codec { C_LZ4, C_ZSTD, C_ZSTD_STRIP, C_GZIP1, C_GZIP9, C_ZLE, C_LZJB, C_COUNT };
static const char *const codec_names[C_COUNT] = { "lz4", "zstd", "zstd-stripped", "gzip-1",
						   "gzip-9", "zle", "lzjb" };
static const unsigned codec_comp[C_COUNT] = { ZCP_LZ4, ZCP_ZSTD, ZCP_ZSTD, ZCP_GZIP1, ZCP_GZIP9,
					      ZCP_ZLE, ZCP_LZJB };

/* Compress into a fresh buffer of room bytes (zeros past the data, as a sector's padding). */
static size_t pack(enum codec c, const uint8_t *s, size_t n, uint8_t **out)
{
	size_t cap = 2 * n + 1024, len = 0;
	uint8_t *d = calloc(1, cap);

	switch (c) {
	case C_LZ4:
		len = lz4_pack(s, n, d, cap);
		break;
	case C_ZSTD:
		len = zstd_pack(s, n, d, cap, 3, 3);
		break;
	case C_ZSTD_STRIP:
		len = zstd_pack_strip(s, n, d, cap);
		break;
	case C_GZIP1:
		len = gzip_pack(s, n, d, cap, 1);
		break;
	case C_GZIP9:
		len = gzip_pack(s, n, d, cap, 9);
		break;
	case C_ZLE:
		len = zle_pack(s, n, d);
		break;
	default:
		len = lzjb_pack(s, n, d);
	}
	*out = d;
	return len;
}

/* Decompress exactly slen bytes copied to their own allocation, so ASan sees any overrun. */
static int unpack(unsigned comp, const uint8_t *src, size_t slen, uint8_t *dst, size_t dlen)
{
	uint8_t *s = malloc(slen ? slen : 1);
	int r;

	memcpy(s, src, slen);
	r = zfs_decompress(comp, s, slen, dst, dlen);
	free(s);
	return r;
}

/* ---- checksums ---- */

static void check_words(const struct zfs_cksum *c, uint64_t w0, uint64_t w1, uint64_t w2,
			uint64_t w3)
{
	CHECK(c->w[0] == w0);
	CHECK(c->w[1] == w1);
	CHECK(c->w[2] == w2);
	CHECK(c->w[3] == w3);
}

static void test_sha(void)
{
	struct zfs_cksum c;

	/* FIPS 180-4: SHA-256("abc") = ba7816bf 8f01cfea ..., read as big-endian words. */
	CHECK_EQ(zfs_cksum_compute(ZCK_SHA256, "abc", 3, &c), 0);
	check_words(&c, 0xba7816bf8f01cfeaull, 0x414140de5dae2223ull, 0xb00361a396177a9cull,
		    0xb410ff61f20015adull);
	CHECK_EQ(zfs_cksum_compute(ZCK_LABEL, "abc", 3, &c), 0);
	CHECK(c.w[0] == 0xba7816bf8f01cfeaull && c.w[3] == 0xb410ff61f20015adull);
	CHECK_EQ(zfs_cksum_compute(ZCK_GANG_HEADER, "abc", 3, &c), 0);
	CHECK(c.w[0] == 0xba7816bf8f01cfeaull && c.w[3] == 0xb410ff61f20015adull);
	CHECK_EQ(zfs_cksum_compute(ZCK_SHA256, "", 0, &c), 0);
	check_words(&c, 0xe3b0c44298fc1c14ull, 0x9afbf4c8996fb924ull, 0x27ae41e4649b934cull,
		    0xa495991b7852b855ull);

	/*
	 * FIPS 180-4 SHA-512/256("abc") = 53048e26 81941ef9 9b2e29b7 6b4c7dab
	 * e4c2d0c6 34fc6d46 e0e2f131 07e7af23; ZFS copies the digest bytes into
	 * its words, so a little-endian host reads them little-endian.
	 */
	CHECK_EQ(zfs_cksum_compute(ZCK_SHA512, "abc", 3, &c), 0);
	check_words(&c, 0xf91e9481268e0453ull, 0xab7d4c6bb7292e9bull, 0x466dfc34c6d0c2e4ull,
		    0x23afe70731f1e2e0ull);
	/* The FIPS two-block message: 3928e184 fb8690f8 40da3988 121d31be 65cb9d3e f83ee614 6feac861 e19b563a. */
	static const char two[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
				  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	CHECK_EQ(zfs_cksum_compute(ZCK_SHA512, two, sizeof(two) - 1, &c), 0);
	check_words(&c, 0xf89086fb84e12839ull, 0xbe311d128839da40ull, 0x14e63ef83e9dcb65ull,
		    0x3a569be161c8ea6full);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void test_fletcher(void)
{
	struct zfs_cksum c;
	uint8_t b[32];

	/* Words 1, 2, 3, 4: a = 1 3 6 10, b = 1 4 10 20, c = 1 5 15 35, d = 1 6 21 56. */
	for (unsigned i = 0; i < 4; i++)
		put_le32(b + 4 * i, i + 1);
	CHECK_EQ(zfs_cksum_compute(ZCK_FLETCHER4, b, 16, &c), 0);
	check_words(&c, 10, 20, 35, 56);
	CHECK_EQ(zfs_cksum_compute(ZCK_ON, b, 16, &c), 0); /* on = fletcher4 */
	check_words(&c, 10, 20, 35, 56);
	CHECK_EQ(zfs_cksum_compute(ZCK_ZILOG2, b, 16, &c), 0);
	check_words(&c, 10, 20, 35, 56);
	/* A tail under a word is left out: 10 bytes are words 1 and 2. */
	CHECK_EQ(zfs_cksum_compute(ZCK_FLETCHER4, b, 10, &c), 0);
	check_words(&c, 3, 4, 5, 6);
	/* Unsigned 32-bit words into 64-bit sums: 0xffffffff twice. */
	put_le32(b, 0xffffffffu);
	put_le32(b + 4, 0xffffffffu);
	CHECK_EQ(zfs_cksum_compute(ZCK_FLETCHER4, b, 8, &c), 0);
	check_words(&c, 0x1fffffffeull, 0x2fffffffdull, 0x3fffffffcull, 0x4fffffffbull);

	/* fletcher2, pairs (1, 2), (3, 4): a0 = 1 4, a1 = 2 6, b0 = 1 5, b1 = 2 8. */
	for (unsigned i = 0; i < 4; i++)
		put_le64(b + 8 * i, i + 1);
	CHECK_EQ(zfs_cksum_compute(ZCK_FLETCHER2, b, 32, &c), 0);
	check_words(&c, 4, 6, 5, 8);
	CHECK_EQ(zfs_cksum_compute(ZCK_ZILOG, b, 32, &c), 0);
	check_words(&c, 4, 6, 5, 8);
	CHECK_EQ(zfs_cksum_compute(ZCK_FLETCHER2, b, 31, &c), 0); /* the unfinished pair is left out */
	check_words(&c, 1, 2, 1, 2);
	/* Sums wrap modulo 2^64. */
	put_le64(b, UINT64_MAX);
	put_le64(b + 8, 1);
	put_le64(b + 16, UINT64_MAX);
	put_le64(b + 24, 1);
	CHECK_EQ(zfs_cksum_compute(ZCK_FLETCHER2, b, 32, &c), 0);
	check_words(&c, UINT64_MAX - 1, 2, UINT64_MAX - 2, 3);

	CHECK_EQ(zfs_cksum_compute(ZCK_FLETCHER4, b, 0, &c), 0);
	check_words(&c, 0, 0, 0, 0);
}

/*
 * fletcher4 over a large buffer against its closed form: word i of n counts
 * k = n - i times in b, k(k+1)/2 in c, k(k+1)(k+2)/6 in d.
 */
static void test_fletcher4_closed_form(void)
{
	size_t n = 131072 / 4;
	uint8_t *p = make_data(K_RANDOM, n * 4, 7);
	uint64_t a = 0, b = 0, c = 0, d = 0;
	struct zfs_cksum ck;

	for (size_t i = 0; i < n; i++) {
		uint32_t w;
		uint64_t k = n - i;

		memcpy(&w, p + 4 * i, 4);
		a += w;
		b += k * w;
		c += k * (k + 1) / 2 * w;
		d += k * (k + 1) * (k + 2) / 6 * w;
	}
	CHECK_EQ(zfs_cksum_compute(ZCK_FLETCHER4, p, n * 4, &ck), 0);
	check_words(&ck, a, b, c, d);
	free(p);
}

static void test_cksum_refused(void)
{
	struct zfs_cksum c;

	CHECK_EQ(zfs_cksum_compute(ZCK_SKEIN, "abc", 3, &c), -ENOTSUP);
	CHECK_EQ(zfs_cksum_compute(ZCK_EDONR, "abc", 3, &c), -ENOTSUP);
	CHECK_EQ(zfs_cksum_compute(ZCK_BLAKE3, "abc", 3, &c), -ENOTSUP);
	CHECK_EQ(zfs_cksum_compute(ZCK_OFF, "abc", 3, &c), -EINVAL);
	CHECK_EQ(zfs_cksum_compute(ZCK_NOPARITY, "abc", 3, &c), -EINVAL);
	CHECK_EQ(zfs_cksum_compute(ZCK_INHERIT, "abc", 3, &c), -EINVAL);
	CHECK_EQ(zfs_cksum_compute(ZCK_COUNT, "abc", 3, &c), -EINVAL);
	CHECK_EQ(zfs_cksum_compute(1000, "abc", 3, &c), -EINVAL);
}

static void test_names(void)
{
	CHECK_STR(zfs_cksum_name(ZCK_FLETCHER4), "fletcher4");
	CHECK_STR(zfs_cksum_name(ZCK_SHA512), "sha512");
	CHECK_STR(zfs_cksum_name(ZCK_BLAKE3), "blake3");
	CHECK_STR(zfs_cksum_name(ZCK_COUNT), "unknown");
	CHECK_STR(zfs_compress_name(ZCP_LZ4), "lz4");
	CHECK_STR(zfs_compress_name(ZCP_GZIP1 + 5), "gzip-6");
	CHECK_STR(zfs_compress_name(ZCP_GZIP9), "gzip-9");
	CHECK_STR(zfs_compress_name(ZCP_ZSTD), "zstd");
	CHECK_STR(zfs_compress_name(ZCP_OFF), "off");
	CHECK_STR(zfs_compress_name(ZCP_COUNT), "unknown");
	for (unsigned i = 0; i < ZCK_COUNT; i++)
		CHECK(strcmp(zfs_cksum_name(i), "unknown") != 0);
	for (unsigned i = 0; i < ZCP_COUNT; i++)
		CHECK(strcmp(zfs_compress_name(i), "unknown") != 0);
}

/* ---- decompression ---- */

static const size_t sizes[] = { 512, 777, 4096, 12288, 65536, 131072 };

/* Each codec, kind and size: with the sector padding and without it. */
static void test_round_trips(void)
{
	for (unsigned c = 0; c < C_COUNT; c++) {
		int bad = 0;

		for (unsigned k = 0; k < K_COUNT; k++) {
			for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
				size_t n = sizes[si], len, padded;
				uint8_t *s = make_data(k, n, c * 100 + k * 10 + si), *z;
				uint8_t *d = malloc(n);

				len = pack(c, s, n, &z);
				padded = (len + 511) & ~(size_t)511;
				CHECK(len > 0);
				memset(d, 0xaa, n);
				int r1 = unpack(codec_comp[c], z, len, d, n);
				int ok1 = r1 == 0 && memcmp(d, s, n) == 0;
				memset(d, 0x55, n);
				int r2 = unpack(codec_comp[c], z, padded, d, n);
				int ok2 = r2 == 0 && memcmp(d, s, n) == 0;
				CHECK(ok1 && ok2);
				if (!(ok1 && ok2) && bad++ < 3)
					fprintf(stderr, "  %s %s %zu: %d %d\n", codec_names[c],
						kind_names[k], n, r1, r2);
				free(z);
				free(s);
				free(d);
			}
		}
	}
}

static void test_stored(void)
{
	uint8_t *s = make_data(K_RANDOM, 4096, 1), d[4096];

	CHECK_EQ(zfs_decompress(ZCP_OFF, s, 4096, d, 4096), 0);
	CHECK(memcmp(s, d, 4096) == 0);
	memset(d, 0, sizeof(d));
	CHECK_EQ(zfs_decompress(ZCP_EMPTY, s, 4096, d, 4096), 0);
	CHECK(memcmp(s, d, 4096) == 0);
	CHECK_EQ(zfs_decompress(ZCP_OFF, s, 4095, d, 4096), -EIO);
	CHECK_EQ(zfs_decompress(ZCP_INHERIT, s, 4096, d, 4096), -ENOTSUP);
	CHECK_EQ(zfs_decompress(ZCP_ON, s, 4096, d, 4096), -ENOTSUP);
	CHECK_EQ(zfs_decompress(ZCP_COUNT, s, 4096, d, 4096), -ENOTSUP);
	CHECK_EQ(zfs_decompress(200, s, 4096, d, 4096), -ENOTSUP);
	free(s);
}

/* Hand-made streams: each format's layout, independent of the test compressors. */
static void test_known_streams(void)
{
	uint8_t d[16];

	/* ZLE: 2 literals, 3 zeros (66 = 64 + 3 - 1), 1 literal; a literal run may hold zeros. */
	static const uint8_t zle[] = { 0x01, 1, 2, 0x42, 0x00, 3, 0x02, 0, 7, 0 };
	static const uint8_t zle_out[] = { 1, 2, 0, 0, 0, 3, 0, 7, 0 };
	CHECK_EQ(zfs_decompress(ZCP_ZLE, zle, sizeof(zle), d, sizeof(zle_out)), 0);
	CHECK(memcmp(d, zle_out, sizeof(zle_out)) == 0);
	/* The longest zero run of one byte: 255 - 64 + 1 = 192. */
	static const uint8_t zle_max[] = { 0xff };
	uint8_t z[192];
	memset(z, 1, sizeof(z));
	CHECK_EQ(zfs_decompress(ZCP_ZLE, zle_max, 1, z, sizeof(z)), 0);
	CHECK(z[0] == 0 && z[191] == 0);

	/* LZJB: copy map 0x08 (item 3 is a copy), "abc", then 9 bytes from 3 back: (6 << 2, 3). */
	static const uint8_t lzjb[] = { 0x08, 'a', 'b', 'c', 0x18, 0x03 };
	CHECK_EQ(zfs_decompress(ZCP_LZJB, lzjb, sizeof(lzjb), d, 12), 0);
	CHECK(memcmp(d, "abcabcabcabc", 12) == 0);
	/* A copy longer than what is left stops at dlen, as in ZFS. */
	CHECK_EQ(zfs_decompress(ZCP_LZJB, lzjb, sizeof(lzjb), d, 7), 0);
	CHECK(memcmp(d, "abcabca", 7) == 0);
	/* The longest copy, 66 bytes (63 << 2), 1 back: a run. */
	static const uint8_t lzjb_run[] = { 0x02, 'q', 0xfc, 0x01 };
	uint8_t run[67];
	CHECK_EQ(zfs_decompress(ZCP_LZJB, lzjb_run, sizeof(lzjb_run), run, sizeof(run)), 0);
	CHECK(run[0] == 'q' && run[66] == 'q' && memchr(run, 0, sizeof(run)) == NULL);
	/* The offset is 10 bits (0x03ff here), the top 6 the length: 1023 back from 1 byte is corrupt. */
	static const uint8_t lzjb_hi[] = { 0x02, 'r', 0x03, 0xff };
	CHECK_EQ(zfs_decompress(ZCP_LZJB, lzjb_hi, sizeof(lzjb_hi), d, 4), -EIO);

	/* LZ4: the length is big-endian; a literal-only block "hello" (token 0x50). */
	static const uint8_t lz4[] = { 0, 0, 0, 6, 0x50, 'h', 'e', 'l', 'l', 'o', 0, 0 };
	CHECK_EQ(zfs_decompress(ZCP_LZ4, lz4, sizeof(lz4), d, 5), 0);
	CHECK(memcmp(d, "hello", 5) == 0);
	static const uint8_t lz4_le[] = { 6, 0, 0, 0, 0x50, 'h', 'e', 'l', 'l', 'o' };
	CHECK_EQ(zfs_decompress(ZCP_LZ4, lz4_le, sizeof(lz4_le), d, 5), -EIO);
}

/*
 * A stream that decodes to less than dlen: lz4, gzip and zstd accept it as
 * ZFS does (zeros after it), zle refuses it as ZFS does.
 */
static void test_short_output(void)
{
	uint8_t *s = make_data(K_TEXT, 1000, 3), *d = malloc(2048);

	for (unsigned c = 0; c < C_COUNT; c++) {
		uint8_t *z;
		size_t len = pack(c, s, 1000, &z);

		memset(d, 0xaa, 2048);
		int r = unpack(codec_comp[c], z, len, d, 2048);
		if (c == C_ZLE || c == C_LZJB) {
			CHECK_EQ(r, -EIO); /* zle: not filled; lzjb: the source runs out */
		} else {
			CHECK_EQ(r, 0);
			CHECK(memcmp(d, s, 1000) == 0);
			CHECK(d[1000] == 0 && d[2047] == 0 && memchr(d + 1000, 0xaa, 1048) == NULL);
		}
		/* Too small a dlen is corruption, except for lzjb: it has no end mark, and stops when full. */
		CHECK_EQ(unpack(codec_comp[c], z, len, d, 999), c == C_LZJB ? 0 : -EIO);
		free(z);
	}
	free(s);
	free(d);
}

static void test_zstd_header(void)
{
	uint8_t *s = make_data(K_MIXED, 8192, 5), *z = malloc(20000), *d = malloc(8192);
	size_t len;

	/* The levels ZFS accepts: 1-19 and the fast levels' codes 103-123 (zstd-fast-1 = -1). */
	len = zstd_pack(s, 8192, z, 20000, -1, 103);
	CHECK_EQ(unpack(ZCP_ZSTD, z, len, d, 8192), 0);
	CHECK(memcmp(d, s, 8192) == 0);
	len = zstd_pack(s, 8192, z, 20000, 19, 19);
	CHECK_EQ(unpack(ZCP_ZSTD, z, len, d, 8192), 0);
	CHECK(memcmp(d, s, 8192) == 0);
	/* A big-endian writer's old bitfield: version bytes first, level last. */
	put_be32(z + 4, (uint32_t)ZSTD_VERSION_NUMBER << 8 | 3);
	CHECK_EQ(unpack(ZCP_ZSTD, z, len, d, 8192), 0);
	static const uint32_t bad_levels[] = { 0u << 24 | 10504, 20u << 24 | 10504,
					       102u << 24 | 10504, 124u << 24 | 10504, 0x01010101u };
	for (size_t i = 0; i < sizeof(bad_levels) / sizeof(bad_levels[0]); i++) {
		put_be32(z + 4, bad_levels[i]);
		CHECK_EQ(unpack(ZCP_ZSTD, z, len, d, 8192), -EIO);
	}
	free(s);
	free(z);
	free(d);
}

/* What a cut, a wrong header or garbage must give: -EIO, never a read or write out of bounds. */
static void test_corrupt(void)
{
	size_t n = 16384;
	uint8_t *s = make_data(K_RANDOM, n, 11), *t = make_data(K_TEXT, n, 12), *d = malloc(n);
	uint8_t *g = make_data(K_RANDOM, n, 13);

	for (unsigned c = 0; c < C_COUNT; c++) {
		uint8_t *z;
		size_t len = pack(c, s, n, &z);
		unsigned comp = codec_comp[c];

		/* Cut short (a header, where there is one, still claiming the whole). */
		CHECK_EQ(unpack(comp, z, len / 2, d, n), -EIO);
		CHECK_EQ(unpack(comp, z, len - 1, d, n), -EIO);
		CHECK_EQ(unpack(comp, z, 3, d, n), -EIO);
		CHECK_EQ(unpack(comp, z, 0, d, n), -EIO);
		/* Garbage of every length up to 64 and a long one. */
		for (size_t gl = 0; gl <= 64; gl++)
			CHECK_EQ(unpack(comp, g, gl, d, n), -EIO);
		CHECK_EQ(unpack(comp, g, n, d, n), -EIO);
		free(z);
	}

	/* Headers that lie. */
	for (unsigned c = 0; c < C_COUNT; c++) {
		uint8_t *z;
		size_t len = pack(c, s, n, &z);

		if (c == C_LZ4 || c == C_ZSTD || c == C_ZSTD_STRIP) {
			size_t h = c == C_LZ4 ? 4 : 8;

			put_be32(z, (uint32_t)(len - h + 1)); /* one past the source */
			CHECK_EQ(unpack(codec_comp[c], z, len, d, n), -EIO);
			put_be32(z, 0xffffffffu);
			CHECK_EQ(unpack(codec_comp[c], z, len, d, n), -EIO);
			put_be32(z, (uint32_t)((len - h) / 2)); /* a cut inside the random bytes */
			CHECK_EQ(unpack(codec_comp[c], z, len, d, n), -EIO);
		}
		free(z);
	}

	/* A cut in a text stream: the header rewritten to match, for lz4 and zstd. */
	for (unsigned c = 0; c < C_COUNT; c++) {
		uint8_t *z;
		size_t len = pack(c, t, n, &z);

		if (c == C_ZSTD || c == C_ZSTD_STRIP) {
			put_be32(z, (uint32_t)(len - 8 - 10));
			CHECK_EQ(unpack(codec_comp[c], z, len - 10, d, n), -EIO);
		}
		if (c >= C_GZIP1 && c <= C_GZIP9) {
			z[len - 1] ^= 1; /* the Adler-32 */
			CHECK_EQ(unpack(codec_comp[c], z, len, d, n), -EIO);
		}
		free(z);
	}

	/* Hand-made lzjb and zle faults. */
	static const uint8_t lzjb_back[] = { 0x01, 0x00, 0x05 };  /* a copy before any output */
	static const uint8_t lzjb_zero[] = { 0x02, 'a', 0x00, 0x00 }; /* offset 0 */
	static const uint8_t lzjb_half[] = { 0x02, 'a', 0x00 };   /* a copy item cut in two */
	static const uint8_t lzjb_nomap[] = { 0x00, 1, 2, 3, 4, 5, 6, 7, 8 }; /* no ninth map byte */
	CHECK_EQ(zfs_decompress(ZCP_LZJB, lzjb_back, sizeof(lzjb_back), d, 8), -EIO);
	CHECK_EQ(zfs_decompress(ZCP_LZJB, lzjb_zero, sizeof(lzjb_zero), d, 8), -EIO);
	CHECK_EQ(zfs_decompress(ZCP_LZJB, lzjb_half, sizeof(lzjb_half), d, 8), -EIO);
	CHECK_EQ(zfs_decompress(ZCP_LZJB, lzjb_nomap, sizeof(lzjb_nomap), d, 9), -EIO);
	static const uint8_t zle_lit[] = { 0x05, 1, 2, 3 }; /* 6 literals, 3 present */
	static const uint8_t zle_over[] = { 0x03, 1, 2, 3, 4 }; /* 4 literals into 3 bytes */
	static const uint8_t zle_zeros[] = { 0x50 };           /* 17 zeros into 8 bytes */
	CHECK_EQ(zfs_decompress(ZCP_ZLE, zle_lit, sizeof(zle_lit), d, 6), -EIO);
	CHECK_EQ(zfs_decompress(ZCP_ZLE, zle_over, sizeof(zle_over), d, 3), -EIO);
	CHECK_EQ(zfs_decompress(ZCP_ZLE, zle_zeros, sizeof(zle_zeros), d, 8), -EIO);
	free(s);
	free(t);
	free(d);
	free(g);
}

/* Random byte flips in valid streams: any result but 0 or -EIO, or a touch out of bounds, fails. */
static void test_mutations(void)
{
	size_t n = 4096;
	uint8_t *d = malloc(n);

	for (unsigned c = 0; c < C_COUNT; c++) {
		unsigned odd = 0;

		for (unsigned k = 0; k < K_COUNT; k++) {
			uint8_t *s = make_data(k, n, 20 + k), *z;
			size_t len = pack(c, s, n, &z);

			for (unsigned i = 0; i < 300; i++) {
				uint8_t *m = malloc(len);

				memcpy(m, z, len);
				for (unsigned f = 1 + rng() % 4; f > 0; f--)
					m[rng() % len] ^= (uint8_t)(1 + rng() % 255);
				int r = unpack(codec_comp[c], m, len, d, n);
				if (r != 0 && r != -EIO)
					odd++;
				free(m);
			}
			free(z);
			free(s);
		}
		CHECK_EQ(odd, 0);
	}
	free(d);
}

/* Several threads decompressing at once (the reader is multi-threaded). */
static void *thread_run(void *arg)
{
	const uint8_t *s = arg;
	uint8_t *d = malloc(65536);
	long bad = 0;

	for (unsigned c = 0; c < C_COUNT; c++) {
		uint8_t *z;
		size_t len = pack(c, s, 65536, &z);

		for (unsigned i = 0; i < 4; i++)
			if (zfs_decompress(codec_comp[c], z, len, d, 65536) != 0 ||
			    memcmp(d, s, 65536) != 0)
				bad++;
		free(z);
	}
	free(d);
	return (void *)bad;
}

static void test_threads(void)
{
	uint8_t *s = make_data(K_MIXED, 65536, 99);
	pthread_t t[4];
	long total = 0;

	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, thread_run, s), 0);
	for (unsigned i = 0; i < 4; i++) {
		void *r;

		pthread_join(t[i], &r);
		total += (long)r;
	}
	CHECK_EQ(total, 0);
	free(s);
}

int main(void)
{
	test_names();
	test_sha();
	test_fletcher();
	test_fletcher4_closed_form();
	test_cksum_refused();
	test_stored();
	test_known_streams();
	test_round_trips();
	test_short_output();
	test_zstd_header();
	test_corrupt();
	test_mutations();
	test_threads();
	return check_done();
}
