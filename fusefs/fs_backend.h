/* fs_backend.h: the operations each backend of the view (synthetic nodes, host0, a partition's UFS, a ZFS mount) gives fs_ops.c. */
#ifndef KVMLOAD_FS_BACKEND_H
#define KVMLOAD_FS_BACKEND_H

#include <stdbool.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "fs_ops.h"

/* Attribute and entry timeout of what does not change under a read-only view: the guest disks. */
#define FS_STATIC_TIMEOUT 3600.0

struct fs_dirbuf;

/* A FUSE node id resolved once (fs_resolve) to its backend. */
struct fs_node {
	const struct fs_backend_ops *ops;
	struct fs_ctx *c;
	uint64_t ino;           /* the FUSE node id */
	uint32_t local;         /* the backend's own number: TREE_LOCAL(ino) */
	struct tree_part *part; /* UFS nodes: their partition; else NULL */
	struct tree_zmount *zm; /* ZFS nodes: their mount; else NULL */
};

/*
 * What fs_ops.c calls on a resolved node.  Each returns 0 (or a length) or
 * -errno, which is replied as it is.  The ops marked optional may be NULL.
 */
struct fs_backend_ops {
	double timeout;  /* attribute and entry timeout, in seconds */
	bool keep_cache; /* nothing changes under the view: the kernel may keep file pages and listings */
	/* st_ino is the FUSE node id. */
	int (*getattr)(const struct fs_node *n, struct stat *st);
	/*
	 * NAME in directory dir: e filled by fs_entry (id, attributes, timeouts), or
	 * e left alone (e->ino 0, a negative entry) when there is no such name.
	 */
	int (*lookup)(const struct fs_node *dir, const char *name, struct fuse_entry_param *e);
	/* The link text, NUL-terminated; its length. */
	ssize_t (*readlink)(const struct fs_node *n, char *buf, size_t len);
	/* Up to len bytes at off (>= 0); the count read. */
	ssize_t (*read)(const struct fs_node *n, void *buf, size_t len, off_t off);
	/* Optional: a handle for readdir and releasedir in *fh (without: 0). */
	int (*opendir)(const struct fs_node *n, uint64_t *fh);
	void (*releasedir)(uint64_t fh);
	/* Entries from cookie off (>= 0) on into db, until it is full (fs_dir_add*). */
	int (*readdir)(const struct fs_node *dir, uint64_t fh, off_t off, struct fs_dirbuf *db);
	/* Optional: fill in sv, which holds 4 KiB blocks and no counts. */
	int (*statfs)(const struct fs_node *n, struct statvfs *sv);
	/*
	 * Optional: extended attribute name of n into buf (size 0: only its
	 * length); the length, or -ENODATA.  Without: every name is -ENODATA.
	 */
	ssize_t (*getxattr)(const struct fs_node *n, const char *name, char *buf, size_t size);
	/* Optional: drop nlookup lookups (without: the backend's ids are computed, not counted). */
	void (*forget)(const struct fs_node *n, uint64_t nlookup);
};

extern const struct fs_backend_ops fs_synth_ops, fs_host_ops, fs_ufs_ops, fs_zfs_ops;

/* The node FUSE node id ino names; -ENOENT for an id no backend holds. */
int fs_resolve(struct fs_ctx *c, uint64_t ino, struct fs_node *n);
/* The entry of node n: its id, its attributes and its backend's timeouts. */
int fs_entry(const struct fs_node *n, struct fuse_entry_param *e);

/* One READDIR(PLUS) reply being filled. */
struct fs_dirbuf {
	fuse_req_t req;
	const struct fs_node *dir;
	bool plus;
	char *buf;
	size_t size, used;
};

/* True when the entry NAME goes with its attributes: READDIRPLUS, and not "." or "..". */
bool fs_dir_plus(const struct fs_dirbuf *db, const char *name);
/*
 * Append one entry, the cookie after it being next; 1 when it does not fit.
 * For READDIRPLUS, e carries the attributes (e->ino == 0: attributes only,
 * no lookup taken).
 */
int fs_dir_add(struct fs_dirbuf *db, const char *name, const struct fuse_entry_param *e, off_t next);
/* An entry of which only the id and type reach the kernel (no lookup taken). */
int fs_dir_add_bare(struct fs_dirbuf *db, const char *name, uint64_t ino, mode_t type, off_t next);
/* Node n's entry: with its attributes when fs_dir_plus, else (or when they fail) bare. */
int fs_dir_add_node(struct fs_dirbuf *db, const char *name, const struct fs_node *n, mode_t type, off_t next);

#endif
