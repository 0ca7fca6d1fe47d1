/* mb_file.c: the one file layer: "dev:/path" or a path on currdev, over host0 or the disk's UFS. */
#include "mb.h"

static const struct mb_fsops *file_backend(struct mb *mb, const char *path, const char **rest)
{
	const char *colon = mb_strchr(path, ':'), *slash = mb_strchr(path, '/');

	*rest = path;
	if (!colon || (slash && slash < colon))
		return mb->on_disk ? &ufs_fsops : &host_fsops;
	*rest = colon + 1;
	if (mb_strncmp(path, "host0:", 6) == 0)
		return &host_fsops;
	if (mb->on_disk && mb_strncmp(path, mb->currdev, mb_strlen(mb->currdev)) == 0)
		return &ufs_fsops;
	return NULL;
}

struct mb_file *mb_open(struct mb *mb, const char *path, int *err)
{
	const struct mb_fsops *ops = file_backend(mb, path, &path);

	if (!ops) {
		*err = FBSD_ENXIO;
		return NULL;
	}
	for (int i = 0; i < MB_NFILES; i++) {
		struct mb_file *f = &mb->files[i];

		if (f->used)
			continue;
		f->mb = mb;
		f->ops = ops;
		f->pos = 0;
		*err = ops->open(f, path);
		if (*err)
			return NULL;
		f->used = true;
		return f;
	}
	*err = FBSD_EMFILE;
	return NULL;
}

void mb_close(struct mb_file *f)
{
	if (f && f->used) {
		f->ops->close(f);
		f->used = false;
	}
}

int mb_read(struct mb_file *f, void *buf, size_t len, size_t *got)
{
	uint8_t *p = buf;

	*got = 0;
	while (*got < len) {
		size_t resid = len - *got;
		int err = f->ops->read(f, p + *got, len - *got, &resid);

		if (err)
			return err;
		if (resid == len - *got)
			break; /* end of file */
		*got = len - resid;
	}
	return 0;
}

int mb_read_full(struct mb_file *f, void *buf, size_t len)
{
	size_t got;
	int err = mb_read(f, buf, len, &got);

	return err ? err : got == len ? 0 : FBSD_EIO;
}

int mb_pread(struct mb_file *f, void *buf, size_t len, uint64_t off)
{
	int err = f->ops->seek(f, off, FBSD_SEEK_SET);

	return err ? err : mb_read_full(f, buf, len);
}

int mb_fstat(struct mb_file *f, struct mb_stat *st)
{
	st->mode = 0;
	st->size = 0;
	return f->ops->stat(f, st);
}

const char *mb_strerror(int err)
{
	switch (err) {
	case FBSD_ENOENT: return "no such file or directory";
	case FBSD_EIO: return "input/output error";
	case FBSD_ENXIO: return "device not configured";
	case FBSD_ENOMEM: return "out of memory";
	case FBSD_EFAULT: return "bad address";
	case FBSD_ENOTDIR: return "not a directory";
	case FBSD_EISDIR: return "is a directory";
	case FBSD_EINVAL: return "invalid argument";
	case FBSD_EMFILE: return "too many open files";
	case FBSD_ENOTTY: return "inappropriate ioctl for device";
	case FBSD_EFBIG: return "file too large";
	case FBSD_EROFS: return "read-only file system";
	case FBSD_ELOOP: return "too many levels of symbolic links";
	case FBSD_ENAMETOOLONG: return "file name too long";
	case FBSD_EFTYPE: return "inappropriate file type or format";
	default: return "unknown error";
	}
}
