/* zwalk.c: the bounded, contract-checking walk of every dataset of a ZFS pool shared by the ZFS fuzz target and the ZFS corruption suite. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "zwalk.h"

#define ZW_CHUNK 32749       /* odd, so reads straddle record edges */
#define ZW_TAIL 8192         /* and from its end (deep indirect blocks of sparse files) */
#define ZW_DIR_MAX 256       /* entries kept per directory for the follow-up calls */
#define ZW_LOOKUPS 32        /* names looked up per directory (each lookup reads the ZAP again) */
#define ZW_LINK_MAX 4200     /* the reader refuses targets past 4096 bytes */
#define ZW_PATH_MAX 1024

struct zw_ent {
	char name[256];
	size_t namlen;
	uint64_t obj;
	uint64_t cookie; /* the cookie that resumes the listing at this entry */
	uint64_t next;   /* the cookie the reader gave for the entry after it */
};

struct zw {
	struct zfs_fs *fs;
	const struct zwalk_limits *lim;
	const struct zwalk_hooks *h;
	struct zwalk_result *res;
	const char *ds;
	char path[ZW_PATH_MAX];
	size_t pathlen;
	unsigned entries;
	uint8_t buf[ZW_CHUNK], again[ZW_CHUNK];
};

/* One directory listing in progress. */
struct zw_list {
	struct zw *w;
	struct zw_ent *v;
	size_t n, max;
	uint64_t last;   /* the previous entry's next cookie */
	bool budget;     /* counts against lim->max_entries (the first listing of a directory) */
	int bad;         /* a contract violation seen inside the callback */
};

static int zw_fail(struct zw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int zw_fail(struct zw *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->res->violation[0]) {
		va_start(ap, fmt);
		vsnprintf(w->res->violation, sizeof(w->res->violation), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void zw_mix(struct zwalk_result *res, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = res->digest ? res->digest : 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	res->digest = h;
}

/* The errnos zfs.h documents for lookups, listings and reads of an opened file system. */
static bool zw_allowed(long r)
{
	return r == -EIO || r == -ENOENT || r == -ENOTDIR || r == -EINVAL || r == -ENAMETOOLONG ||
	       r == -EISDIR || r == -ENOMEM;
}

/* 0: success; 1: an allowed error (counted); -1: a violation. */
static int zw_check(struct zw *w, long r, const char *what, uint64_t obj)
{
	if (r >= 0)
		return 0;
	zw_mix(w->res, &r, sizeof(r));
	if (zw_allowed(r)) {
		w->res->errors++;
		return 1;
	}
	return zw_fail(w, "%s of object %" PRIu64 " in %s returned %ld (%s), not an errno zfs.h allows", what,
		       obj, w->ds, r, strerror((int)-r));
}

static int zw_collect(void *ctx, const char *name, size_t namelen, uint64_t obj, uint8_t dtype,
		      uint64_t next_off)
{
	struct zw_list *l = ctx;
	struct zw_ent *e;

	(void)dtype;
	if (namelen == 0 || namelen > 255 || memchr(name, '\0', namelen) || name[namelen] != '\0') {
		l->bad = zw_fail(l->w, "readdir gave a name of %zu bytes with a NUL inside or none after it",
				 namelen);
		return 1;
	}
	/* A cookie that does not grow would make a kernel's readdir loop forever. */
	if (next_off <= l->last || next_off >= ZFS_DIR_COOKIE_END) {
		l->bad = zw_fail(l->w, "readdir cookie %" PRIu64 " after cookie %" PRIu64
				 " does not advance or passes ZFS_DIR_COOKIE_END", next_off, l->last);
		return 1;
	}
	if (l->n == l->max || (l->budget && l->w->entries >= l->w->lim->max_entries))
		return 1;
	l->w->entries += l->budget;
	e = &l->v[l->n++];
	memcpy(e->name, name, namelen);
	e->name[namelen] = '\0';
	e->namlen = namelen;
	e->obj = obj;
	e->cookie = l->last;
	e->next = next_off;
	l->last = next_off;
	return 0;
}

static int zw_list(struct zw *w, uint64_t dir, uint64_t from, struct zw_list *l, struct zw_ent *v,
		   size_t max, bool budget)
{
	*l = (struct zw_list){ w, v, 0, max, from, budget, 0 };
	return zfs_readdir(w->fs, dir, from, zw_collect, l);
}

static bool zw_dot(const struct zw_ent *e)
{
	return (e->namlen == 1 && e->name[0] == '.') ||
	       (e->namlen == 2 && e->name[0] == '.' && e->name[1] == '.');
}

/* Reads at [off, off + len) in ZW_CHUNK pieces; checks sizes against the file's size. */
static int zw_read_range(struct zw *w, uint64_t obj, uint64_t size, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;

	while (off < end && w->res->bytes < w->lim->max_bytes) {
		size_t want = end - off < ZW_CHUNK ? (size_t)(end - off) : ZW_CHUNK;
		ssize_t n = zfs_read(w->fs, obj, w->buf, want, off);
		int c = zw_check(w, n, "read", obj);

		if (c)
			return c < 0 ? -1 : 0;
		if ((size_t)n > want || (off < size && (n == 0 || (uint64_t)n > size - off)) ||
		    (off >= size && n != 0))
			return zw_fail(w, "read of %zu bytes at %" PRIu64 " of object %" PRIu64
				       " (size %" PRIu64 ") returned %zd", want, off, obj, size, n);
		zw_mix(w->res, w->buf, (size_t)n);
		if (w->h && w->h->bytes)
			w->h->bytes(w->h->ctx, w->ds, w->path, off, w->buf, (size_t)n);
		w->res->bytes += (uint64_t)n;
		if (n == 0)
			break;
		off += (uint64_t)n;
	}
	return 0;
}

static int zw_file(struct zw *w, uint64_t obj, uint64_t size)
{
	uint64_t head = size < w->lim->file_head ? size : w->lim->file_head;
	ssize_t n, m;
	int c;

	w->res->files++;
	if (zw_read_range(w, obj, size, 0, head))
		return -1;
	if (size > head) {
		uint64_t tail = size > ZW_TAIL ? size - ZW_TAIL : 0;

		if (zw_read_range(w, obj, size, tail > head ? tail : head, ZW_TAIL))
			return -1;
	}
	/* Past the end: nothing, whatever the offset. */
	for (int i = 0; i < 2; i++) {
		uint64_t off = i ? UINT64_MAX - 1 : size;

		n = zfs_read(w->fs, obj, w->buf, 16, off);
		if ((c = zw_check(w, n, "read past the end", obj)))
			return c < 0 ? -1 : 0;
		if (n != 0)
			return zw_fail(w, "read at %" PRIu64 " of object %" PRIu64 " of size %" PRIu64
				       " returned %zd bytes", off, obj, size, n);
	}
	/* The same bytes twice: the block cache must not change what is read. */
	n = zfs_read(w->fs, obj, w->buf, ZW_CHUNK, 0);
	m = zfs_read(w->fs, obj, w->again, ZW_CHUNK, 0);
	if (n != m || (n > 0 && memcmp(w->buf, w->again, (size_t)n)))
		return zw_fail(w, "two reads of object %" PRIu64 " at 0 differ (%zd, %zd bytes)", obj, n, m);
	/* A file is no directory. */
	{
		struct zw_list l;
		struct zw_ent one;

		c = zw_list(w, obj, 0, &l, &one, 0, false);
		if (c != -ENOTDIR && zw_check(w, c, "readdir", obj) <= 0)
			return zw_fail(w, "readdir of regular file %" PRIu64 " returned %d, not ENOTDIR", obj, c);
	}
	return 0;
}

static int zw_link(struct zw *w, uint64_t obj)
{
	char *target = (char *)w->again;
	ssize_t n = zfs_readlink(w->fs, obj, target, ZW_LINK_MAX);
	int c;

	w->res->links++;
	c = zw_check(w, n, "readlink", obj);
	if (w->h && w->h->link)
		w->h->link(w->h->ctx, w->ds, w->path, c ? NULL : target, c ? (int)n : 0);
	if (c)
		return c < 0 ? -1 : 0;
	if ((size_t)n >= ZW_LINK_MAX || target[n] != '\0')
		return zw_fail(w, "readlink of object %" PRIu64 " returned %zd without its NUL", obj, n);
	zw_mix(w->res, target, (size_t)n);
	/* A buffer one byte short of the NUL must be refused, not overrun. */
	if (n > 0) {
		ssize_t s = zfs_readlink(w->fs, obj, target, (size_t)n);

		if (s != -ENAMETOOLONG && zw_check(w, s, "short readlink", obj) <= 0)
			return zw_fail(w, "readlink of object %" PRIu64 " into %zd bytes returned %zd", obj, n, s);
	}
	return 0;
}

static int zw_dir(struct zw *w, uint64_t dir, unsigned depth);

/* One entry of a listed directory: its lookup, its attributes, then by type. */
static int zw_entry(struct zw *w, uint64_t dir, const struct zw_ent *v, size_t i, unsigned depth)
{
	const struct zw_ent *e = &v[i];
	struct zfs_stat st;
	size_t keep = w->pathlen;
	uint64_t found;
	int c, r, ret = 0;

	if (i < ZW_LOOKUPS) {
		r = zfs_lookup(w->fs, dir, e->name, &found);
		if ((c = zw_check(w, r, "lookup", dir)) < 0)
			return -1;
		/*
		 * A listing reads a ZAP's leaves in order, a lookup follows its hash
		 * chains: on a damaged ZAP the two may disagree, which is no error of
		 * the reader (counted, and part of the digest).
		 */
		if (c || found != e->obj) {
			w->res->mismatches++;
			zw_mix(w->res, &found, sizeof(found));
		}
	}
	if (zw_dot(e))
		return 0;
	zw_mix(w->res, e->name, e->namlen);
	if (w->pathlen + 1 + e->namlen < sizeof(w->path)) {
		w->path[w->pathlen] = '/';
		memcpy(w->path + w->pathlen + 1, e->name, e->namlen + 1);
		w->pathlen += 1 + e->namlen;
	}
	r = zfs_getattr(w->fs, e->obj, &st);
	c = zw_check(w, r, "getattr", e->obj);
	if (w->h && w->h->entry && c >= 0)
		w->h->entry(w->h->ctx, w->ds, w->path, c ? NULL : &st, c ? r : 0);
	if (c) {
		ret = c < 0 ? -1 : 0;
		goto out;
	}
	if (st.obj != e->obj) {
		ret = zw_fail(w, "getattr of object %" PRIu64 " reports object %" PRIu64, e->obj, st.obj);
		goto out;
	}
	zw_mix(w->res, &st.mode, sizeof(st.mode));
	zw_mix(w->res, &st.size, sizeof(st.size));
	zw_mix(w->res, &st.mtime, sizeof(st.mtime));
	switch (st.mode & S_IFMT) {
	case S_IFDIR:
		if ((r = (int)zfs_read(w->fs, e->obj, w->buf, 1, 0)) != -EISDIR && zw_check(w, r, "read", e->obj) <= 0)
			ret = zw_fail(w, "read of directory object %" PRIu64 " returned %d, not EISDIR", e->obj, r);
		else
			ret = depth < w->lim->max_depth ? zw_dir(w, e->obj, depth + 1) : 0;
		break;
	case S_IFREG:
		ret = zw_file(w, e->obj, st.size);
		break;
	case S_IFLNK:
		ret = zw_link(w, e->obj);
		break;
	default:
		w->res->others++;
		if ((r = (int)zfs_read(w->fs, e->obj, w->buf, 1, 0)) != -EINVAL && zw_check(w, r, "read", e->obj) <= 0)
			ret = zw_fail(w, "read of object %" PRIu64 " of mode 0%o returned %d, not EINVAL", e->obj,
				      st.mode, r);
		break;
	}
out:
	w->pathlen = keep;
	w->path[keep] = '\0';
	return ret;
}

static int zw_dir(struct zw *w, uint64_t dir, unsigned depth)
{
	struct zw_ent *v = malloc(ZW_DIR_MAX * sizeof(*v)), one;
	struct zw_list l, again;
	int r, c, ret = -1;

	if (!v)
		return zw_fail(w, "out of memory");
	w->res->dirs++;
	r = zw_list(w, dir, 0, &l, v, ZW_DIR_MAX, true);
	if (l.bad || (c = zw_check(w, r, "readdir", dir)) < 0)
		goto out;
	/* Resuming from an entry's cookie starts the listing at that entry. */
	if (l.n >= 2 && r == 0) {
		size_t k = l.n / 2;

		r = zw_list(w, dir, v[k].cookie, &again, &one, 1, false);
		if (again.bad || (c = zw_check(w, r, "readdir from a cookie", dir)) < 0)
			goto out;
		if (c == 0 && (again.n != 1 || one.obj != v[k].obj || strcmp(one.name, v[k].name))) {
			zw_fail(w, "readdir of object %" PRIu64 " in %s from cookie %" PRIu64
				" does not resume at '%s'", dir, w->ds, v[k].cookie, v[k].name);
			goto out;
		}
	}
	/* Any cookie is safe, even one inside the ZAP's numbering or far past its end. */
	for (int i = 0; i < 3; i++) {
		static const uint64_t odd[] = { 0x12345, ZFS_DIR_COOKIE_END - 1, UINT64_MAX - 3 };
		uint64_t from = i == 0 && l.n ? v[0].next + 5 : odd[i];

		r = zw_list(w, dir, from, &again, &one, 1, false);
		if (again.bad || zw_check(w, r, "readdir from an odd cookie", dir) < 0)
			goto out;
	}
	ret = 0;
	for (size_t i = 0; i < l.n && ret == 0; i++)
		ret = zw_entry(w, dir, v, i, depth);
out:
	free(v);
	return ret;
}

/* The errnos a dataset may be refused with (zfs.h), besides the ones of the walk. */
static bool zw_ds_allowed(int r)
{
	return r == 0 || r == -EACCES || r == -ENOTSUP || r == -EIO || r == -ENOMEM;
}

int zwalk_pool(struct zfs_pool *p, const struct zwalk_limits *lim, const struct zwalk_hooks *hooks,
	       struct zwalk_result *res)
{
	struct zw *w = calloc(1, sizeof(*w));
	const struct zfs_dsinfo *ds;
	struct zfs_pool_info info;
	size_t nds;
	int c = 0;

	memset(res, 0, sizeof(*res));
	if (!w) {
		snprintf(res->violation, sizeof(res->violation), "out of memory");
		return -1;
	}
	*w = (struct zw){ .lim = lim, .h = hooks, .res = res };
	zfs_pool_get_info(p, &info);
	if (!memchr(info.name, '\0', sizeof(info.name)))
		c = zw_fail(w, "a pool name without its NUL");
	ds = zfs_pool_datasets(p, &nds);
	for (size_t i = 0; i < nds && i < lim->max_datasets && c >= 0; i++) {
		struct zfs_stat st;
		int r;

		if (!memchr(ds[i].name, '\0', sizeof(ds[i].name))) {
			c = zw_fail(w, "dataset %zu: a name without its NUL", i);
			break;
		}
		zw_mix(res, ds[i].name, strlen(ds[i].name));
		if (!zw_ds_allowed(ds[i].why)) {
			c = zw_fail(w, "dataset %s: why is %d (%s)", ds[i].name, ds[i].why, strerror(-ds[i].why));
			break;
		}
		if (ds[i].why)
			continue;
		r = zfs_fs_open(p, ds[i].obj, &w->fs);
		zw_mix(res, &r, sizeof(r));
		if (!zw_ds_allowed(r)) {
			c = zw_fail(w, "zfs_fs_open of %s returned %d (%s)", ds[i].name, r, strerror(-r));
			break;
		}
		if (r)
			continue;
		res->datasets++;
		w->ds = ds[i].name;
		w->path[0] = '\0';
		w->pathlen = 0;
		r = zfs_getattr(w->fs, zfs_fs_root(w->fs), &st);
		if (hooks && hooks->entry)
			hooks->entry(hooks->ctx, w->ds, "/", r ? NULL : &st, r);
		if ((c = zw_check(w, r, "getattr of the root", zfs_fs_root(w->fs))) == 0)
			c = zw_dir(w, zfs_fs_root(w->fs), 0);
		zfs_fs_close(w->fs);
		w->fs = NULL;
	}
	free(w);
	return c < 0 ? -1 : 0;
}
