/* zfs_nvl.c: the XDR-packed nvlists of vdev labels, decoded in place through span.h with bounded nesting. */
#include <string.h>

#include "zfs_int.h"

#define NVL_MAX_DEPTH 16 /* a vdev tree is root > top > child: far below this */

/*
 * Layout (XDR, big-endian, 4-byte units): a list is version, flags, then
 * pairs; a pair is encoded size, decoded size, name (length + bytes padded
 * to 4), type, element count, value; two zero words end the list.  Embedded
 * lists follow their pair inline, so a pair's end is found by decoding its
 * value, never by trusting its size word.
 */
struct nvl_pair {
	struct span name;
	uint32_t type, nelem;
	uint64_t val; /* offset of the value in the list's span */
	uint64_t end; /* offset just past the pair, embedded lists included */
};

static int nvl_skip_list(struct span s, uint64_t off, unsigned depth, uint64_t *end);

static uint64_t nvl_pad4(uint64_t n)
{
	return (n + 3) & ~3ull;
}

/* The bytes a value of this type takes, embedded lists included. */
static int nvl_value_end(struct span s, uint32_t type, uint32_t nelem, uint64_t off, uint32_t encsize,
			 uint64_t pair_start, unsigned depth, uint64_t *end)
{
	uint32_t len;
	int r;

	switch (type) {
	case NVT_BOOLEAN:
		*end = off;
		return 0;
	case 2: case 3: case 4: case 5: case 6: case 21: case 22: case 23: /* 4-byte scalars in XDR */
		*end = off + 4;
		return 0;
	case 7: case NVT_UINT64: case 18: /* int64, uint64, hrtime */
		*end = off + 8;
		return 0;
	case NVT_STRING:
		if ((r = span_be32(s, off, &len)) < 0)
			return -EIO;
		*end = off + 4 + nvl_pad4(len);
		return 0;
	case 15: case NVT_UINT64_ARRAY:
		*end = off + 8ull * nelem;
		return 0;
	case NVT_NVLIST:
		return nvl_skip_list(s, off, depth + 1, end);
	case NVT_NVLIST_ARRAY:
		for (uint32_t i = 0; i < nelem; i++)
			if (nvl_skip_list(s, off, depth + 1, &off) < 0)
				return -EIO;
		*end = off;
		return 0;
	default:
		/* Other types are flat: their encoded size covers them. */
		*end = pair_start + encsize;
		return 0;
	}
}

/* The pair at off; 1 at the end marker. */
static int nvl_pair_at(struct span s, uint64_t off, unsigned depth, struct nvl_pair *p)
{
	uint32_t encsize, decsize, namelen;
	uint64_t at = off;

	if (depth > NVL_MAX_DEPTH || span_be32(s, at, &encsize) < 0 || span_be32(s, at + 4, &decsize) < 0)
		return -EIO;
	if (encsize == 0 && decsize == 0)
		return 1;
	if (span_be32(s, at + 8, &namelen) < 0 || span_sub(s, at + 12, namelen, &p->name) < 0)
		return -EIO;
	/* The name is stored with its terminating NUL counted or not, depending on the writer. */
	if (namelen && p->name.p[namelen - 1] == '\0')
		p->name.len--;
	at += 12 + nvl_pad4(namelen);
	if (span_be32(s, at, &p->type) < 0 || span_be32(s, at + 4, &p->nelem) < 0)
		return -EIO;
	p->val = at + 8;
	if (nvl_value_end(s, p->type, p->nelem, p->val, encsize, off, depth, &p->end) < 0 ||
	    p->end <= off || p->end > s.len)
		return -EIO;
	return 0;
}

/* A list at off: its version and flags, then pairs until the end marker. */
static int nvl_skip_list(struct span s, uint64_t off, unsigned depth, uint64_t *end)
{
	struct nvl_pair p;
	int r;

	if (depth > NVL_MAX_DEPTH || !span_has(s, off, 8))
		return -EIO;
	off += 8;
	while ((r = nvl_pair_at(s, off, depth, &p)) == 0)
		off = p.end;
	if (r < 0)
		return r;
	*end = off + 8;
	return 0;
}

int zfs_nvl_open(struct span buf, struct zfs_nvl *out)
{
	uint64_t end;
	uint8_t enc;

	/* Header: encoding 1 (XDR), endianness, two reserved bytes. */
	if (span_u8(buf, 0, &enc) < 0 || enc != 1 || span_sub(buf, 4, buf.len - 4, &out->s) < 0)
		return -EIO;
	if (nvl_skip_list(out->s, 0, 0, &end) < 0)
		return -EIO;
	out->s.len = (size_t)end;
	return 0;
}

/* The pair named name of the list; -ENOENT, -EIO. */
static int nvl_find(const struct zfs_nvl *l, const char *name, uint32_t type, struct nvl_pair *p)
{
	size_t n = strlen(name);
	uint64_t off = 8;
	int r;

	while ((r = nvl_pair_at(l->s, off, 0, p)) == 0) {
		if (p->name.len == n && memcmp(p->name.p, name, n) == 0)
			return p->type == type ? 0 : -EINVAL;
		off = p->end;
	}
	return r < 0 ? r : -ENOENT;
}

int zfs_nvl_u64(const struct zfs_nvl *l, const char *name, uint64_t *v)
{
	struct nvl_pair p;
	int r = nvl_find(l, name, NVT_UINT64, &p);

	if (r < 0)
		return r;
	return span_be64(l->s, p.val, v) < 0 ? -EIO : 0;
}

int zfs_nvl_str(const struct zfs_nvl *l, const char *name, char *buf, size_t len)
{
	struct nvl_pair p;
	struct span str;
	uint32_t n;
	int r = nvl_find(l, name, NVT_STRING, &p);

	if (r < 0)
		return r;
	if (span_be32(l->s, p.val, &n) < 0 || span_sub(l->s, p.val + 4, n, &str) < 0 || len == 0)
		return -EIO;
	while (str.len && str.p[str.len - 1] == '\0')
		str.len--;
	n = str.len < len - 1 ? (uint32_t)str.len : (uint32_t)(len - 1);
	memcpy(buf, str.p, n);
	buf[n] = '\0';
	return 0;
}

/* The list starting at off of l, as a list of its own. */
static int nvl_sub(const struct zfs_nvl *l, uint64_t off, struct zfs_nvl *out)
{
	uint64_t end;

	if (nvl_skip_list(l->s, off, 1, &end) < 0)
		return -EIO;
	return span_sub(l->s, off, end - off, &out->s) < 0 ? -EIO : 0;
}

int zfs_nvl_list(const struct zfs_nvl *l, const char *name, struct zfs_nvl *out)
{
	struct nvl_pair p;
	int r = nvl_find(l, name, NVT_NVLIST, &p);

	return r < 0 ? r : nvl_sub(l, p.val, out);
}

int zfs_nvl_list_at(const struct zfs_nvl *l, const char *name, size_t i, struct zfs_nvl *out, size_t *n)
{
	struct nvl_pair p;
	uint64_t off;
	int r = nvl_find(l, name, NVT_NVLIST_ARRAY, &p);

	if (r < 0)
		return r;
	*n = p.nelem;
	if (i >= p.nelem)
		return -ENOENT;
	off = p.val;
	for (size_t k = 0; k < i; k++)
		if (nvl_skip_list(l->s, off, 1, &off) < 0)
			return -EIO;
	return nvl_sub(l, off, out);
}

int zfs_nvl_names(const struct zfs_nvl *l, int (*cb)(void *ctx, const char *name), void *ctx)
{
	struct nvl_pair p;
	uint64_t off = 8;
	char name[256];
	int r;

	while ((r = nvl_pair_at(l->s, off, 0, &p)) == 0) {
		size_t n = p.name.len < sizeof(name) - 1 ? p.name.len : sizeof(name) - 1;

		memcpy(name, p.name.p, n);
		name[n] = '\0';
		if ((r = cb(ctx, name)) != 0)
			return r;
		off = p.end;
	}
	return r < 0 ? r : 0;
}
