/* cb_hostfs.c: the host-file callbacks (open/close/isdir/read/readdir/seek/stat), confined beneath the -h root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "cb.h"
#include "freebsd_abi_xlate.h"
#include "loader.h"

/* What the plugin holds as an opaque handle. */
struct hostfile {
	int fd;
	DIR *dir;       /* directories only: its own dup of fd, for readdir */
};

static int fbsd_err(int linux_errno)
{
	return freebsd_abi_errno(linux_errno);
}

int cb_open(void *arg, const char *filename, void **h_return)
{
	struct loader *l = arg;
	struct hostfile *hf;
	struct stat st;
	const char *rel = filename;
	int fd, dfd;

	if (l->host_fd < 0)
		return FBSD_ENOENT;
	if (l->nhostfiles >= LOADER_MAX_HOSTFILES)
		return FBSD_EMFILE;
	/* The loader names files from the root of host0:; openat2 wants them relative. */
	while (*rel == '/')
		rel++;
	if (*rel == '\0')
		rel = ".";
	if (strnlen(rel, PATH_MAX) >= PATH_MAX)
		return FBSD_ENAMETOOLONG;

	/* O_NONBLOCK keeps a FIFO in the tree from hanging the loader; the type is checked below. */
	fd = beneath_open(l->host_fd, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fbsd_err(errno); /* FBSD_EPERM for a path that tries to leave the root */
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return fbsd_err(e);
	}
	/* Devices, FIFOs and sockets have no business in a boot tree (as in bhyveload). */
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		close(fd);
		return FBSD_EINVAL;
	}
	hf = calloc(1, sizeof(*hf));
	if (!hf) {
		close(fd);
		return FBSD_ENOMEM;
	}
	hf->fd = fd;
	if (S_ISDIR(st.st_mode)) {
		dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		hf->dir = dfd < 0 ? NULL : fdopendir(dfd);
		if (!hf->dir) {
			int e = errno;
			if (dfd >= 0)
				close(dfd);
			close(fd);
			free(hf);
			return fbsd_err(e);
		}
	}
	l->nhostfiles++;
	*h_return = hf;
	return 0;
}

int cb_close(void *arg, void *h)
{
	struct loader *l = arg;
	struct hostfile *hf = h;

	if (hf->dir)
		closedir(hf->dir);
	close(hf->fd);
	free(hf);
	l->nhostfiles--;
	return 0;
}

int cb_isdir(void *arg, void *h)
{
	const struct hostfile *hf = h;

	(void)arg;
	return hf->dir != NULL;
}

int cb_read(void *arg, void *h, void *dst, size_t size, size_t *resid_return)
{
	const struct hostfile *hf = h;
	size_t done = 0;

	(void)arg;
	while (done < size) {
		ssize_t n = read(hf->fd, (char *)dst + done, size - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fbsd_err(errno);
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*resid_return = size - done;
	return 0;
}

int cb_readdir(void *arg, void *h, uint32_t *fileno_return, uint8_t *type_return,
	       size_t *namelen_return, char *name)
{
	const struct hostfile *hf = h;
	struct dirent *d;
	unsigned char type;
	size_t len;

	(void)arg;
	if (!hf->dir)
		return FBSD_ENOTDIR;
	errno = 0;
	d = readdir(hf->dir);
	if (!d)
		return errno ? fbsd_err(errno) : FBSD_ENOENT; /* any non-zero ends the listing */
	/* The loader's buffer is a FreeBSD d_name: 255 bytes and the NUL. */
	len = strnlen(d->d_name, 256);
	if (len > 255)
		return FBSD_ENAMETOOLONG;
	type = d->d_type;
	if (type == DT_UNKNOWN) {
		/* Some file systems leave the type to stat; the loader's ls shows it. */
		struct stat st;
		if (fstatat(dirfd(hf->dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			type = IFTODT(st.st_mode);
	}
	*fileno_return = (uint32_t)d->d_ino;
	*type_return = freebsd_abi_dtype(type);
	*namelen_return = len;
	memcpy(name, d->d_name, len + 1);
	return 0;
}

int cb_seek(void *arg, void *h, uint64_t offset, int whence)
{
	const struct hostfile *hf = h;
	int lw = freebsd_abi_whence(whence);

	(void)arg;
	if (hf->dir || lw < 0)
		return FBSD_EINVAL;
	/* libsa passes negative SEEK_CUR offsets through this unsigned parameter. */
	if (lseek(hf->fd, (off_t)(int64_t)offset, lw) < 0)
		return fbsd_err(errno);
	return 0; /* 0 or an errno, never the offset: libsa returns this value unchanged */
}

int cb_stat_old(void *arg, void *h, int *mode, int *uid, int *gid, uint64_t *size)
{
	const struct hostfile *hf = h;
	struct stat st;

	(void)arg;
	if (fstat(hf->fd, &st) < 0)
		return fbsd_err(errno);
	freebsd_abi_stat_old(&st, mode, uid, gid, size);
	return 0;
}

int cb_stat_new(void *arg, void *h, struct fbsd_stat *out)
{
	const struct hostfile *hf = h;
	struct stat st;

	(void)arg;
	/* The plugin ignores this result, so the buffer must never be left stale. */
	if (fstat(hf->fd, &st) < 0) {
		memset(out, 0, sizeof(*out));
		return fbsd_err(errno);
	}
	freebsd_abi_stat_new(&st, out);
	return 0;
}
