/* walk.c: the bounded, contract-checking walk of a UFS file system shared by the fuzz targets and the corruption suite. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "walk.h"

#define WALK_CHUNK 4093        /* odd, so reads straddle block and fragment edges */
#define WALK_TAIL 8192         /* and from its end (deep indirect blocks of sparse files) */
#define WALK_DIR_MAX 256       /* entries kept per directory for the follow-up calls */
#define WALK_LOOKUPS 32        /* names looked up per directory (each lookup rescans it) */
#define WALK_LINK_MAX 1024

struct walk_ent {
	char name[256];
	size_t namlen;
	uint64_t ino;
	uint64_t cookie; /* the cookie that resumes the listing at this entry */
	uint64_t next;   /* the cookie the reader gave for the entry after it */
};

struct walk {
	struct ufs *fs;
	const struct walk_limits *lim;
	struct walk_result *res;
	unsigned entries;
	uint8_t buf[WALK_CHUNK], again[WALK_CHUNK];
};

/* One directory listing in progress. */
struct walk_list {
	struct walk *w;
	struct walk_ent *v;
	size_t n, max;
	uint64_t last; /* the previous entry's next cookie */
	bool budget;   /* counts against lim->max_entries (the first listing of a directory) */
	int bad;       /* a contract violation seen inside the callback */
};

static int walk_fail(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int walk_fail(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->res->violation[0]) {
		va_start(ap, fmt);
		vsnprintf(w->res->violation, sizeof(w->res->violation), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void walk_mix(struct walk *w, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = w->res->digest ? w->res->digest : 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	w->res->digest = h;
}

/* The errnos ufs.h documents for lookups, listings and reads of a mounted file system. */
static bool walk_allowed(long r)
{
	return r == -EIO || r == -ENOENT || r == -ENOTDIR || r == -EINVAL || r == -ENAMETOOLONG ||
	       r == -ELOOP || r == -EISDIR;
}

/* 0: success; 1: an allowed error (counted); -1: a violation. */
static int walk_check(struct walk *w, long r, const char *what, uint64_t ino)
{
	if (r >= 0)
		return 0;
	if (walk_allowed(r)) {
		w->res->errors++;
		return 1;
	}
	return walk_fail(w, "%s of inode %" PRIu64 " returned %ld (%s), not an errno ufs.h allows",
			 what, ino, r, strerror((int)-r));
}

static int walk_collect(void *ctx, const char *name, size_t namelen, uint64_t ino, uint8_t dtype,
			uint64_t next_off)
{
	struct walk_list *l = ctx;
	struct walk_ent *e;

	(void)dtype;
	if (namelen == 0 || namelen > 255 || memchr(name, '\0', namelen)) {
		l->bad = walk_fail(l->w, "readdir gave a name of %zu bytes with a NUL or none at all",
				   namelen);
		return 1;
	}
	/* A cookie that does not grow would make a kernel's readdir loop forever. */
	if (next_off <= l->last) {
		l->bad = walk_fail(l->w, "readdir cookie %" PRIu64 " after cookie %" PRIu64
				   " does not advance", next_off, l->last);
		return 1;
	}
	if (l->n == l->max || (l->budget && l->w->entries >= l->w->lim->max_entries))
		return 1;
	l->w->entries += l->budget;
	e = &l->v[l->n++];
	memcpy(e->name, name, namelen);
	e->name[namelen] = '\0';
	e->namlen = namelen;
	e->ino = ino;
	e->cookie = l->last;
	e->next = next_off;
	l->last = next_off;
	return 0;
}

/* List dir from cookie `from` into l (at most max entries). Returns what ufs_readdir returned. */
static int walk_list(struct walk *w, uint64_t dir, uint64_t from, struct walk_list *l,
		     struct walk_ent *v, size_t max, bool budget)
{
	*l = (struct walk_list){ w, v, 0, max, from, budget, 0 };
	return ufs_readdir(w->fs, dir, from, walk_collect, l);
}

static bool walk_dot(const struct walk_ent *e)
{
	return (e->namlen == 1 && e->name[0] == '.') ||
	       (e->namlen == 2 && e->name[0] == '.' && e->name[1] == '.');
}

/* Reads at [off, off + len) in WALK_CHUNK pieces; checks sizes against di_size. */
static int walk_read_range(struct walk *w, uint64_t ino, uint64_t size, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;

	while (off < end && w->res->bytes < w->lim->max_bytes) {
		size_t want = end - off < WALK_CHUNK ? (size_t)(end - off) : WALK_CHUNK;
		ssize_t n = ufs_read(w->fs, ino, w->buf, want, off);
		int c = walk_check(w, n, "read", ino);

		if (c)
			return c < 0 ? -1 : 0;
		if ((size_t)n > want || (off < size && (n == 0 || (uint64_t)n > size - off)) ||
		    (off >= size && n != 0))
			return walk_fail(w, "read of %zu bytes at %" PRIu64 " of inode %" PRIu64
					 " (size %" PRIu64 ") returned %zd", want, off, ino, size, n);
		walk_mix(w, w->buf, (size_t)n);
		w->res->bytes += (uint64_t)n;
		if (n == 0)
			break;
		off += (uint64_t)n;
	}
	return 0;
}

static int walk_file(struct walk *w, uint64_t ino, uint64_t size)
{
	uint64_t head = size < w->lim->file_head ? size : w->lim->file_head;
	ssize_t n, m;
	int c;

	w->res->files++;
	if (walk_read_range(w, ino, size, 0, head))
		return -1;
	if (size > head) {
		uint64_t tail = size > WALK_TAIL ? size - WALK_TAIL : 0;

		if (walk_read_range(w, ino, size, tail > head ? tail : head, WALK_TAIL))
			return -1;
	}
	/* Past the end: nothing, whatever the offset. */
	for (int i = 0; i < 2; i++) {
		uint64_t off = i ? UINT64_MAX - 1 : size;

		n = ufs_read(w->fs, ino, w->buf, 16, off);
		if ((c = walk_check(w, n, "read past the end", ino)))
			return c < 0 ? -1 : 0;
		if (n != 0)
			return walk_fail(w, "read at %" PRIu64 " of inode %" PRIu64 " of size %" PRIu64
					 " returned %zd bytes", off, ino, size, n);
	}
	/* The same bytes twice: the indirect-block cache must not change what is read. */
	n = ufs_read(w->fs, ino, w->buf, WALK_CHUNK, 0);
	m = ufs_read(w->fs, ino, w->again, WALK_CHUNK, 0);
	if (n != m || (n > 0 && memcmp(w->buf, w->again, (size_t)n)))
		return walk_fail(w, "two reads of inode %" PRIu64 " at 0 differ (%zd, %zd bytes)", ino,
				 n, m);
	return 0;
}

static int walk_link(struct walk *w, uint64_t ino)
{
	char target[WALK_LINK_MAX];
	ssize_t n = ufs_readlink(w->fs, ino, target, sizeof(target));
	int c;

	w->res->links++;
	if ((c = walk_check(w, n, "readlink", ino)))
		return c < 0 ? -1 : 0;
	if ((size_t)n >= sizeof(target) || target[n] != '\0')
		return walk_fail(w, "readlink of inode %" PRIu64 " returned %zd without its NUL", ino, n);
	walk_mix(w, target, (size_t)n);
	/* A buffer one byte short of the NUL must be refused, not overrun. */
	if (n > 0) {
		ssize_t s = ufs_readlink(w->fs, ino, target, (size_t)n);

		if (s != -ENAMETOOLONG)
			return walk_fail(w, "readlink of inode %" PRIu64 " into %zd bytes returned %zd",
					 ino, n, s);
	}
	return 0;
}

static int walk_dir(struct walk *w, uint64_t dir, unsigned depth);

/* One entry of a listed directory: lookup agrees, attributes, then by type. */
static int walk_entry(struct walk *w, uint64_t dir, const struct walk_ent *v, size_t i,
		      unsigned depth)
{
	const struct walk_ent *e = &v[i];
	struct ufs_stat st;
	uint64_t found;
	int c, r;

	if (i < WALK_LOOKUPS) {
		r = ufs_lookup(w->fs, dir, e->name, e->namlen, &found);
		if ((c = walk_check(w, r, "lookup", dir)) < 0)
			return -1;
		/* The listing read the same bytes up to here, so the lookup must reach the same first match. */
		size_t first = 0;
		while (first < i && !(v[first].namlen == e->namlen &&
				      memcmp(v[first].name, e->name, e->namlen) == 0))
			first++;
		if (c == 0 && found != v[first].ino)
			return walk_fail(w, "lookup of '%s' in inode %" PRIu64 " gave inode %" PRIu64
					 ", the listing %" PRIu64, e->name, dir, found, v[first].ino);
		if (c)
			return walk_fail(w, "lookup of listed '%s' in inode %" PRIu64 " failed: %s",
					 e->name, dir, strerror(-r));
	}
	if (walk_dot(e))
		return 0;
	walk_mix(w, e->name, e->namlen);
	r = ufs_getattr(w->fs, e->ino, &st);
	if ((c = walk_check(w, r, "getattr", e->ino)))
		return c < 0 ? -1 : 0;
	if (st.ino != e->ino)
		return walk_fail(w, "getattr of inode %" PRIu64 " reports inode %" PRIu64, e->ino, st.ino);
	walk_mix(w, &st.mode, sizeof(st.mode));
	walk_mix(w, &st.size, sizeof(st.size));
	switch (st.mode & S_IFMT) {
	case S_IFDIR:
		if (ufs_read(w->fs, e->ino, w->buf, 1, 0) != -EISDIR)
			return walk_fail(w, "read of directory inode %" PRIu64 " is not EISDIR", e->ino);
		return depth < w->lim->max_depth ? walk_dir(w, e->ino, depth + 1) : 0;
	case S_IFREG:
		return walk_file(w, e->ino, st.size);
	case S_IFLNK:
		return walk_link(w, e->ino);
	default:
		w->res->others++;
		if (ufs_read(w->fs, e->ino, w->buf, 1, 0) != -EINVAL)
			return walk_fail(w, "read of inode %" PRIu64 " of mode 0%o is not EINVAL", e->ino,
					 st.mode);
		return 0;
	}
}

static int walk_dir(struct walk *w, uint64_t dir, unsigned depth)
{
	struct walk_ent *v = malloc(WALK_DIR_MAX * sizeof(*v)), one;
	struct walk_list l, again;
	int r, ret = -1;

	if (!v)
		return walk_fail(w, "out of memory");
	w->res->dirs++;
	r = walk_list(w, dir, 0, &l, v, WALK_DIR_MAX, true);
	if (l.bad || walk_check(w, r, "readdir", dir) < 0)
		goto out;
	/* Resuming from an entry's cookie starts the listing at that entry. */
	if (l.n >= 2) {
		size_t k = l.n / 2;

		r = walk_list(w, dir, v[k].cookie, &again, &one, 1, false);
		if (again.bad || walk_check(w, r, "readdir from a cookie", dir) < 0)
			goto out;
		if (again.n != 1 || one.ino != v[k].ino || strcmp(one.name, v[k].name)) {
			walk_fail(w, "readdir of inode %" PRIu64 " from cookie %" PRIu64
				  " does not resume at '%s'", dir, v[k].cookie, v[k].name);
			goto out;
		}
	}
	/* Any cookie is safe, even one inside an entry or far past the end. */
	for (int i = 0; i < 2; i++) {
		uint64_t from = i ? UINT64_MAX - 3 : (l.n ? v[0].next + 2 : 6);

		r = walk_list(w, dir, from, &again, &one, 1, false);
		if (again.bad || walk_check(w, r, "readdir from an odd cookie", dir) < 0)
			goto out;
	}
	ret = 0;
	for (size_t i = 0; i < l.n && ret == 0; i++)
		ret = walk_entry(w, dir, v, i, depth);
out:
	free(v);
	return ret;
}

int walk_ufs(struct ufs *fs, const struct walk_limits *lim, struct walk_result *res)
{
	struct walk *w = calloc(1, sizeof(*w));
	struct ufs_stat st;
	uint64_t ino;
	int r, c;

	memset(res, 0, sizeof(*res));
	if (!w) {
		snprintf(res->violation, sizeof(res->violation), "out of memory");
		return -1;
	}
	*w = (struct walk){ .fs = fs, .lim = lim, .res = res };
	r = ufs_getattr(fs, UFS_ROOT_INO, &st);
	if ((c = walk_check(w, r, "getattr", UFS_ROOT_INO)) == 0 && !S_ISDIR(st.mode))
		c = walk_fail(w, "the root inode of an opened file system is not a directory");
	if (c == 0)
		c = walk_dir(w, UFS_ROOT_INO, 0);
	/* Path resolution: the root, a missing name, a name too long, a symlink loop guard. */
	if (c >= 0 && (r = ufs_resolve(fs, "/", &ino)) == 0 && ino != UFS_ROOT_INO)
		c = walk_fail(w, "'/' resolves to inode %" PRIu64, ino);
	else if (c >= 0)
		c = walk_check(w, r, "resolve /", UFS_ROOT_INO);
	/* A missing name is the expected answer here, not an error of the image. */
	if (c >= 0 && (r = ufs_resolve(fs, "/./nonexistent/../x/y", &ino)) != -ENOENT)
		c = walk_check(w, r, "resolve", 0);
	free(w);
	return c < 0 ? -1 : 0;
}
