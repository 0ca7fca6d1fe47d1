/* boot_part.h: choosing the view directory that is the plugin's host0:. */
#ifndef KVMLOAD_BOOT_PART_H
#define KVMLOAD_BOOT_PART_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Open (O_PATH|O_DIRECTORY) the directory of the view at root_fd (mounted
 * at mnt, named in messages) that the host-file callbacks read: want when
 * given (a top-level name such as "host0" or "disk0p2", or "by-label/NAME"),
 * else the first UFS partition, disks in order, holding /boot/loader or
 * /boot/kernel.  The chosen name goes to
 * name.  Returns the fd, or -errno with a message in err (-ENOENT: none).
 */
int boot_part_open(int root_fd, const char *mnt, const char *want, char *name, size_t namelen,
		   char *err, size_t errlen);

/* True when the view at root_fd has a top-level directory called name. */
bool boot_part_has(int root_fd, const char *name);

#endif
