/* blkcache.c: 64 KiB chunks of a slow disk, a hash of chunk numbers and a clock for eviction, under one lock. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blkcache.h"

#define BLKCACHE_HASH (BLKCACHE_CHUNKS * 2)
#define BLKCACHE_NONE UINT32_MAX

struct blkcache_slot {
	uint64_t chunk;   /* which chunk of the disk; UINT64_MAX when empty */
	uint32_t next;    /* the hash chain */
	uint32_t len;     /* bytes valid (the last chunk of a disk is short) */
	bool used;        /* the clock's second chance */
};

struct blkcache {
	int fd;
	uint64_t size;
	pthread_mutex_t lock;
	uint32_t hand;
	uint32_t head[BLKCACHE_HASH];
	struct blkcache_slot slot[BLKCACHE_CHUNKS];
	uint8_t *data;
};

/* Exactly len bytes at off of the file; a short read is the disk shrinking (EIO). */
static int blkcache_pread(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

struct blkcache *blkcache_new(int fd, uint64_t size)
{
	struct blkcache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->data = malloc((size_t)BLKCACHE_CHUNKS * BLKCACHE_CHUNK);
	if (!c->data) {
		free(c);
		return NULL;
	}
	c->fd = fd;
	c->size = size;
	pthread_mutex_init(&c->lock, NULL);
	for (uint32_t i = 0; i < BLKCACHE_HASH; i++)
		c->head[i] = BLKCACHE_NONE;
	for (uint32_t i = 0; i < BLKCACHE_CHUNKS; i++)
		c->slot[i].chunk = UINT64_MAX;
	return c;
}

void blkcache_free(struct blkcache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->data);
	free(c);
}

static uint32_t blkcache_hash(uint64_t chunk)
{
	return (uint32_t)((chunk * 0x9e3779b97f4a7c15ull) >> 40) % BLKCACHE_HASH;
}

static void blkcache_unlink(struct blkcache *c, uint32_t s)
{
	uint32_t *p = &c->head[blkcache_hash(c->slot[s].chunk)];

	while (*p != BLKCACHE_NONE && *p != s)
		p = &c->slot[*p].next;
	if (*p == s)
		*p = c->slot[s].next;
}

/* The slot holding chunk, read from the disk on a miss (evicting by the clock); -errno. */
static int blkcache_get(struct blkcache *c, uint64_t chunk, uint32_t *out)
{
	uint32_t h = blkcache_hash(chunk), s;
	uint64_t off = chunk * BLKCACHE_CHUNK;
	size_t len = c->size - off < BLKCACHE_CHUNK ? (size_t)(c->size - off) : BLKCACHE_CHUNK;
	int r;

	for (s = c->head[h]; s != BLKCACHE_NONE; s = c->slot[s].next)
		if (c->slot[s].chunk == chunk) {
			c->slot[s].used = true;
			*out = s;
			return 0;
		}
	while (c->slot[c->hand].used) {
		c->slot[c->hand].used = false;
		c->hand = (c->hand + 1) % BLKCACHE_CHUNKS;
	}
	s = c->hand;
	c->hand = (c->hand + 1) % BLKCACHE_CHUNKS;
	if (c->slot[s].chunk != UINT64_MAX)
		blkcache_unlink(c, s);
	c->slot[s].chunk = UINT64_MAX;
	r = blkcache_pread(c->fd, c->data + (size_t)s * BLKCACHE_CHUNK, len, off);
	if (r < 0)
		return r;
	c->slot[s] = (struct blkcache_slot){ .chunk = chunk, .next = c->head[h], .len = (uint32_t)len,
					     .used = true };
	c->head[h] = s;
	*out = s;
	return 0;
}

int blkcache_read(struct blkcache *c, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	int r = 0;

	if (len >= BLKCACHE_DIRECT)
		return blkcache_pread(c->fd, buf, len, off);
	pthread_mutex_lock(&c->lock);
	while (len > 0 && r == 0) {
		uint64_t chunk = off / BLKCACHE_CHUNK;
		size_t at = (size_t)(off % BLKCACHE_CHUNK), n;
		uint32_t s;

		r = blkcache_get(c, chunk, &s);
		if (r < 0) {
			/* A chunk that cannot be read whole: only the bytes asked for decide (a bad sector fails its own reads). */
			r = blkcache_pread(c->fd, p, len, off);
			break;
		}
		if (at >= c->slot[s].len) {
			r = -EIO;
			break;
		}
		n = c->slot[s].len - at < len ? c->slot[s].len - at : len;
		memcpy(p, c->data + (size_t)s * BLKCACHE_CHUNK + at, n);
		p += n;
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}
