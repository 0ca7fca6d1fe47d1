/* zfs.h: read-only ZFS reader (pools from member devices, datasets, files) over caller-supplied devices; no FUSE dependency. */
#ifndef KVMLOAD_ZFS_H
#define KVMLOAD_ZFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* Where a vdev's bytes come from: a partition window of a disk, as for libufs. */
struct zfs_dev {
	/* Read exactly len bytes at off (relative to the partition start); 0 or -errno. */
	int (*pread)(void *ctx, void *buf, size_t len, uint64_t off);
	void *ctx;
	uint64_t size;    /* partition size in bytes: nothing past it is ever read */
	const char *name; /* for messages: "disk0p3" */
};

struct zfs_set;  /* the member devices found so far, grouped into pools by zfs_set_assemble */
struct zfs_pool; /* one assembled pool, readable; internally synchronised */
struct zfs_fs;   /* one opened file system dataset (or snapshot) */

/* Fixed budget of the decompressed-block cache of each pool, in bytes. */
#define ZFS_CACHE_BYTES (24u << 20)

/*
 * Before a reader is confined to files it already holds: OpenSSL reads its
 * configuration and loads the SHA-2 digests on first use, which this makes
 * now.  0, or -ENOTSUP when one is missing (its blocks then stay unverified).
 */
int zfs_cksum_prepare(void);

int zfs_set_new(struct zfs_set **out);
/*
 * Read dev's labels: 0 and *pool_guid set when it is a ZFS member (dev must
 * outlive the set and its pools), -EINVAL when it is not, -EIO when every
 * label is corrupt (logged), -ENOMEM.
 */
int zfs_set_add(struct zfs_set *s, const struct zfs_dev *dev, uint64_t *pool_guid);
/*
 * Assemble every pool of the set.  A pool that cannot be read (a member
 * missing, a feature this reader does not know, no valid uberblock) is
 * logged with its name and the reason, and left out.  The pools are owned by
 * the set.
 */
int zfs_set_assemble(struct zfs_set *s);
size_t zfs_set_npools(const struct zfs_set *s);
struct zfs_pool *zfs_set_pool(const struct zfs_set *s, size_t i);
/* The pool a member with this pool GUID belongs to, or NULL. */
struct zfs_pool *zfs_set_find(const struct zfs_set *s, uint64_t pool_guid);
/* Print each pool found (assembled or not): vdevs, health, datasets (kvmload-fs --list). */
void zfs_set_list(const struct zfs_set *s, FILE *out);
void zfs_set_free(struct zfs_set *s);

struct zfs_pool_info {
	char name[256];
	uint64_t guid, txg;
	uint64_t size, used; /* bytes: the top-level vdevs' space, the root dataset's use */
	uint64_t bootfs;     /* dataset object of the bootfs property, 0 if unset */
};
void zfs_pool_get_info(const struct zfs_pool *p, struct zfs_pool_info *info);

/* One dataset of a pool, as zfs_pool_datasets reports it. */
struct zfs_dsinfo {
	char name[256];     /* "zroot/ROOT/default", "p/ds@snap" (ZFS names stop at 255 bytes) */
	uint64_t obj;       /* dataset object in the MOS: the id to open it by */
	uint64_t parent;    /* the parent file system's dataset object, 0 for the root dataset */
	bool snapshot;
	int why;            /* 0, or why its files cannot be read: -EACCES encrypted, -ENOTSUP a volume */
};
/*
 * Every file system dataset (with its snapshots right after it), parents
 * before children, children in name order.  The array is the pool's.
 */
const struct zfs_dsinfo *zfs_pool_datasets(const struct zfs_pool *p, size_t *n);

/*
 * Open dataset dsobj's file system.  -EACCES when it is encrypted, -ENOTSUP
 * when it is no file system (a volume) or its version is unknown, -EIO when
 * corrupt; all logged once.
 */
int zfs_fs_open(struct zfs_pool *p, uint64_t dsobj, struct zfs_fs **out);
void zfs_fs_close(struct zfs_fs *fs);
uint64_t zfs_fs_root(const struct zfs_fs *fs);

struct zfs_stat {
	uint64_t obj;
	uint32_t mode; /* S_IFMT included; same values as Linux */
	uint64_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t blocks; /* 512-byte units */
	uint64_t rdev;   /* as stored: the writer's dev_t */
	uint32_t blksize;
	uint64_t gen;
	struct timespec atime, mtime, ctime, crtime;
};

/* All return 0 or -errno: -ENOENT, -ENOTDIR, -EINVAL (wrong type), -EIO (corrupt; logged). */
int zfs_getattr(struct zfs_fs *fs, uint64_t obj, struct zfs_stat *st);
int zfs_lookup(struct zfs_fs *fs, uint64_t dir, const char *name, uint64_t *obj);
/*
 * Directory entries from cookie off on (0 = start), "." and ".." first.  cb
 * gets each entry and the cookie after it; its non-zero return stops the
 * walk and is returned.  dtype is a DT_* value.
 */
/* Cookies zfs_readdir gives stay below this: a caller may number entries of its own above it. */
#define ZFS_DIR_COOKIE_END ((1ull << 62) + 3)
typedef int zfs_dirent_fn(void *ctx, const char *name, size_t namelen, uint64_t obj, uint8_t dtype,
			  uint64_t next_off);
int zfs_readdir(struct zfs_fs *fs, uint64_t dir, uint64_t off, zfs_dirent_fn *cb, void *ctx);
/* Up to len bytes at off; holes read as zeros.  Bytes read (0 at EOF) or -errno. */
ssize_t zfs_read(struct zfs_fs *fs, uint64_t obj, void *buf, size_t len, uint64_t off);
/* Symlink target, NUL-terminated; -ENAMETOOLONG if it does not fit.  Its length. */
ssize_t zfs_readlink(struct zfs_fs *fs, uint64_t obj, char *buf, size_t len);

#endif
