/* disk.h: a guest disk opened once, its image format and backing files, and the guest-visible bytes, the one rule kvmload, kvmload-fs and kvmload-hotplug share. */
#ifndef KVMLOAD_DISK_H
#define KVMLOAD_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct confine_user;

#define DISK_UNITS_MAX 32 /* a guest's disks, disk0..disk31: bhyveload's NDISKS, every program's limit */
#define DISK_MAX_LAYERS 16 /* an image and its backing files */

/* One file of an image's chain, opened O_RDONLY once; QEMU and the exporter get this descriptor. */
struct disk_layer {
	int fd;
	const char *format; /* QEMU's driver name, from disk_format_name */
	bool blockdev;
	bool probed;        /* the format came from the first bytes (not forced, not a block device) */
	char *path;         /* as given, or a backing name resolved beside the file naming it (malloc'd) */
};

struct disk_info {
	int fd;           /* the guest-visible bytes, O_RDONLY: layer 0 itself when raw, else the exporter's */
	uint64_t size;    /* guest-visible bytes */
	uint32_t secsize; /* 512, or BLKSSZGET of a raw block device */
	struct disk_layer layer[DISK_MAX_LAYERS]; /* [0] the disk named, then its backing files */
	int nlayers;
	pid_t exporter;   /* qemu-storage-daemon serving fd (a non-raw image), or -1 */
	int exporter_log; /* its standard error once it serves (said when it stops), or -1 */
};

/*
 * Open path read-only, looking at it first through O_PATH (a FIFO never
 * hangs us, no device is opened) and once:
 * everything after works on that descriptor.  format is QEMU's driver name, or
 * NULL to detect it: a block device is raw; a regular file is whatever format
 * QEMU's probes would see in its first bytes, raw when none.  A non-raw image
 * has its backing files (qcow2, qcow, QED) opened here, resolved as QEMU
 * resolves them, and is served as raw bytes by qemu-storage-daemon
 * ($KVMLOAD_QSD) through a FUSE export detached from every mount table.
 * 0, or -errno with err saying what is wrong (without the path) and nothing
 * left open: -ENODEV not a regular file or block device, -EINVAL an unknown
 * format, -EMEDIUMTYPE an image kvmload does not take or QEMU cannot read,
 * -EIO the disk cannot be read, -ETIMEDOUT the exporter did not come up,
 * -ENOPKG no qemu-storage-daemon to run.
 *
 * reader: the unprivileged user who reads the disk besides the caller (a
 * confined kvmload-fs server), or NULL: the caller alone.  A non-raw image's
 * export belongs to that user: the exporter runs as it, it may open and stat
 * the export; the caller gets the export opened (by the jail's keeper) and
 * may read it, seek in it, but not stat it.
 */
int disk_open(const char *path, const char *format, const struct confine_user *reader, struct disk_info *out,
	      char *err, size_t errlen);

/*
 * disk_open of the disk named path that the caller opened already as fd
 * (any mode, or O_PATH): that file, through fd, never the name again (its
 * backing files are resolved beside path).  fd stays the caller's.
 */
int disk_open_fd(int fd, const char *path, const char *format, const struct confine_user *reader,
		 struct disk_info *out, char *err, size_t errlen);

/*
 * disk_open's first step alone, for a program that hands the disk on as a
 * descriptor: path looked at through O_PATH and, a regular file or block
 * device, opened read-only.  *fd, 0; or -errno with err (as disk_open).
 */
int disk_open_image(const char *path, int *fd, char *err, size_t errlen);

/*
 * A descriptor someone else opened that already holds the guest-visible
 * bytes (kvmload hands its view the disks it opened): taken as raw, never
 * probed, sized; name is for messages.  d owns fd on success; on error it
 * is still the caller's.
 */
int disk_adopt(int fd, const char *name, struct disk_info *d, char *err, size_t errlen);

/*
 * Stop the exporter and close its descriptor (a raw disk keeps fd, the
 * image itself): before QEMU opens the chain for the guest, nothing else
 * holds it.  The layers stay open.
 */
void disk_unexport(struct disk_info *d);

/* Close every descriptor and stop the exporter (idempotent). */
void disk_close(struct disk_info *d);

/*
 * Layer 0 opened again for writing, through its own descriptor (the same
 * file, never the path again).  *fd, 0; or -errno with err saying why: a
 * read-only block device (-EROFS, BLKROGET), a read-only mount, no permission.
 */
int disk_reopen_rw(const struct disk_info *d, int *fd, char *err, size_t errlen);

/* The canonical name when name is a format kvmload takes, else NULL. */
const char *disk_format_name(const char *name);
/* "raw, qcow2, ...": every name disk_format_name takes, for messages. */
const char *disk_format_list(void);
/* An option's value: *fmt the format's canonical name, or NULL for "auto" (detect); -EINVAL for neither. */
int disk_format_arg(const char *s, const char **fmt);
/* The format can have a backing file (QEMU's "backing" option applies). */
bool disk_format_cow(const char *name);

/* Probe: the format QEMU's probes would see in the first bytes h[0..n) ("raw" for none); -EMEDIUMTYPE with why for one we refuse. */
int disk_format_probe(const uint8_t *h, size_t n, const char **fmt, char *why, size_t wlen);

/* The backing file a layer's header names, as written ("" none), and its format ("" to probe). */
struct disk_backing {
	char name[1024];
	char format[16];
};
int disk_format_backing(int fd, const char *fmt, struct disk_backing *b, char *why, size_t wlen);

/* disk_export.c: serve d's chain as raw bytes (d->fd, d->size, d->exporter). */
int disk_export(struct disk_info *d, const struct confine_user *reader, char *err, size_t errlen);
void disk_export_stop(struct disk_info *d);

#endif
