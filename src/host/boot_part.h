/* boot_part.h: choosing the view directory that is the plugin's host0:. */
#ifndef KVMLOAD_BOOT_PART_H
#define KVMLOAD_BOOT_PART_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Open (O_PATH|O_DIRECTORY) the directory of the view at root_fd (mounted
 * at mnt, named in messages) that the host-file callbacks read: want when
 * given (a top-level name such as "host0" or "disk0p2", "by-label/NAME", or
 * a ZFS dataset "zroot/ROOT/default", found under zfs/), else the first UFS
 * partition, disks in order, then the first ZFS member (its node shows the
 * pool's bootfs), holding /boot/loader or /boot/kernel.  The chosen name
 * goes to name, the ZFS dataset it shows (else "") to dataset.  Returns the
 * fd, or -errno with a message in err (-ENOENT: none).
 */
int boot_part_open(int root_fd, const char *mnt, const char *want, char *name, size_t namelen,
		   char *dataset, size_t dslen, char *err, size_t errlen);

/* True when the view at root_fd has a top-level directory called name. */
bool boot_part_has(int root_fd, const char *name);

#endif
