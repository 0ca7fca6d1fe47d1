/* beneath.c: openat2 confined beneath a root directory, and reading a file whole (host files of the loader, the view, the plugin choice, the plugin). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "beneath.h"

int beneath_open(int root, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned)flags | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));

	if (fd < 0 && errno == EXDEV)
		errno = EPERM;
	return fd;
}

int beneath_open_file(int root, const char *path)
{
	int fd = beneath_open(root, path, O_RDONLY | O_NOCTTY | O_NONBLOCK), e;
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	else
		return fd;
	close(fd);
	return -e;
}

int beneath_read_fd(int fd, size_t max, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *b;
	size_t size, got = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	size = (size_t)st.st_size;
	if ((uint64_t)st.st_size > max) {
		*len = size;
		return -EFBIG;
	}
	/* One byte more, so that an empty file still gets a buffer of its own. */
	b = malloc(size + 1);
	if (!b) {
		*len = size;
		return -ENOMEM;
	}
	while (got < size) {
		ssize_t n = pread(fd, b + got, size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			free(b);
			return -e;
		}
		got += (size_t)n;
	}
	*buf = b;
	*len = got;
	return 0;
}

int beneath_read_all(int root, const char *path, size_t max, uint8_t **buf, size_t *len)
{
	int fd = beneath_open_file(root, path), r;

	if (fd < 0)
		return fd;
	r = beneath_read_fd(fd, max, buf, len);
	close(fd);
	return r;
}
