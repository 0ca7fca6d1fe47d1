/* hostfs.h: the read-only host tree shown as host0, confined beneath its root directory. */
#ifndef KVMLOAD_HOSTFS_H
#define KVMLOAD_HOSTFS_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#define HOSTFS_ROOT 0u /* node number of the tree's root; it is never forgotten */

struct hostfs;     /* node table: (st_dev, st_ino) <-> node number, with lookup counts */
struct hostfs_dir; /* one open directory stream */

int hostfs_open(struct hostfs **out, const char *path);
void hostfs_close(struct hostfs *h);
/* The tree's root directory (O_PATH): what a confined server may read beneath. */
int hostfs_root_fd(struct hostfs *h);

/*
 * Look NAME (one component) up in directory node DIR and count one lookup of
 * the result.  Symlinks are never followed; ".." and names with '/' are refused.
 */
int hostfs_lookup(struct hostfs *h, uint32_t dir, const char *name, uint32_t *node, struct stat *st);
/* Drop n lookups; the node's fd is closed when none is left. */
void hostfs_forget(struct hostfs *h, uint32_t node, uint64_t n);

int hostfs_getattr(struct hostfs *h, uint32_t node, struct stat *st);
/* The link text, NUL-terminated; its length or -errno (-ENAMETOOLONG when len is too small). */
ssize_t hostfs_readlink(struct hostfs *h, uint32_t node, char *buf, size_t len);
ssize_t hostfs_read(struct hostfs *h, uint32_t node, void *buf, size_t len, off_t off);
int hostfs_statfs(struct hostfs *h, uint32_t node, struct statvfs *sv);

int hostfs_opendir(struct hostfs *h, uint32_t node, struct hostfs_dir **out);
void hostfs_closedir(struct hostfs_dir *d);
/*
 * Entries from cookie off on (0 = start); cb gets each with its host inode and
 * the cookie after it.  A non-zero cb return stops the walk and is returned.
 */
typedef int hostfs_dirent_fn(void *ctx, const char *name, ino_t ino, unsigned char dtype, off_t next);
int hostfs_readdir(struct hostfs_dir *d, off_t off, hostfs_dirent_fn *cb, void *ctx);

#endif
