/* disks.h: phase 3: the guest's disks, each opened once, for the loader, the view and QEMU. */
#ifndef KVMLOAD_DISKS_H
#define KVMLOAD_DISKS_H

#include <stdbool.h>

#include "confine.h"
#include "loader.h"
#include "qemu.h"

/* The disks as the options give them. */
struct disks_spec {
	const char *const *paths;         /* -d, --disk-fd's PATH */
	const char *const *formats;       /* --format before each; NULL: detect */
	const int *fds;                   /* --disk-fd's descriptor (closed here), else -1 */
	int n;
	const struct confine_user *user;  /* who reads an image's layers (--user) */
	bool writable;                    /* the guest runs on QEMU and may write its disks (no --ro) */
};

/*
 * Each disk opened once (disk.h: read-only, its format, its backing files,
 * a non-raw image's guest-visible bytes) into l->disks; the loader and the
 * view read those descriptors, and QEMU gets the same files through qd.
 * With s->writable the image is opened for writing now, through its
 * descriptor (qd[i].rw_fd): a read-only device or file is given to the
 * guest read-only, said once.  Ends kvmload with a message naming the disk
 * when one cannot be opened.
 */
void disks_open(const struct disks_spec *s, struct loader *l, struct qemu_disk *qd);

#endif
