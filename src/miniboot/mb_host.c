/* mb_host.c: the host0 backend over the host file callbacks, exported as host_fsops like userboot's. */
#include "mb.h"

static int host_open(struct mb_file *f, const char *path)
{
	struct mb *mb = f->mb;

	f->pos = 0;
	return mb->cb->open(mb->arg, path, &f->host_h);
}

static int host_close(struct mb_file *f)
{
	return f->mb->cb->close(f->mb->arg, f->host_h);
}

static int host_read(struct mb_file *f, void *buf, size_t size, size_t *resid)
{
	int err;

	*resid = size;
	err = f->mb->cb->read(f->mb->arg, f->host_h, buf, size, resid);
	if (*resid > size)
		return FBSD_EIO;
	f->pos += size - *resid;
	return err;
}

static int host_write(struct mb_file *f, const void *buf, size_t size, size_t *resid)
{
	(void)f;
	(void)buf;
	*resid = size;
	return FBSD_EROFS;
}

static int host_seek(struct mb_file *f, uint64_t off, int whence)
{
	int err = f->mb->cb->seek(f->mb->arg, f->host_h, off, whence);

	if (!err && whence == FBSD_SEEK_SET)
		f->pos = off;
	return err;
}

/*
 * Exported, and called through host_fsops' stat slot (+0x30), so a host can
 * tell which stat form this build's callback table carries.
 */
int host_stat(struct mb_file *f, struct mb_stat *st)
{
	struct mb *mb = f->mb;
	int err;
#ifdef USERBOOT_STAT_STRUCT
	struct fbsd_stat sb;

	memset(&sb, 0, sizeof(sb));
	err = mb->cb->stat(mb->arg, f->host_h, &sb);
	st->mode = sb.st_mode;
	st->size = sb.st_size < 0 ? 0 : (uint64_t)sb.st_size;
#else
	int mode = 0, uid = 0, gid = 0;
	uint64_t size = 0;

	err = mb->cb->stat(mb->arg, f->host_h, &mode, &uid, &gid, &size);
	st->mode = (uint32_t)mode;
	st->size = size;
#endif
	return err;
}

static int host_readdir(struct mb_file *f, struct mb_dirent *d)
{
	uint32_t fileno = 0;
	uint8_t type = 0;
	size_t namelen = 0;
	int err;

	d->name[0] = '\0';
	err = f->mb->cb->readdir(f->mb->arg, f->host_h, &fileno, &type, &namelen, d->name);
	if (err)
		return err;
	if (namelen >= sizeof(d->name))
		namelen = sizeof(d->name) - 1;
	d->name[namelen] = '\0';
	d->type = type;
	return 0;
}

const struct mb_fsops host_fsops = {
	"host", host_open, host_close, host_read, host_write, host_seek, host_stat, host_readdir,
};
