/* ufs_int.h: the reader's private types: trusted geometry, decoded inodes, device and cache access. */
#ifndef KVMLOAD_UFS_INT_H
#define KVMLOAD_UFS_INT_H

#include <pthread.h>

#include "ufs.h"

#define UFS_NDADDR 12
#define UFS_NIADDR 3
#define UFS_DIRBLKSIZ 512
#define UFS_MAXNAMLEN 255
#define UFS_SYMLINK_MAX 1023 /* FreeBSD MAXPATHLEN - 1 */
#define UFS_SBLOCKSIZE 8192
#define UFS_SBSIZE_MIN 1376 /* sizeof(struct fs) */

#define UFS_IFMT 0170000
#define UFS_IFIFO 0010000
#define UFS_IFCHR 0020000
#define UFS_IFDIR 0040000
#define UFS_IFBLK 0060000
#define UFS_IFREG 0100000
#define UFS_IFLNK 0120000
#define UFS_IFSOCK 0140000
#define UFS_DT_WHT 14

/* Superblock geometry after ufs_sb_find has validated every field used for arithmetic. */
struct ufs_geom {
	int version; /* 1 or 2 */
	bool be;
	uint64_t sblock_off;
	uint32_t bsize, fsize, frag;
	uint32_t bshift, fshift;
	uint32_t ncg, ipg, fpg, inopb, nindir;
	uint32_t inosize; /* 128 or 256 */
	uint32_t iblkno;  /* frags from cg start */
	int32_t old_cgoffset;
	uint32_t old_cgmask;
	uint64_t size;    /* frags */
	int32_t maxsymlinklen;
	bool old_dirfmt;  /* UFS1 4.2BSD directories and 16-bit ids */
	uint64_t maxfilesize;
	uint32_t fs_flags;
	char volname[33];
	uint32_t id[2];
};

/* An inode as decoded from disk; only fields read by the reader. */
struct ufs_inode {
	uint64_t ino;
	uint16_t mode, nlink;
	uint32_t uid, gid, flags, gen;
	uint64_t size, blocks;
	struct timespec atime, mtime, ctime, birthtime;
	uint64_t db[UFS_NDADDR], ib[UFS_NIADDR];
	uint8_t shortlink[120]; /* raw bytes of di_db/di_ib for fast symlinks */
};

#define UFS_CACHE_SLOTS 16

struct ufs_cache_slot {
	uint64_t daddr; /* 0 = empty */
	uint64_t used;  /* LRU stamp */
	uint8_t *data;  /* bsize bytes */
};

struct ufs {
	struct ufs_dev dev;
	struct ufs_geom g;
	pthread_mutex_t lock; /* guards the indirect-block cache */
	uint64_t clock;
	struct ufs_cache_slot cache[UFS_CACHE_SLOTS];
};

/* One directory entry as the walker reports it. */
struct ufs_dirent {
	uint64_t off, next; /* byte offset of this entry and of the one after it */
	uint64_t ino;
	uint8_t type;
	uint8_t namlen;
	const char *name; /* not NUL-terminated */
};
typedef int ufs_dir_fn(void *ctx, const struct ufs_dirent *de);

/* ufs.c */
int ufs_dev_read(struct ufs *fs, void *buf, size_t len, uint64_t off);

/* ufs_sb.c: 0, -EINVAL (no UFS), -EIO (corrupt, logged), or a device error. */
int ufs_sb_find(const struct ufs_dev *dev, struct ufs_geom *g);

/* ufs_inode.c */
int ufs_inode_offset(const struct ufs *fs, uint64_t ino, uint64_t *off);
int ufs_inode_load(struct ufs *fs, uint64_t ino, struct ufs_inode *ip);
int ufs_inode_bmap(struct ufs *fs, const struct ufs_inode *ip, uint64_t lbn, uint64_t *daddr);
ssize_t ufs_inode_read(struct ufs *fs, const struct ufs_inode *ip, void *buf, size_t len,
		       uint64_t off);
ssize_t ufs_inode_readlink(struct ufs *fs, const struct ufs_inode *ip, char *buf, size_t len);
void ufs_inode_cache_free(struct ufs *fs);

/* ufs_dir.c */
int ufs_dir_walk(struct ufs *fs, const struct ufs_inode *dp, uint64_t off, ufs_dir_fn *cb,
		 void *ctx);
int ufs_dir_lookup(struct ufs *fs, const struct ufs_inode *dp, const char *name, size_t namelen,
		   uint64_t *ino);

#endif
