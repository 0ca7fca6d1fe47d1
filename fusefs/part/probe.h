/* probe.h: a disk's partitions (GPT, MBR, BSD label, bare) named the way FreeBSD's loader names them. */
#ifndef KVMLOAD_PROBE_H
#define KVMLOAD_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blkdev.h"

enum probe_scheme { PROBE_NONE, PROBE_GPT, PROBE_MBR, PROBE_BSD };

struct probe_part {
	char name[24];          /* disk0, disk1p2, disk2s1, disk2s1a */
	enum probe_scheme scheme; /* the table that holds this entry */
	char type[40];          /* freebsd-ufs, efi, 0xa5, or the GPT type GUID */
	uint64_t start, size;   /* bytes from the start of the disk, clipped to it; 0, 0 when refused */
	uint64_t recorded;      /* bytes the table gives it: more than size when it runs past the end */
	char label[112];        /* GPT partition name, UTF-8; "" if none */
	bool container;         /* holds a BSD label or logical partitions, never a file system */
	bool refused;           /* listed, never served: it ends before it starts, starts past the
				   end of the disk or lies over the partition table (logged) */
};

/*
 * Every partition of disk `unit`, in table order, each BSD label's entries
 * right after the slice holding it.  A disk without a partition table is one
 * entry named diskN.  What is wrong with a table or an entry is logged, and
 * the entry is still listed: clipped to the disk when it runs past its end,
 * refused when it cannot be served safely.  0, -ENOMEM, -EIO, or -EINVAL when
 * libblkid finds the tables ambiguous or unreadable (logged).
 */
int probe_disk(const struct blkdev *bd, unsigned unit, struct probe_part **parts, size_t *nparts);

const char *probe_scheme_name(enum probe_scheme scheme);

#endif
