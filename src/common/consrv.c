/* consrv.c: the console server's owner side: its socket, starting it as a confined child, handing it guests, asking for the tail, stopping it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "confine.h"
#include "consrv.h"
#include "errmsg.h"
#include "fdpass.h"
#include "spawn.h"

#define CONSRV_WAIT_MS 2000 /* the server's answer, and its end once told */

/* The descriptors the server has, at these numbers. */
enum { FD_IN, FD_OUT, FD_ERR, FD_LISTEN, FD_CTL, FD_GUEST, FD_LOGDIR, FD_N };

void consrv_init(struct consrv *s)
{
	s->pid = -1;
	s->ctl = -1;
	s->lost = false;
}

static int consrv_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return errmsg_set(err, errlen, ENAMETOOLONG, "%s: too long for a socket's name", path);
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errmsg_set(err, errlen, errno, "console socket: %s", strerror(errno));
	/* One left by a holder that is gone (the runtime directory is ours now). */
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, CONSRV_CLIENTS) < 0) {
		int r = errmsg_set(err, errlen, errno, "%s: %s", path, strerror(errno));

		close(fd);
		return r;
	}
	return fd;
}

/* What the server is given, before spawn_child places it at the FD_ numbers. */
struct consrv_child {
	const struct consrv_spec *spec;
	int out_fd;
};

/*
 * The server, once spawn_child has placed its descriptors and put the
 * owner's handlers back to their defaults (with every signal still held):
 * the keys that stop the owner's job stop it too (it shares the owner's
 * terminal), and the owner's end comes as the end of its control socket,
 * not a signal.
 */
static int consrv_child(void *arg)
{
	const struct consrv_child *c = arg;
	struct consrv_spec mine = *c->spec;
	sigset_t none;

	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "kvmload-console");
	/* It copies bytes and reads a hello line: no privilege, none to gain. */
	if (confine_caps(NULL, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(127);
	mine.local_in = c->spec->local_in >= 0 ? FD_IN : -1;
	mine.local_out = c->out_fd >= 0 ? FD_OUT : -1;
	mine.guest = c->spec->guest >= 0 ? FD_GUEST : -1;
	mine.log_dir = c->spec->log_dir >= 0 ? FD_LOGDIR : -1;
	/* _exit: the owner's atexit handlers are the owner's. */
	_exit(consrv_serve(&mine, FD_LISTEN, FD_CTL));
}

/* The server started (no exec: consrv_child is its life); s->pid set.  0 or -errno. */
static int consrv_fork(struct consrv *s, const struct consrv_spec *spec, int listen_fd, int ctl, int out_fd)
{
	struct consrv_child c = { .spec = spec, .out_fd = out_fd };
	int want[FD_N] = { spec->local_in >= 0 ? spec->local_in : SPAWN_FD_NULL,
			   out_fd >= 0 ? out_fd : SPAWN_FD_NULL,
			   STDERR_FILENO, listen_fd, ctl, spec->guest, spec->log_dir };
	struct spawn_spec sp = { .fds = want, .nfds = FD_N, .in_child = consrv_child, .arg = &c };
	struct spawn_proc p;
	int r = spawn_child(&sp, &p);

	spawn_release(&p);
	s->pid = p.pid;
	if (r < 0 && s->pid > 0) {
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
		s->pid = -1;
	}
	return r;
}

/*
 * The owner's output, for the server.  A terminal or a pipe is opened anew
 * (a description of the server's own) so that it can be non-blocking
 * without changing the owner's: a terminal nobody reads must not stop the
 * server, and through it the guest.  Anything else is shared as it is: a
 * file never blocks and keeps one offset with the owner's other writes
 * (2>&1), a socket is sent to with MSG_DONTWAIT.
 */
static int consrv_reopen_out(int fd)
{
	char path[32];
	struct stat st;
	int fl, r = -1;

	if (fd < 0 || (fl = fcntl(fd, F_GETFL)) < 0 || fstat(fd, &st) < 0)
		return -1;
	if (isatty(fd) || S_ISFIFO(st.st_mode)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		r = open(path, (fl & (O_ACCMODE | O_APPEND)) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	}
	return r >= 0 ? r : fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

int consrv_start(struct consrv *s, const struct consrv_spec *spec, char *err, size_t errlen)
{
	int listen_fd = consrv_listen(spec->sock, err, errlen), ctl[2], out_fd, e;

	if (listen_fd < 0)
		return listen_fd;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0) {
		int r = errmsg_set(err, errlen, errno, "console: %s", strerror(errno));

		close(listen_fd);
		return r;
	}
	out_fd = consrv_reopen_out(spec->local_out);
	e = -consrv_fork(s, spec, listen_fd, ctl[1], out_fd);
	close(listen_fd);
	close(ctl[1]);
	if (out_fd >= 0)
		close(out_fd);
	if (s->pid < 0) {
		int r = errmsg_set(err, errlen, e, "console: starting its server: %s", strerror(e));

		close(ctl[0]);
		return r;
	}
	s->ctl = ctl[0];
	return 0;
}

int consrv_guest(struct consrv *s, int fd)
{
	char cmd = 'G';

	if (s->ctl < 0)
		return -EPIPE;
	return fdpass_send(s->ctl, &cmd, 1, fd, 0) == 1 ? 0 : -errno;
}

/* Exactly n bytes from the server within its time, or -errno. */
static int consrv_read(struct consrv *s, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		struct pollfd pf = { .fd = s->ctl, .events = POLLIN };
		ssize_t r;

		if (poll(&pf, 1, CONSRV_WAIT_MS) == 0)
			return -ETIMEDOUT;
		r = read(s->ctl, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

ssize_t consrv_tail(struct consrv *s, char *buf, size_t len)
{
	uint8_t req[1 + sizeof(uint32_t)] = { 'T' };
	uint32_t want = len > CONSRV_TAIL_MAX ? CONSRV_TAIL_MAX : (uint32_t)len, n;
	int r;

	if (s->ctl < 0 || s->lost)
		return -EPIPE;
	memcpy(req + 1, &want, sizeof(want));
	if (send(s->ctl, req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
		return -errno;
	r = consrv_read(s, &n, sizeof(n));
	if (r == 0 && n > want)
		r = -EPROTO;
	if (r == 0)
		r = consrv_read(s, buf, n);
	/* An answer that did not come whole would be taken for the next one's: no more questions. */
	if (r < 0)
		s->lost = true;
	return r < 0 ? r : (ssize_t)n;
}

void consrv_stop(struct consrv *s)
{
	struct timespec step = { 0, 10 * 1000 * 1000 };
	int waited = 0;

	if (s->ctl >= 0)
		close(s->ctl);
	s->ctl = -1;
	if (s->pid <= 0)
		return;
	/* It passes on what it holds, for a moment, then ends by itself. */
	while (waitpid(s->pid, NULL, WNOHANG) == 0 && waited < CONSRV_WAIT_MS) {
		nanosleep(&step, NULL);
		waited += 10;
	}
	if (waited >= CONSRV_WAIT_MS) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	s->pid = -1;
}
