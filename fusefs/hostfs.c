/* hostfs.c: host0, a read-only passthrough where every lookup is one openat2(RESOLVE_BENEATH) step. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hostfs.h"

#define HOSTFS_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
#define HOSTFS_NONE UINT32_MAX

struct hostfs_node {
	int fd;          /* O_RDONLY for readable regular files, else O_PATH; -1 for a free slot */
	bool readable;
	dev_t dev;
	ino_t ino;
	uint64_t nlookup;
	uint32_t next;   /* hash chain, or the free list for free slots */
};

struct hostfs {
	pthread_mutex_t lock; /* guards everything below; requests arrive on several threads */
	struct hostfs_node *nodes;
	uint32_t nnodes, cap;
	uint32_t free;
	uint32_t *buckets; /* heads of hash chains of nodes by (dev, ino) */
	uint32_t nbuckets, count;
};

struct hostfs_dir {
	DIR *dp;
	off_t pos; /* the cookie the stream is at */
};

static int hostfs_openat2(int dirfd, const char *name, uint64_t flags)
{
	struct open_how how = { .flags = flags | O_CLOEXEC | O_NOFOLLOW, .resolve = HOSTFS_RESOLVE };
	long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

static uint32_t hostfs_hash(const struct hostfs *h, dev_t dev, ino_t ino)
{
	uint64_t x = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev * 0xc2b2ae3d27d4eb4full;

	return (uint32_t)(x >> 32) & (h->nbuckets - 1);
}

static int hostfs_rehash(struct hostfs *h, uint32_t nb)
{
	uint32_t *b = malloc(nb * sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (uint32_t i = 0; i < nb; i++)
		b[i] = HOSTFS_NONE;
	free(h->buckets);
	h->buckets = b;
	h->nbuckets = nb;
	for (uint32_t i = 0; i < h->nnodes; i++) {
		struct hostfs_node *n = &h->nodes[i];

		if (n->fd < 0)
			continue;
		uint32_t k = hostfs_hash(h, n->dev, n->ino);
		n->next = b[k];
		b[k] = i;
	}
	return 0;
}

static int64_t hostfs_find_locked(struct hostfs *h, dev_t dev, ino_t ino)
{
	for (uint32_t i = h->buckets[hostfs_hash(h, dev, ino)]; i != HOSTFS_NONE; i = h->nodes[i].next)
		if (h->nodes[i].dev == dev && h->nodes[i].ino == ino)
			return i;
	return -1;
}

/* A new node for fd; takes ownership of fd. */
static int hostfs_insert_locked(struct hostfs *h, int fd, bool readable, const struct stat *st, uint32_t *out)
{
	uint32_t i;

	if (h->count + 1 > h->nbuckets && h->nbuckets < (1u << 30) && hostfs_rehash(h, h->nbuckets * 2) < 0)
		return -ENOMEM;
	if (h->free != HOSTFS_NONE) {
		i = h->free;
		h->free = h->nodes[i].next;
	} else {
		if (h->nnodes == h->cap) {
			uint32_t cap = h->cap * 2;
			struct hostfs_node *v = cap > h->cap ? realloc(h->nodes, cap * sizeof(*v)) : NULL;

			if (!v)
				return -ENOMEM;
			h->nodes = v;
			h->cap = cap;
		}
		i = h->nnodes++;
	}
	struct hostfs_node *n = &h->nodes[i];
	uint32_t k = hostfs_hash(h, st->st_dev, st->st_ino);

	n->fd = fd;
	n->readable = readable;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->nlookup = 1;
	n->next = h->buckets[k];
	h->buckets[k] = i;
	h->count++;
	*out = i;
	return 0;
}

int hostfs_open(struct hostfs **out, const char *path)
{
	struct hostfs *h = calloc(1, sizeof(*h));
	struct stat st;
	uint32_t root;
	int fd, r = -ENOMEM;

	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	h->free = HOSTFS_NONE;
	h->cap = 64;
	h->nodes = malloc(h->cap * sizeof(*h->nodes));
	if (!h->nodes || hostfs_rehash(h, 64) < 0)
		goto fail;
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	r = hostfs_insert_locked(h, fd, false, &st, &root);
	if (r < 0) {
		close(fd);
		goto fail;
	}
	*out = h;
	return 0;
fail:
	hostfs_close(h);
	return r;
}

void hostfs_close(struct hostfs *h)
{
	if (!h)
		return;
	for (uint32_t i = 0; h->nodes && i < h->nnodes; i++)
		if (h->nodes[i].fd >= 0)
			close(h->nodes[i].fd);
	free(h->nodes);
	free(h->buckets);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/*
 * The node's fd.  The kernel sends no FORGET for a node while a request on it
 * is in flight, so the fd stays open after the lock is dropped.
 */
static int hostfs_fd(struct hostfs *h, uint32_t node, bool *readable)
{
	int fd = -1;

	pthread_mutex_lock(&h->lock);
	if (node < h->nnodes && h->nodes[node].fd >= 0) {
		fd = h->nodes[node].fd;
		if (readable)
			*readable = h->nodes[node].readable;
	}
	pthread_mutex_unlock(&h->lock);
	return fd;
}

int hostfs_root_fd(struct hostfs *h)
{
	return hostfs_fd(h, HOSTFS_ROOT, NULL);
}

static int hostfs_stat_fd(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int hostfs_lookup(struct hostfs *h, uint32_t dir, const char *name, uint32_t *node, struct stat *st)
{
	int dfd = hostfs_fd(h, dir, NULL), fd, r;
	bool readable = false;
	int64_t old;

	if (dfd < 0)
		return -ESTALE;
	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EACCES;
	fd = hostfs_openat2(dfd, name, O_PATH);
	if (fd < 0)
		return fd;
	r = hostfs_stat_fd(fd, st);
	if (r < 0)
		goto fail;
	if (S_ISREG(st->st_mode)) {
		/* Regular files get a readable fd now, so reads never reopen by path. */
		int rfd = hostfs_openat2(dfd, name, O_RDONLY | O_NOCTTY | O_NOATIME);
		struct stat rst;

		if (rfd == -EPERM)
			rfd = hostfs_openat2(dfd, name, O_RDONLY | O_NOCTTY);
		if (rfd >= 0 && fstat(rfd, &rst) == 0 && rst.st_dev == st->st_dev && rst.st_ino == st->st_ino) {
			close(fd);
			fd = rfd;
			readable = true;
		} else if (rfd >= 0) {
			close(rfd);
		}
	}
	pthread_mutex_lock(&h->lock);
	old = hostfs_find_locked(h, st->st_dev, st->st_ino);
	if (old >= 0) {
		h->nodes[old].nlookup++;
		*node = (uint32_t)old;
		r = 1;
	} else {
		r = hostfs_insert_locked(h, fd, readable, st, node);
	}
	pthread_mutex_unlock(&h->lock);
	if (r == 0)
		return 0;
fail:
	close(fd);
	return r > 0 ? 0 : r;
}

void hostfs_forget(struct hostfs *h, uint32_t node, uint64_t n)
{
	int fd = -1;

	pthread_mutex_lock(&h->lock);
	if (node != HOSTFS_ROOT && node < h->nnodes && h->nodes[node].fd >= 0) {
		struct hostfs_node *nd = &h->nodes[node];

		nd->nlookup -= n < nd->nlookup ? n : nd->nlookup;
		if (nd->nlookup == 0) {
			uint32_t *pp = &h->buckets[hostfs_hash(h, nd->dev, nd->ino)];

			while (*pp != node)
				pp = &h->nodes[*pp].next;
			*pp = nd->next;
			fd = nd->fd;
			nd->fd = -1;
			nd->next = h->free;
			h->free = node;
			h->count--;
		}
	}
	pthread_mutex_unlock(&h->lock);
	if (fd >= 0)
		close(fd);
}

int hostfs_getattr(struct hostfs *h, uint32_t node, struct stat *st)
{
	int fd = hostfs_fd(h, node, NULL);

	return fd < 0 ? -ESTALE : hostfs_stat_fd(fd, st);
}

ssize_t hostfs_readlink(struct hostfs *h, uint32_t node, char *buf, size_t len)
{
	int fd = hostfs_fd(h, node, NULL);
	ssize_t n;

	if (fd < 0)
		return -ESTALE;
	n = readlinkat(fd, "", buf, len);
	if (n < 0)
		return errno == ENOENT ? -EINVAL : -errno;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return n;
}

ssize_t hostfs_read(struct hostfs *h, uint32_t node, void *buf, size_t len, off_t off)
{
	bool readable = false;
	int fd = hostfs_fd(h, node, &readable);
	ssize_t n;

	if (fd < 0)
		return -ESTALE;
	if (!readable)
		return -EACCES;
	do
		n = pread(fd, buf, len, off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int hostfs_statfs(struct hostfs *h, uint32_t node, struct statvfs *sv)
{
	int fd = hostfs_fd(h, node, NULL);

	if (fd < 0)
		return -ESTALE;
	return fstatvfs(fd, sv) < 0 ? -errno : 0;
}

int hostfs_opendir(struct hostfs *h, uint32_t node, struct hostfs_dir **out)
{
	int fd = hostfs_fd(h, node, NULL), dfd;
	struct hostfs_dir *d;

	if (fd < 0)
		return -ESTALE;
	dfd = hostfs_openat2(fd, ".", O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return dfd;
	d = calloc(1, sizeof(*d));
	if (!d || !(d->dp = fdopendir(dfd))) {
		int e = d ? -errno : -ENOMEM;

		free(d);
		close(dfd);
		return e;
	}
	*out = d;
	return 0;
}

void hostfs_closedir(struct hostfs_dir *d)
{
	closedir(d->dp);
	free(d);
}

int hostfs_readdir(struct hostfs_dir *d, off_t off, hostfs_dirent_fn *cb, void *ctx)
{
	if (off != d->pos) {
		seekdir(d->dp, off);
		d->pos = off;
	}
	for (;;) {
		struct dirent *de;
		int r;

		errno = 0;
		de = readdir(d->dp);
		if (!de)
			return errno ? -errno : 0;
		d->pos = de->d_off;
		r = cb(ctx, de->d_name, de->d_ino, de->d_type, de->d_off);
		if (r)
			return r;
	}
}
