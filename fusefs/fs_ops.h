/* fs_ops.h: the FUSE low-level operations of kvmload-fs and the context they share. */
#ifndef KVMLOAD_FS_OPS_H
#define KVMLOAD_FS_OPS_H

#include <fuse_lowlevel.h>
#include <stdbool.h>

#include "tree.h"

struct fs_ctx {
	struct tree *tree;
	int ready_fd;   /* --ready-fd: one byte when INIT arrives, then closed; -1 if none */
	int notify_fd;  /* background mode: the waiting parent's pipe, same protocol; -1 if none */
	bool no_open;   /* the kernel supports zero-message opens (open may answer ENOSYS) */
};

extern const struct fuse_lowlevel_ops fs_ops;

#endif
