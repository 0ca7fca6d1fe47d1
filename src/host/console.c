/* console.c: the host side of the guest console: stdio or a -c tty, raw mode, and its restore on every exit. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"

static int console_make_raw(struct console *c)
{
	struct termios t;

	c->tty_fd = c->in_fd;
	if (!isatty(c->in_fd))
		return 0;
	if (tcgetattr(c->in_fd, &c->saved) < 0)
		return -errno;
	t = c->saved;
	/*
	 * Keys go to the loader and the guest byte by byte, as on a serial
	 * line; ISIG stays on so ^C still reaches kvmload, which restores the
	 * terminal before it exits.
	 */
	t.c_iflag &= ~(unsigned)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(unsigned)(ECHO | ECHONL | ICANON | IEXTEN);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(c->tty_fd, TCSAFLUSH, &t) < 0)
		return -errno;
	c->raw_mode = t;
	c->raw = true;
	return 0;
}

/*
 * A standard descriptor closed at start would be taken by the next open()
 * (a disk, guest memory, the view's pipe) and console or log bytes would go
 * there.  Hold it with /dev/null; true when it was closed.
 */
static bool console_hold(int fd, int flags)
{
	int n;

	if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
		return false;
	n = open("/dev/null", flags);
	if (n >= 0 && n != fd) {
		dup2(n, fd);
		close(n);
	}
	return true;
}

int console_open(struct console *c, const char *dev)
{
	bool in_closed, out_closed;
	int fd, r;

	memset(c, 0, sizeof(*c));
	c->pending = -1;
	signal(SIGPIPE, SIG_IGN);
	in_closed = console_hold(STDIN_FILENO, O_RDONLY);
	out_closed = console_hold(STDOUT_FILENO, O_WRONLY);
	console_hold(STDERR_FILENO, O_WRONLY);
	c->in_fd = STDIN_FILENO;
	c->out_fd = STDOUT_FILENO;
	if (dev && strcmp(dev, "stdio") != 0) {
		fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		/* A terminal only: anything else (/dev/null, a file) would swallow the console. */
		if (!isatty(fd)) {
			close(fd);
			return -ENOTTY;
		}
		c->in_fd = c->out_fd = fd;
		c->own_fds = true;
	} else {
		/* A console that was never there: no input, and output that ends the run at once. */
		c->eof = in_closed;
		c->out_err = out_closed ? EBADF : 0;
	}
	r = console_make_raw(c);
	if (r < 0 && c->own_fds)
		close(c->in_fd);
	return r;
}

void console_restore(struct console *c)
{
	/* Async-signal-safe: tcsetattr is on the POSIX list. */
	c->stopped = false;
	if (c->raw) {
		tcsetattr(c->tty_fd, TCSAFLUSH, &c->saved);
		c->raw = false;
	}
}

void console_suspend(struct console *c)
{
	if (c->raw) {
		tcsetattr(c->tty_fd, TCSANOW, &c->saved);
		c->raw = false;
		c->stopped = true;
	}
}

void console_resume(struct console *c)
{
	pid_t fg;

	if (!c->stopped)
		return;
	/*
	 * Only in the foreground (or on a -c terminal that is not ours to
	 * share): a job continued in the background would get SIGTTOU, and
	 * will be continued again when it is brought back.  TCSANOW, so keys
	 * typed since are not flushed.
	 */
	fg = tcgetpgrp(c->tty_fd);
	if (fg >= 0 && fg != getpgrp())
		return;
	if (tcsetattr(c->tty_fd, TCSANOW, &c->raw_mode) == 0) {
		c->raw = true;
		c->stopped = false;
	}
}

void console_close(struct console *c)
{
	console_restore(c);
	if (c->in_fd != c->tty_fd)
		close(c->in_fd);
	if (c->own_fds)
		close(c->tty_fd);
	c->own_fds = false;
}

void console_serve(struct console *c, int fd)
{
	c->in_fd = c->out_fd = fd;
	c->eof = false;
	c->out_err = 0;
	c->pending = -1;
}

static int console_read1(struct console *c)
{
	unsigned char ch;
	ssize_t n;

	for (;;) {
		n = read(c->in_fd, &ch, 1);
		if (n == 1)
			return ch;
		if (n < 0 && errno == EINTR)
			continue;
		/* End of input, or an input that failed for good: both end it. */
		c->eof = true;
		return -1;
	}
}

int console_getc(struct console *c)
{
	int ch;

	if (c->pending >= 0) {
		ch = c->pending;
		c->pending = -1;
		return ch;
	}
	if (c->eof)
		return -1;
	return console_read1(c);
}

int console_poll(struct console *c)
{
	struct pollfd p = { .fd = c->in_fd, .events = POLLIN };

	if (c->pending >= 0)
		return 1;
	if (c->eof)
		return 0;
	if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	/*
	 * Readable can also mean end of input (/dev/null, a closed pipe).  Take
	 * the byte now so that only a real key counts: the loader's autoboot
	 * countdown must not mistake EOF for a key press.
	 */
	c->pending = console_read1(c);
	return c->pending >= 0;
}

void console_write(struct console *c, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	while (len && !c->out_err) {
		n = write(c->out_fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		/* A full non-blocking output drops the bytes; anything else is the end of it. */
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->out_err = errno;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

void console_putc(struct console *c, int ch)
{
	unsigned char b = (unsigned char)ch;

	console_write(c, &b, 1);
}
