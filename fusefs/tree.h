/* tree.h: the view's layout (host0, loader-named partitions, by-label links) and its inode numbering. */
#ifndef KVMLOAD_TREE_H
#define KVMLOAD_TREE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "blkdev.h"
#include "hostfs.h"
#include "probe.h"
#include "ufs.h"
#include "zfs.h"

#define TREE_MAXDISKS 32 /* bhyveload's NDISKS: loader units disk0..disk31 */

/*
 * A FUSE node id is (backend << 32) | local number.  Backend 0 holds the
 * synthetic nodes (1 = the root, FUSE_ROOT_ID), 1 is host0 (local = hostfs
 * node), 2 + i is partition i's UFS (local = UFS inode number, which UFS
 * keeps below 2^32), and 2 + nparts + k is ZFS mount k (local = object
 * number; TREE_ZCTL_* for its .zfs directories).
 */
#define TREE_SYNTH 0u
#define TREE_HOST 1u
#define TREE_UFS 2u
#define TREE_INO(backend, local) (((uint64_t)(backend) << 32) | (uint32_t)(local))
#define TREE_BACKEND(ino) ((uint32_t)((uint64_t)(ino) >> 32))
#define TREE_LOCAL(ino) ((uint32_t)(ino))

#define TREE_ROOT_INO 1u
#define TREE_BYLABEL_INO 2u
#define TREE_LINK0_INO 3u /* by-label link i is TREE_LINK0_INO + i */
#define TREE_ZFSDIR_INO 0x80000000u /* zfs/: one directory per pool */

/* A ZFS mount's own .zfs and .zfs/snapshot: above every object number it serves. */
#define TREE_ZCTL_ROOT 0xfffffff0u
#define TREE_ZCTL_SNAPDIR 0xfffffff1u
#define TREE_ZROOT 0xfffffff2u /* the dataset's root directory, whatever its object number */

/* Heap-allocated once: the UFS reader keeps pointers to win and dev. */
struct tree_part {
	struct probe_part p;
	struct blkpart win;
	struct ufs_dev dev;
	struct ufs *fs;        /* NULL: not shown as a directory */
	struct ufs_info info;  /* valid when fs */
	struct zfs_dev zdev;   /* a ZFS member's reads */
	bool zmember;          /* its labels name a pool */
	uint64_t zpool_guid;
	size_t zmount;         /* 1 + the mount its node shows; 0: none */
};

/* A ZFS mount's entry that leads to another mount: a child dataset, or a snapshot under .zfs/snapshot. */
struct tree_zlink {
	char name[NAME_MAX + 1];
	size_t mount;
};

/*
 * One place a dataset shows in the view (zfs/POOL/..., a member partition's
 * node, a snapshot): its own node ids, its file system opened on first use.
 */
struct tree_zmount {
	struct zfs_pool *pool;
	const struct zfs_dsinfo *ds;
	uint32_t backend;
	pthread_mutex_t lock;
	bool tried;
	int err;             /* why fs is NULL once tried */
	struct zfs_fs *fs;
	struct tree_zlink *kids, *snaps;
	size_t nkids, nsnaps;
};

struct tree_dirent {
	char name[NAME_MAX + 1];
	uint64_t ino;
	mode_t type; /* S_IFDIR or S_IFLNK */
};

struct tree {
	struct blkdev disks[TREE_MAXDISKS];
	unsigned ndisks;
	struct tree_part **parts;
	size_t nparts;
	struct hostfs *host; /* NULL without --host */
	struct zfs_set *zset;
	struct tree_zmount **zm;
	size_t nzm;
	struct tree_dirent *pools; /* zfs/ */
	size_t npools;
	struct tree_dirent *top, *labels; /* the root and by-label directories, without . and .. */
	size_t ntop, nlabels;
	char (*targets)[NAME_MAX + 8]; /* by-label link i points at targets[i] */
	struct timespec born; /* the synthetic nodes' times */
	uid_t uid;
	gid_t gid;
};

void tree_init(struct tree *t);
/*
 * The opening step, as the caller (the mount owner, root when it mounts):
 * blkdev_open of one disk as the next unit, a non-raw image exported to
 * reader; of its contents only the image header is read (disk_open).
 * -errno with err saying why (the caller names the path).
 */
int tree_open_disk(struct tree *t, const char *path, const char *format, int fd, bool raw,
		   const struct confine_user *reader, char *err, size_t errlen);
/*
 * The probing step, in the confined reader once blkdev_take has taken the
 * unit: its partition tables, each partition's UFS superblock or ZFS labels.
 * -errno with err saying why (the caller names the path).
 */
int tree_probe_disk(struct tree *t, unsigned unit, char *err, size_t errlen);
int tree_set_host(struct tree *t, const char *path);
/* Assemble the pools and build the root and by-label directories once every disk is probed; 0 or -ENOMEM. */
int tree_finish(struct tree *t);
void tree_free(struct tree *t);

/* The partition behind a UFS node, or NULL. */
struct tree_part *tree_ufs(const struct tree *t, uint64_t ino);
/* ZFS (tree_zfs.c): try a partition as a pool member; assemble the pools and lay out their mounts. */
int tree_zfs_probe(struct tree *t, struct tree_part *tp);
int tree_zfs_finish(struct tree *t);
void tree_zfs_free(struct tree *t);
/* The mount a member partition's node shows (its pool's bootfs, else root dataset), or NULL. */
struct tree_zmount *tree_zfs_part_mount(const struct tree *t, const struct tree_part *tp);
/* The ZFS mount behind a node, or NULL. */
struct tree_zmount *tree_zfs(const struct tree *t, uint64_t ino);
/* The mount's file system, opened on first use; -errno (logged once) when it cannot be. */
int tree_zfs_fs(struct tree_zmount *zm, struct zfs_fs **fs);
/* The by-label name of a partition ("" if none): GPT label, else UFS volume name. */
const char *tree_part_label(const struct tree_part *tp);

/* Synthetic nodes. */
const struct tree_dirent *tree_synth_dir(const struct tree *t, uint64_t ino, size_t *n);
int tree_synth_lookup(const struct tree *t, uint64_t dir, const char *name, uint64_t *ino);
int tree_synth_stat(const struct tree *t, uint64_t ino, struct stat *st);
/* Attributes of a node the view makes up (owned by the daemon's user, born with the view). */
void tree_made_stat(const struct tree *t, uint64_t ino, mode_t mode, nlink_t nlink, off_t size, struct stat *st);
const char *tree_synth_link(const struct tree *t, uint64_t ino);

#endif
