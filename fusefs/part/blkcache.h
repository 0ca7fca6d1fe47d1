/* blkcache.h: a read cache of 64 KiB chunks for disks whose every read is a round trip (an image served by QEMU). */
#ifndef KVMLOAD_BLKCACHE_H
#define KVMLOAD_BLKCACHE_H

#include <stddef.h>
#include <stdint.h>

#define BLKCACHE_CHUNK (64u * 1024)
#define BLKCACHE_CHUNKS 256u          /* 16 MiB */
#define BLKCACHE_DIRECT (128u * 1024) /* reads this large go straight to the disk */

struct blkcache;

/* A cache over fd's first size bytes; NULL when out of memory. */
struct blkcache *blkcache_new(int fd, uint64_t size);
void blkcache_free(struct blkcache *c);

/* Exactly len bytes at off (within size, which the caller checked); 0 or -errno. Thread-safe. */
int blkcache_read(struct blkcache *c, void *buf, size_t len, uint64_t off);

#endif
