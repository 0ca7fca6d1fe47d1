/* release.c: both sides of the view-release exchange (include/release.h). */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monotime.h"
#include "release.h"

int release_ask(int fd)
{
	char c = RELEASE_ASK;
	ssize_t n;

	/* An owner that closed its end is -EPIPE here, never a SIGPIPE that ends kvmload. */
	do
		n = send(fd, &c, 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ENOTSOCK) {
		do
			n = write(fd, &c, 1);
		while (n < 0 && errno == EINTR);
	}
	return n == 1 ? 0 : n < 0 ? -errno : -EIO;
}

int release_await(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	/* A signal that does not end kvmload does not shorten the wait either. */
	int r = monotime_poll(&p, 1, timeout_ms);
	ssize_t n;
	char c;

	if (r < 0)
		return r;
	if (r == 0)
		return -ETIMEDOUT;
	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	return c == RELEASE_DONE ? 0 : -EPROTO;
}

int release_heard(int fd, unsigned char *got)
{
	ssize_t n;

	do
		n = read(fd, got, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	return *got == RELEASE_ASK ? 1 : -EPROTO;
}

int release_answer(int fd)
{
	ssize_t n;

	do
		n = send(fd, (char[]){ RELEASE_DONE }, 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : n < 0 ? -errno : -EIO;
}
