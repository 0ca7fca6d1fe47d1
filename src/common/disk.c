/* disk.c: a guest disk opened once (looked at through O_PATH, then read-only), its format and backing chain, and its size. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"
#include "errmsg.h"

static const char *disk_kind(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" : S_ISCHR(m) ? "a character device" :
	       S_ISDIR(m) ? "a directory" : S_ISLNK(m) ? "a symbolic link" : "not a file";
}

/* fd's file opened again with flags through its magic link: the very file, whatever its name says now. */
static int disk_reopen(int fd, int flags)
{
	char self[64];

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	return open(self, flags | O_NOCTTY | O_CLOEXEC);
}

/*
 * One file of the chain: looked at through O_PATH first, which opens no
 * device (a watchdog, a tape, a terminal named in a header stays untouched)
 * and blocks on no FIFO; only a regular file or a block device is then
 * opened for reading, through that descriptor (the same file, never the
 * name again).
 */
static int disk_open_file(const char *path, int given, struct disk_layer *l, struct stat *st, char *err,
			  size_t len)
{
	int pfd = given >= 0 ? given : open(path, O_PATH | O_CLOEXEC), fd, e;

	if (pfd < 0 || fstat(pfd, st) < 0) {
		e = errno;
		if (pfd >= 0 && pfd != given)
			close(pfd);
		return errmsg_set(err, len, e, "%s", strerror(e));
	}
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode)) {
		if (pfd != given)
			close(pfd);
		return errmsg_set(err, len, ENODEV, "%s, not a regular file or block device",
				  disk_kind(st->st_mode));
	}
	fd = disk_reopen(pfd, O_RDONLY);
	e = errno;
	if (pfd != given)
		close(pfd);
	if (fd < 0)
		return errmsg_set(err, len, e, "%s", strerror(e));
	l->fd = fd;
	l->blockdev = S_ISBLK(st->st_mode);
	l->path = strdup(path);
	if (!l->path) {
		close(fd);
		l->fd = -1;
		return errmsg_set(err, len, ENOMEM, "%s", strerror(ENOMEM));
	}
	return 0;
}

int disk_open_image(const char *path, int *fd, char *err, size_t errlen)
{
	struct disk_layer l = { .fd = -1 };
	struct stat st;
	int r = disk_open_file(path, -1, &l, &st, err, errlen);

	free(l.path);
	*fd = l.fd;
	return r;
}

/*
 * The format of an open layer: forced (--format, or the backing format a
 * header names), raw for a block device, else what its first bytes say.
 * The bytes are read in every case: a VMDK descriptor or a LUKS header
 * under a forced format other than raw is refused all the same, and a
 * forced vmdk must be a sparse one (a descriptor names extents QEMU would
 * open by name).
 */
static int disk_layer_format(struct disk_layer *l, const char *format, char *err, size_t len)
{
	uint8_t head[1024] = { 0 };
	const char *seen = NULL;
	ssize_t n;
	int r;

	if (format && !(l->format = disk_format_name(format)))
		return errmsg_set(err, len, EINVAL, "unknown image format '%s' (%s)", format, disk_format_list());
	n = pread(l->fd, head, sizeof(head), 0);
	if (n < 0)
		return errmsg_set(err, len, errno, "reading its first bytes: %s", strerror(errno));
	r = disk_format_probe(head, (size_t)n, &seen, err, len);
	if (format) {
		if (strcmp(l->format, "raw") != 0 && r < 0)
			return r;
		if (!strcmp(l->format, "vmdk") && r == 0 && strcmp(seen, "vmdk") != 0)
			return errmsg_set(err, len, EMEDIUMTYPE, "not a sparse VMDK (no KDMV or COWD magic), "
					  "which is all kvmload reads as vmdk");
		return 0;
	}
	/* A guest writes its block devices: a header it wrote there must not change how we read it. */
	if (l->blockdev) {
		l->format = "raw";
		return 0;
	}
	if (r < 0)
		return r;
	l->format = seen;
	l->probed = true;
	return 0;
}

/* Backing name b as QEMU resolves it: absolute as is, else beside the file that names it. */
static int disk_backing_path(const char *above, const char *name, char *out, size_t len)
{
	const char *slash = strrchr(above, '/');
	int dir = slash ? (int)(slash - above) + 1 : 0;

	if (name[0] == '/' || !slash)
		return (size_t)snprintf(out, len, "%s", name) < len ? 0 : -ENAMETOOLONG;
	return (size_t)snprintf(out, len, "%.*s%s", dir, above, name) < len ? 0 : -ENAMETOOLONG;
}

/* Layers 1.. : each backing file named by the layer above, opened once; no file twice, at most DISK_MAX_LAYERS. */
static int disk_open_chain(struct disk_info *d, char *err, size_t len)
{
	dev_t devs[DISK_MAX_LAYERS];
	ino_t inos[DISK_MAX_LAYERS];
	struct stat st;
	char why[1200];
	int r;

	fstat(d->layer[0].fd, &st);
	devs[0] = st.st_dev;
	inos[0] = st.st_ino;
	for (;;) {
		struct disk_layer *above = &d->layer[d->nlayers - 1], *l = &d->layer[d->nlayers];
		struct disk_backing b;
		char path[PATH_MAX];

		if (!disk_format_cow(above->format))
			return 0;
		r = disk_format_backing(above->fd, above->format, &b, why, sizeof(why));
		if (r < 0)
			return errmsg_set(err, len, -r, "%s%s%s", d->nlayers > 1 ? above->path : "",
					  d->nlayers > 1 ? ": " : "", why);
		if (!b.name[0])
			return 0;
		if (d->nlayers == DISK_MAX_LAYERS)
			return errmsg_set(err, len, EMEDIUMTYPE, "more than %d backing files", DISK_MAX_LAYERS - 1);
		if (disk_backing_path(above->path, b.name, path, sizeof(path)) < 0)
			return errmsg_set(err, len, ENAMETOOLONG, "backing file '%s': name too long", b.name);
		r = disk_open_file(path, -1, l, &st, why, sizeof(why));
		if (r < 0)
			return errmsg_set(err, len, -r, "backing file %s: %s", path, why);
		d->nlayers++;
		for (int i = 0; i < d->nlayers - 1; i++)
			if (devs[i] == st.st_dev && inos[i] == st.st_ino)
				return errmsg_set(err, len, EMEDIUMTYPE, "backing file %s: already in the chain "
						  "(a loop)", path);
		devs[d->nlayers - 1] = st.st_dev;
		inos[d->nlayers - 1] = st.st_ino;
		r = disk_layer_format(l, b.format[0] ? b.format : NULL, why, sizeof(why));
		if (r < 0)
			return errmsg_set(err, len, -r, "backing file %s: %s", path, why);
	}
}

/* A raw layer 0 is the guest's bytes as they are: its size, and a block device's sector size. */
static int disk_raw(struct disk_info *d, const struct stat *st, char *err, size_t errlen)
{
	const struct disk_layer *top = &d->layer[0];
	int ssz;

	d->fd = top->fd;
	d->size = (uint64_t)st->st_size;
	if (!top->blockdev)
		return 0;
	if (ioctl(top->fd, BLKGETSIZE64, &d->size) < 0)
		return errmsg_set(err, errlen, errno, "BLKGETSIZE64: %s", strerror(errno));
	/* A device that cannot say keeps 512, the sector every FreeBSD loader assumes. */
	if (ioctl(top->fd, BLKSSZGET, &ssz) == 0 && ssz > 0)
		d->secsize = (uint32_t)ssz;
	return 0;
}

static void disk_init(struct disk_info *d)
{
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->exporter = -1;
	d->exporter_log = -1;
	for (int i = 0; i < DISK_MAX_LAYERS; i++)
		d->layer[i].fd = -1;
	d->secsize = 512;
}

int disk_open(const char *path, const char *format, const struct confine_user *reader, struct disk_info *out,
	      char *err, size_t errlen)
{
	return disk_open_fd(-1, path, format, reader, out, err, errlen);
}

int disk_open_fd(int fd, const char *path, const char *format, const struct confine_user *reader,
		 struct disk_info *out, char *err, size_t errlen)
{
	struct disk_layer *top = &out->layer[0];
	struct stat st;
	int r;

	disk_init(out);
	r = disk_open_file(path, fd, top, &st, err, errlen);
	if (r < 0)
		return r;
	out->nlayers = 1;
	r = disk_layer_format(top, format, err, errlen);
	if (r == 0 && strcmp(top->format, "raw") != 0) {
		r = disk_open_chain(out, err, errlen);
		if (r == 0)
			r = disk_export(out, reader, err, errlen);
	} else if (r == 0) {
		r = disk_raw(out, &st, err, errlen);
	}
	if (r < 0)
		disk_close(out);
	return r;
}

int disk_adopt(int fd, const char *name, struct disk_info *out, char *err, size_t errlen)
{
	struct disk_layer *top = &out->layer[0];
	struct stat st;
	int r;

	disk_init(out);
	if (fstat(fd, &st) < 0)
		return errmsg_set(err, errlen, errno, "descriptor %d: %s", fd, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return errmsg_set(err, errlen, ENODEV, "descriptor %d: %s, not a regular file or block device",
				  fd, disk_kind(st.st_mode));
	top->path = strdup(name);
	if (!top->path)
		return errmsg_set(err, errlen, ENOMEM, "%s", strerror(ENOMEM));
	top->fd = fd;
	top->format = "raw";
	top->blockdev = S_ISBLK(st.st_mode);
	out->nlayers = 1;
	r = disk_raw(out, &st, err, errlen);
	if (r < 0) {
		top->fd = out->fd = -1; /* still the caller's */
		disk_close(out);
	}
	return r;
}

void disk_unexport(struct disk_info *d)
{
	disk_export_stop(d);
	if (d->fd >= 0 && (d->nlayers == 0 || d->fd != d->layer[0].fd)) {
		close(d->fd);
		d->fd = -1;
	}
}

void disk_close(struct disk_info *d)
{
	disk_unexport(d);
	d->fd = -1;
	for (int i = 0; i < d->nlayers; i++) {
		if (d->layer[i].fd >= 0)
			close(d->layer[i].fd);
		d->layer[i].fd = -1;
		free(d->layer[i].path);
		d->layer[i].path = NULL;
	}
	d->nlayers = 0;
}

int disk_reopen_rw(const struct disk_info *d, int *fd, char *err, size_t errlen)
{
	const struct disk_layer *l = &d->layer[0];
	int ro = 0;

	if (l->blockdev && ioctl(l->fd, BLKROGET, &ro) == 0 && ro)
		return errmsg_set(err, errlen, EROFS, "a read-only block device");
	*fd = disk_reopen(l->fd, O_RDWR);
	if (*fd < 0)
		return errmsg_set(err, errlen, errno, "%s", strerror(errno));
	return 0;
}
