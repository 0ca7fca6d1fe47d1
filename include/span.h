/* span.h: the one bounds-checked reader for untrusted bytes (ELF plugins, UFS metadata, partition tables). */
#ifndef KVMLOAD_SPAN_H
#define KVMLOAD_SPAN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A read-only window over untrusted bytes.  Every access is checked against len. */
struct span {
	const uint8_t *p;
	size_t len;
};

static inline struct span span_make(const void *p, size_t len)
{
	struct span s = { (const uint8_t *)p, len };
	return s;
}

/* True when [off, off + n) lies inside the span, with no overflow. */
static inline bool span_has(struct span s, uint64_t off, uint64_t n)
{
	return off <= s.len && n <= s.len - off;
}

/* A sub-window [off, off + n); -ERANGE when it does not fit. */
static inline int span_sub(struct span s, uint64_t off, uint64_t n, struct span *out)
{
	if (!span_has(s, off, n))
		return -ERANGE;
	out->p = s.p + off;
	out->len = (size_t)n;
	return 0;
}

static inline int span_copy(struct span s, uint64_t off, void *dst, size_t n)
{
	if (!span_has(s, off, n))
		return -ERANGE;
	memcpy(dst, s.p + off, n);
	return 0;
}

/* True when bytes [off, off + n) exist and equal want's n bytes (a magic number, say). */
static inline bool span_eq(struct span s, uint64_t off, const void *want, size_t n)
{
	return span_has(s, off, n) && memcmp(s.p + off, want, n) == 0;
}

static inline int span_u8(struct span s, uint64_t off, uint8_t *v)
{
	return span_copy(s, off, v, 1);
}

#define SPAN_DEFINE_INT(name, type, swap_le, swap_be)                        \
	static inline int span_le##name(struct span s, uint64_t off, type *v) \
	{                                                                     \
		type x;                                                       \
		int r = span_copy(s, off, &x, sizeof(x));                     \
		if (r == 0)                                                   \
			*v = swap_le(x);                                      \
		return r;                                                     \
	}                                                                     \
	static inline int span_be##name(struct span s, uint64_t off, type *v) \
	{                                                                     \
		type x;                                                       \
		int r = span_copy(s, off, &x, sizeof(x));                     \
		if (r == 0)                                                   \
			*v = swap_be(x);                                      \
		return r;                                                     \
	}

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "kvmload runs on little-endian x86-64 hosts only"
#endif
#define SPAN_ID(x) (x)
SPAN_DEFINE_INT(16, uint16_t, SPAN_ID, __builtin_bswap16)
SPAN_DEFINE_INT(32, uint32_t, SPAN_ID, __builtin_bswap32)
SPAN_DEFINE_INT(64, uint64_t, SPAN_ID, __builtin_bswap64)

/* Byte-order-selected reads, for formats (UFS) that come in both orders. */
static inline int span_u16(struct span s, uint64_t off, bool be, uint16_t *v)
{
	return be ? span_be16(s, off, v) : span_le16(s, off, v);
}
static inline int span_u32(struct span s, uint64_t off, bool be, uint32_t *v)
{
	return be ? span_be32(s, off, v) : span_le32(s, off, v);
}
static inline int span_u64(struct span s, uint64_t off, bool be, uint64_t *v)
{
	return be ? span_be64(s, off, v) : span_le64(s, off, v);
}

#endif
