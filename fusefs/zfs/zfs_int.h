/* zfs_int.h: the ZFS reader's private types: on-disk constants, vdevs, block pointers, objects, ZAPs, the block cache. */
#ifndef KVMLOAD_ZFS_INT_H
#define KVMLOAD_ZFS_INT_H

#include <pthread.h>

#include "span.h"
#include "zfs.h"

/* ---- on-disk constants ---- */
#define ZFS_LABEL_SIZE (256u << 10)
#define ZFS_LABEL_NVL_OFF (16u << 10)
#define ZFS_LABEL_NVL_SIZE (112u << 10)
#define ZFS_LABEL_UB_OFF (128u << 10)
#define ZFS_LABEL_UB_SIZE (128u << 10)
#define ZFS_LABEL_START (4u << 20) /* two labels and the boot area: DVA offsets start here */
#define ZFS_UB_MAGIC 0x00bab10cull
#define ZFS_ECK_MAGIC 0x0210da7ab10c7a11ull /* the embedded checksum's tail */
#define ZFS_ECK_SIZE 40
#define ZFS_SECTOR_SHIFT 9
#define ZFS_MAX_BLOCK (16u << 20) /* largest logical block (large_blocks) */
#define ZFS_BP_SIZE 128
#define ZFS_DNODE_SIZE 512
#define ZFS_DNODE_MAX (16u << 10) /* a large dnode: 32 slots */
#define ZFS_MAX_LEVELS 9          /* deepest indirection ZFS makes with 128-byte pointers */
#define ZFS_GANG_SIZE 512
#define ZFS_GANG_NBP 3
#define ZFS_MAX_VDEV_CHILDREN 255

/* Checksum algorithms (enum zio_checksum). */
enum {
	ZCK_INHERIT, ZCK_ON, ZCK_OFF, ZCK_LABEL, ZCK_GANG_HEADER, ZCK_ZILOG, ZCK_FLETCHER2,
	ZCK_FLETCHER4, ZCK_SHA256, ZCK_ZILOG2, ZCK_NOPARITY, ZCK_SHA512, ZCK_SKEIN, ZCK_EDONR,
	ZCK_BLAKE3, ZCK_COUNT
};
/* Compression algorithms (enum zio_compress). */
enum {
	ZCP_INHERIT, ZCP_ON, ZCP_OFF, ZCP_LZJB, ZCP_EMPTY, ZCP_GZIP1, ZCP_GZIP9 = ZCP_GZIP1 + 8,
	ZCP_ZLE, ZCP_LZ4, ZCP_ZSTD, ZCP_COUNT
};
/* Object types the reader checks (enum dmu_object_type). */
enum {
	ZOT_OBJECT_DIRECTORY = 1, ZOT_DNODE = 10, ZOT_OBJSET = 11, ZOT_DSL_DIR = 12,
	ZOT_DSL_DATASET = 16, ZOT_ZNODE = 17, ZOT_SA = 44
};
#define ZOS_TYPE_ZFS 2 /* the objset type of a file system (volumes are 3) */

/* ---- checksums and codecs (zfs_cksum.c, zfs_codec.c) ---- */
struct zfs_cksum {
	uint64_t w[4];
};
/*
 * The checksum of data[0..len) with algorithm alg (ZCK_*), in ZFS's
 * word order: 0, -ENOTSUP for an algorithm with no implementation here
 * (Skein, Edon-R, BLAKE3), -EINVAL for an unknown one.
 */
int zfs_cksum_compute(unsigned alg, const void *data, size_t len, struct zfs_cksum *out);
/* The algorithm's name ("fletcher4"), or "unknown". */
const char *zfs_cksum_name(unsigned alg);
/*
 * Decompress src[0..slen) with algorithm comp (ZCP_*) into dlen bytes of
 * dst: 0, -EIO when the data is corrupt or decodes past dlen, -ENOTSUP for
 * an unknown algorithm.  As in ZFS, an lz4, gzip or zstd stream that ends
 * early is accepted and the rest of dst is zeros (the block's checksum has
 * vouched for the stream).
 */
int zfs_decompress(unsigned comp, const void *src, size_t slen, void *dst, size_t dlen);
const char *zfs_compress_name(unsigned comp);

/* ---- XDR nvlists (zfs_nvl.c): labels' configuration ---- */
enum {
	NVT_BOOLEAN = 1, NVT_UINT64 = 8, NVT_STRING = 9, NVT_UINT64_ARRAY = 16, NVT_NVLIST = 19,
	NVT_NVLIST_ARRAY = 20
};
/* An nvlist inside a label: a window over its encoded pairs. */
struct zfs_nvl {
	struct span s;
};
/* The packed nvlist in buf (its 4-byte header first); 0 or -EIO. */
int zfs_nvl_open(struct span buf, struct zfs_nvl *out);
int zfs_nvl_u64(const struct zfs_nvl *l, const char *name, uint64_t *v);
/* A string value, copied NUL-terminated into buf (truncated to fit). */
int zfs_nvl_str(const struct zfs_nvl *l, const char *name, char *buf, size_t len);
int zfs_nvl_list(const struct zfs_nvl *l, const char *name, struct zfs_nvl *out);
/* Element i of an nvlist array, and the array's length in *n. */
int zfs_nvl_list_at(const struct zfs_nvl *l, const char *name, size_t i, struct zfs_nvl *out, size_t *n);
/* Each pair's name in turn (for features_for_read); cb's non-zero return stops it. */
int zfs_nvl_names(const struct zfs_nvl *l, int (*cb)(void *ctx, const char *name), void *ctx);

/* ---- vdevs (zfs_vdev.c) ---- */
enum zfs_vdev_type { ZV_DISK, ZV_MIRROR, ZV_RAIDZ, ZV_HOLE };
struct zfs_vdev {
	enum zfs_vdev_type type;
	uint64_t guid, id;
	unsigned ashift, nparity;
	uint64_t asize;
	char path[128];               /* as the label records it, for messages */
	const struct zfs_dev *dev;    /* a leaf's device; NULL when missing */
	struct zfs_vdev *child;       /* mirror and raidz children */
	unsigned nchildren;
};
/* Read size bytes of a top-level vdev at DVA offset off; copy picks a mirror side. */
int zfs_vdev_read(const struct zfs_vdev *top, unsigned copy, uint64_t off, void *buf, size_t size);
/* How many independent copies a read of top can be tried on (mirror sides present). */
unsigned zfs_vdev_copies(const struct zfs_vdev *top);

/* ---- block pointers and the block cache (zfs_blk.c) ---- */
struct zfs_bp {
	uint8_t raw[ZFS_BP_SIZE];
};
struct zfs_pool;
/* A cached, decompressed block; shared, read-only, counted. */
struct zfs_buf {
	struct zfs_buf *hnext, *lprev, *lnext;
	uint64_t key[3];
	unsigned refs;
	size_t size;
	uint8_t data[];
};
uint64_t zfs_bp_word(const struct zfs_bp *bp, unsigned i);
bool zfs_bp_is_hole(const struct zfs_bp *bp);
bool zfs_bp_is_embedded(const struct zfs_bp *bp);
unsigned zfs_bp_level(const struct zfs_bp *bp);
unsigned zfs_bp_type(const struct zfs_bp *bp);
bool zfs_bp_encrypted(const struct zfs_bp *bp);
uint64_t zfs_bp_lsize(const struct zfs_bp *bp);
uint64_t zfs_bp_birth(const struct zfs_bp *bp);
/*
 * The block bp points at, verified and decompressed, through the cache:
 * 0 and *out (release with zfs_buf_put), -EIO (corrupt, or sealed by
 * encryption where nothing should be), -ENOMEM.  A hole reads as zeros.
 */
int zfs_bp_read(struct zfs_pool *p, const struct zfs_bp *bp, struct zfs_buf **out);
void zfs_buf_put(struct zfs_pool *p, struct zfs_buf *b);
/*
 * The same into dst (len bytes, at least the logical size; the rest zeros),
 * past the cache: for file data, which the kernel's page cache keeps.
 */
int zfs_bp_read_into(struct zfs_pool *p, const struct zfs_bp *bp, void *dst, size_t len);
void zfs_cache_free(struct zfs_pool *p);

/* ---- the pool ---- */
struct zfs_pool {
	char name[256];
	uint64_t guid, txg;
	struct zfs_vdev *top;  /* top-level vdevs, by id */
	unsigned ntop;
	struct zfs_bp rootbp;  /* the chosen uberblock's MOS pointer */
	struct zfs_objset *mos;
	uint64_t bootfs;
	uint64_t size, used;
	struct zfs_dsinfo *ds;
	size_t nds;
	unsigned unverified[ZCK_COUNT]; /* blocks read whose checksum could not be checked */
	/* the cache */
	pthread_mutex_t lock;
	struct zfs_buf **hash;
	size_t nhash, bytes;
	struct zfs_buf *lru;   /* list sentinel: lnext is the most recently used */
};

/* ---- objects (zfs_obj.c) ---- */
/* A dnode as read: up to its slots' bytes, and the fields the reader uses. */
struct zfs_dnode {
	uint8_t type, indblkshift, nlevels, nblkptr, bonustype, flags;
	uint32_t datablksz;   /* bytes */
	uint16_t bonuslen;
	uint64_t maxblkid, used;
	struct span bonus;    /* inside raw */
	const uint8_t *bp0;   /* dn_blkptr[0], inside raw */
	const uint8_t *spill; /* the spill pointer, or NULL */
	uint8_t raw[ZFS_DNODE_MAX];
};
struct zfs_objset {
	struct zfs_pool *pool;
	uint64_t type;
	struct zfs_dnode meta; /* the meta-dnode: the array of all dnodes */
};
/* Read the objset bp points at. */
int zfs_objset_open(struct zfs_pool *p, const struct zfs_bp *bp, struct zfs_objset **out);
void zfs_objset_close(struct zfs_objset *os);
/* Dnode obj of os; -ENOENT when it is free or out of range, -EIO when corrupt. */
int zfs_dnode_get(struct zfs_objset *os, uint64_t obj, struct zfs_dnode *dn);
/* Logical block blkid of dn (a hole reads as zeros); *out as for zfs_bp_read. */
int zfs_dnode_block(struct zfs_pool *p, const struct zfs_dnode *dn, uint64_t blkid, struct zfs_buf **out);
/* len bytes of dn's data at off; past the last block reads zeros. */
int zfs_dnode_read(struct zfs_pool *p, const struct zfs_dnode *dn, uint64_t off, void *buf, size_t len);

/* ---- ZAPs (zfs_zap.c) ---- */
/*
 * The value of name in the ZAP object dn: up to max integers of intlen
 * bytes (1, 2, 4 or 8) into out, *n set to how many it has.  -ENOENT,
 * -EINVAL (a value of another width), -EIO.
 */
int zfs_zap_lookup(struct zfs_pool *p, const struct zfs_dnode *dn, const char *name, unsigned intlen,
		   void *out, size_t max, size_t *n);
int zfs_zap_u64(struct zfs_pool *p, const struct zfs_dnode *dn, const char *name, uint64_t *v);
/* One entry of a ZAP walk: its name, its first value if an 8-byte integer, the cookie after it. */
struct zfs_zap_ent {
	char name[256];
	unsigned intlen;
	size_t numints;
	uint64_t value;
	uint64_t next;
};
/* Entries from cookie off (0: the first) on; cb's non-zero return stops the walk. */
int zfs_zap_walk(struct zfs_pool *p, const struct zfs_dnode *dn, uint64_t off,
		 int (*cb)(void *ctx, const struct zfs_zap_ent *e), void *ctx);
/* Cookies of a ZAP walk stay below this: the view numbers its own entries above it. */
#define ZFS_ZAP_COOKIE_END (1ull << 62)

/* ---- datasets (zfs_dsl.c) and labels (zfs_label.c) ---- */
int zfs_dsl_load(struct zfs_pool *p);
void zfs_dsl_free(struct zfs_pool *p);
/* The dataset's objset bp and its flags, from its dsl_dataset_phys. */
int zfs_dsl_dataset_bp(struct zfs_pool *p, uint64_t dsobj, struct zfs_bp *bp);

/* Checksum an embedded-checksum region (labels, uberblocks, gang headers) against its verifier. */
int zfs_eck_verify(const void *data, size_t len, const struct zfs_cksum *verifier);

#endif
