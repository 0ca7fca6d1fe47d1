/* ufs.h: read-only UFS1/UFS2 reader (either byte order) over a caller-supplied device; no FUSE dependency. */
#ifndef KVMLOAD_UFS_H
#define KVMLOAD_UFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define UFS_ROOT_INO 2

/* Where the file system's bytes come from: a partition window of a disk. */
struct ufs_dev {
	/* Read exactly len bytes at off (relative to the partition start); 0 or -errno. */
	int (*pread)(void *ctx, void *buf, size_t len, uint64_t off);
	void *ctx;
	uint64_t size; /* partition size in bytes: nothing past it is ever read */
};

struct ufs; /* one validated file system; internally synchronised for concurrent readers */

struct ufs_stat {
	uint64_t ino;
	uint32_t mode; /* FreeBSD mode bits incl. S_IFMT (same values as Linux) */
	uint32_t nlink;
	uint32_t uid, gid;
	uint32_t flags; /* chflags(2) flags */
	uint32_t gen;
	uint64_t size;
	uint64_t blocks; /* 512-byte units */
	uint64_t rdev;   /* FreeBSD dev_t for device nodes */
	uint32_t blksize;
	struct timespec atime, mtime, ctime, birthtime; /* birthtime 0 on UFS1 */
};

struct ufs_info {
	int version;       /* 1 or 2 */
	bool big_endian;
	uint64_t sblock_offset;
	uint32_t bsize, fsize;
	uint64_t size_bytes;
	char volname[33];  /* fs_volname, NUL-terminated ("" if unset) */
	uint32_t id[2];    /* fs_id */
};

/*
 * Find and validate the superblock (64 KiB, 8 KiB, 0, 256 KiB).
 * Returns 0, -EINVAL when there is no UFS, -EIO when it is corrupt
 * (one log line names the field), -ENOMEM.
 */
int ufs_open(struct ufs **out, const struct ufs_dev *dev);
void ufs_close(struct ufs *fs);
void ufs_get_info(const struct ufs *fs, struct ufs_info *info);

/* All return 0 or -errno: -ENOENT, -ENOTDIR, -EINVAL (wrong file type), -EIO (corrupt; logged). */
int ufs_getattr(struct ufs *fs, uint64_t ino, struct ufs_stat *st);
int ufs_lookup(struct ufs *fs, uint64_t dir_ino, const char *name, size_t namelen, uint64_t *ino);

/*
 * Directory entries from cookie `off` on (0 = start).  cb gets each entry and
 * the cookie of the entry after it; a non-zero return from cb stops the walk
 * (and is returned).  "." and ".." are reported as stored.
 */
typedef int ufs_dirent_fn(void *ctx, const char *name, size_t namelen, uint64_t ino,
			  uint8_t dtype, uint64_t next_off);
int ufs_readdir(struct ufs *fs, uint64_t dir_ino, uint64_t off, ufs_dirent_fn *cb, void *ctx);

/* Up to len bytes at off; holes read as zeros.  Returns bytes read (0 at EOF) or -errno. */
ssize_t ufs_read(struct ufs *fs, uint64_t ino, void *buf, size_t len, uint64_t off);
/* Symlink target, NUL-terminated; -ENAMETOOLONG if it does not fit. Returns its length. */
ssize_t ufs_readlink(struct ufs *fs, uint64_t ino, char *buf, size_t len);
/* Resolve an absolute path without following the last component's symlink (for ufsls). */
int ufs_resolve(struct ufs *fs, const char *path, uint64_t *ino);

#endif
