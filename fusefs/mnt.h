/* mnt.h: the mount table as kvmload-fs reads it: a mount point's absolute path and the topmost mount there. */
#ifndef KVMLOAD_MNT_H
#define KVMLOAD_MNT_H

#include <stdint.h>

/* Our mounts' type in mountinfo; mount.fuse3 runs the program named by the subtype for mount -o remount. */
#define MNT_SUBTYPE "kvmload-fs"
#define MNT_TYPE "fuse." MNT_SUBTYPE

/* The topmost mount at a path. */
struct mnt_top {
	int id;         /* mountinfo's first field: unique while the mount exists */
	uint64_t unique; /* never reused (Linux 6.8 on), 0 where the kernel does not say */
	char type[64];  /* "fuse.kvmload-fs", "ext4", ... (cut to fit) */
};

/*
 * The mount point's absolute path (malloc'd), found without a stat() of it,
 * which fails on a dead FUSE mount and hangs on a stuck one: only its
 * parent is resolved, unless it ends in "." or ".." or is a symbolic link.
 * NULL with errno set.
 */
char *mnt_abs_path(const char *mnt);

/*
 * The topmost mount at the absolute path `path`, from /proc/self/mountinfo
 * (never a stat of the mount point that could ask its server, see
 * mnt_abs_path; its never-reused id from a statx that does not): 1 and
 * *top, 0 when nothing is mounted there, or -errno.
 */
int mnt_top(const char *path, struct mnt_top *top);

#endif
