/* consrv_serve.c: the console server's loop: the guest's output into a scrollback ring, the log and every client; one writer's and the owner's keys to the guest. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "consrv.h"
#include "log.h"
#include "monotime.h"

#define SRV_CHUNK 4096       /* one read of the guest, one write to a client */
#define SRV_BLOCKING_CHUNK 512 /* an output that blocks, polled writable, takes this without blocking long */
#define SRV_FLUSH_MS 1000    /* at the end: how long clients get to take what is left */
#define SRV_HELLO_MS 5000    /* a client that has not said hello by then is let go */

enum { P_CTL, P_LISTEN, P_GUEST, P_IN, P_OUT, P_CLIENT0 };

struct srv_client {
	int fd;             /* -1: a free slot */
	uint64_t pos;       /* the next ring byte it gets */
	bool ready;         /* said hello and was answered */
	bool writer;
	int64_t hello_by;   /* CLOCK_MONOTONIC ms by which it must have said hello */
	char hello[CONSRV_LINE_MAX];
	size_t hello_len;
	struct ucred cred;
};

struct srv {
	const struct consrv_spec *spec;
	int listen_fd, ctl, guest, log_fd;
	int in_fd, out_fd;             /* the owner's, -1 once gone */
	size_t out_chunk;              /* what one write to out_fd may take */
	bool out_sock;                 /* out_fd is a socket: sent to with MSG_DONTWAIT */
	off_t log_size;
	uint64_t head;                 /* bytes the guest ever printed */
	uint8_t ring[CONSRV_RING];
	uint64_t out_pos;              /* the owner's output's place in the ring */
	struct srv_client cl[CONSRV_CLIENTS];
	int writer;                    /* the writing client's slot, -1: none */
	uint8_t keys[SRV_CHUNK];       /* keys on their way to the guest */
	size_t nkeys;
	bool tty_saved;
	struct termios tty;
};

static void srv_log_open(struct srv *s)
{
	struct stat st;

	s->log_fd = openat(s->spec->log_dir, s->spec->log_name,
			   O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (s->log_fd < 0) {
		log_warn("vm %s: console log %s", s->spec->vm, s->spec->log_name);
		return;
	}
	s->log_size = fstat(s->log_fd, &st) == 0 ? st.st_size : 0;
}

/* The log never passes CONSRV_LOG_MAX: the full one becomes the old one (replacing it). */
static void srv_log(struct srv *s, const uint8_t *p, size_t n)
{
	char old[NAME_MAX + 1];

	if (s->log_fd < 0)
		return;
	if (s->log_size > 0 && s->log_size + (off_t)n > CONSRV_LOG_MAX) {
		snprintf(old, sizeof(old), "%s%s", s->spec->log_name, CONSRV_LOG_OLD);
		close(s->log_fd);
		if (renameat(s->spec->log_dir, s->spec->log_name, s->spec->log_dir, old) < 0)
			unlinkat(s->spec->log_dir, s->spec->log_name, 0);
		srv_log_open(s);
		if (s->log_fd < 0)
			return;
	}
	if (write(s->log_fd, p, n) != (ssize_t)n) {
		log_warn("vm %s: console log %s: no more is logged", s->spec->vm, s->spec->log_name);
		close(s->log_fd);
		s->log_fd = -1;
		return;
	}
	s->log_size += (off_t)n;
}

static void srv_ring_put(struct srv *s, const uint8_t *p, size_t n)
{
	size_t at = (size_t)(s->head % CONSRV_RING), first = n < CONSRV_RING - at ? n : CONSRV_RING - at;

	memcpy(s->ring + at, p, first);
	memcpy(s->ring, p + first, n - first);
	s->head += n;
}

/* The ring from *pos on as at most two pieces (a reader too far behind skips the bytes lost). */
static int srv_ring_get(struct srv *s, uint64_t *pos, struct iovec v[2], size_t max)
{
	size_t at, n, first;

	if (s->head - *pos > CONSRV_RING)
		*pos = s->head - CONSRV_RING;
	n = (size_t)(s->head - *pos);
	if (n > max)
		n = max;
	at = (size_t)(*pos % CONSRV_RING);
	first = n < CONSRV_RING - at ? n : CONSRV_RING - at;
	v[0] = (struct iovec){ s->ring + at, first };
	v[1] = (struct iovec){ s->ring, n - first };
	return n - first ? 2 : 1;
}

/* What the guest printed: the ring, the log; clients and the owner take it from the ring. */
/* >0: bytes taken, 0: the guest's end (its side is let go), -1: nothing now. */
static ssize_t srv_from_guest(struct srv *s)
{
	uint8_t buf[SRV_CHUNK];
	ssize_t n = read(s->guest, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	if (n <= 0) {
		/* This guest has ended; its keys in flight go with it. */
		close(s->guest);
		s->guest = -1;
		s->nkeys = 0;
		return 0;
	}
	srv_ring_put(s, buf, (size_t)n);
	srv_log(s, buf, (size_t)n);
	return n;
}

/* Everything the guest side holds now (all it wrote, when it has ended). */
static void srv_drain(struct srv *s)
{
	while (s->guest >= 0 && srv_from_guest(s) > 0)
		;
}

static void srv_to_guest(struct srv *s)
{
	ssize_t n = write(s->guest, s->keys, s->nkeys);

	if (n > 0) {
		memmove(s->keys, s->keys + n, s->nkeys - (size_t)n);
		s->nkeys -= (size_t)n;
	}
}

static void srv_client_drop(struct srv *s, int i)
{
	close(s->cl[i].fd);
	s->cl[i].fd = -1;
	if (s->writer == i)
		s->writer = -1;
}

/* A line to one client outside the stream (its answer, or that its input was taken). */
static void srv_say(struct srv_client *c, const char *text)
{
	if (send(c->fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("console client: %s", strerror(errno));
}

static void srv_client_hello(struct srv *s, int i)
{
	struct srv_client *c = &s->cl[i];
	char line[CONSRV_LINE_MAX + 32];
	const char *role;
	bool force;

	c->hello[c->hello_len - 1] = '\0';
	if (strncmp(c->hello, CONSRV_HELLO " ", strlen(CONSRV_HELLO) + 1) != 0) {
		srv_say(c, "error not a kvmload console client\n");
		srv_client_drop(s, i);
		return;
	}
	role = c->hello + strlen(CONSRV_HELLO) + 1;
	force = strcmp(role, "write force") == 0;
	if (strcmp(role, "read") == 0) {
		srv_say(c, "ok read\n");
	} else if (strcmp(role, "write") == 0 || force) {
		if (s->writer >= 0 && !force) {
			snprintf(line, sizeof(line), "busy %ld %ld\n", (long)s->cl[s->writer].cred.pid,
				 (long)s->cl[s->writer].cred.uid);
			srv_say(c, line);
			srv_client_drop(s, i);
			return;
		}
		if (s->writer >= 0) {
			snprintf(line, sizeof(line), "\r\n[kvmload: console input taken by pid %ld]\r\n",
				 (long)c->cred.pid);
			srv_say(&s->cl[s->writer], line);
			s->cl[s->writer].writer = false;
		}
		srv_say(c, "ok write\n");
		c->writer = true;
		s->writer = i;
	} else {
		srv_say(c, "error unknown role\n");
		srv_client_drop(s, i);
		return;
	}
	c->ready = true;
	c->pos = s->head > CONSRV_RING ? s->head - CONSRV_RING : 0;
}

/* A client has something: more of its hello, keys (a writer's), or its end. */
static void srv_client_read(struct srv *s, int i)
{
	struct srv_client *c = &s->cl[i];
	uint8_t buf[SRV_CHUNK];
	ssize_t n;

	if (!c->ready) {
		n = read(c->fd, c->hello + c->hello_len, 1);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				srv_client_drop(s, i);
			return;
		}
		if (c->hello[c->hello_len++] == '\n')
			srv_client_hello(s, i);
		else if (c->hello_len == sizeof(c->hello)) {
			srv_say(c, "error hello too long\n");
			srv_client_drop(s, i);
		}
		return;
	}
	/* No room for a writer's keys now: they wait in its socket (a read of 0 would be its end). */
	if (c->writer && s->nkeys == sizeof(s->keys))
		return;
	n = read(c->fd, buf, c->writer ? sizeof(buf) - s->nkeys : sizeof(buf));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		srv_client_drop(s, i);
		return;
	}
	/* A reader's keys go nowhere; so do a writer's while no guest listens. */
	if (n > 0 && c->writer && s->guest >= 0) {
		memcpy(s->keys + s->nkeys, buf, (size_t)n);
		s->nkeys += (size_t)n;
	}
}

static void srv_client_write(struct srv *s, int i)
{
	struct srv_client *c = &s->cl[i];
	struct iovec v[2];
	struct msghdr m = { .msg_iov = v };
	ssize_t n;

	m.msg_iovlen = (size_t)srv_ring_get(s, &c->pos, v, CONSRV_RING);
	n = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0)
		c->pos += (uint64_t)n;
	else if (n < 0 && errno != EAGAIN && errno != EINTR)
		srv_client_drop(s, i);
}

static void srv_accept(struct srv *s)
{
	socklen_t len = sizeof(struct ucred);
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;

	if (fd < 0)
		return;
	for (i = 0; i < CONSRV_CLIENTS && s->cl[i].fd >= 0; i++)
		;
	if (i == CONSRV_CLIENTS) {
		/* Its own answer, so the client can say why. */
		if (send(fd, "error too many clients\n", 23, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug("console client: %s", strerror(errno));
		close(fd);
		return;
	}
	s->cl[i] = (struct srv_client){ .fd = fd, .hello_by = monotime_ms() + SRV_HELLO_MS };
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &s->cl[i].cred, &len) < 0)
		s->cl[i].cred = (struct ucred){ .pid = 0, .uid = (uid_t)-1 };
}

/* The owner's terminal or stdin: its keys always reach the guest. At its end it is just not read. */
static void srv_local_read(struct srv *s)
{
	ssize_t n = read(s->in_fd, s->keys + s->nkeys, sizeof(s->keys) - s->nkeys);

	if (n > 0 && s->guest >= 0)
		s->nkeys += (size_t)n;
	else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		s->in_fd = -1;
}

/* The owner's output, as far as it takes it now (it may fall behind, as a client); a failed one is given up. */
static void srv_local_write(struct srv *s)
{
	struct iovec v[2];
	struct msghdr m = { .msg_iov = v };
	ssize_t n;

	m.msg_iovlen = (size_t)srv_ring_get(s, &s->out_pos, v, s->out_chunk);
	n = s->out_sock ? sendmsg(s->out_fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT)
			: writev(s->out_fd, v, (int)m.msg_iovlen);
	if (n > 0)
		s->out_pos += (uint64_t)n;
	else if (n < 0 && errno != EAGAIN && errno != EINTR)
		s->out_fd = -1;
}

/* The owner's request: 'G' with the next guest's side, 'T' with a length for the tail. false: the owner is gone. */
static bool srv_ctl(struct srv *s)
{
	char cbuf[CMSG_SPACE(sizeof(int))], cmd;
	struct iovec v = { &cmd, 1 };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	uint32_t want, n;
	struct iovec out[3];
	uint64_t pos;
	ssize_t r = recvmsg(s->ctl, &m, MSG_CMSG_CLOEXEC);

	if (r < 0)
		return errno == EAGAIN || errno == EINTR;
	if (r == 0)
		return false;
	c = CMSG_FIRSTHDR(&m);
	if (cmd == 'G' && c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
		if (s->guest >= 0)
			close(s->guest);
		memcpy(&s->guest, CMSG_DATA(c), sizeof(int));
		fcntl(s->guest, F_SETFL, O_NONBLOCK);
		s->nkeys = 0;
		return true;
	}
	if (c && c->cmsg_type == SCM_RIGHTS) {
		int stray;

		memcpy(&stray, CMSG_DATA(c), sizeof(int));
		close(stray);
	}
	if (cmd != 'T' || read(s->ctl, &want, sizeof(want)) != sizeof(want))
		return false; /* not our owner's words: end, as at its end */
	srv_drain(s);
	n = want > CONSRV_TAIL_MAX ? CONSRV_TAIL_MAX : want;
	if (n > s->head)
		n = (uint32_t)s->head;
	pos = s->head - n;
	out[0] = (struct iovec){ &n, sizeof(n) };
	srv_ring_get(s, &pos, out + 1, n);
	return writev(s->ctl, out, 3) >= 0;
}

/* Poll entries: the fixed ones, then one per client slot. */
static void srv_poll_set(struct srv *s, struct pollfd *p)
{
	p[P_CTL] = (struct pollfd){ .fd = s->ctl, .events = POLLIN };
	p[P_LISTEN] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
	p[P_GUEST] = (struct pollfd){ .fd = s->guest, .events = POLLIN | (s->nkeys ? POLLOUT : 0) };
	p[P_IN] = (struct pollfd){ .fd = s->nkeys ? -1 : s->in_fd, .events = POLLIN };
	p[P_OUT] = (struct pollfd){ .fd = s->out_pos < s->head ? s->out_fd : -1, .events = POLLOUT };
	for (int i = 0; i < CONSRV_CLIENTS; i++) {
		struct srv_client *c = &s->cl[i];
		bool keys = !c->writer || s->nkeys == 0;

		p[P_CLIENT0 + i] = (struct pollfd){
			.fd = c->fd,
			.events = (keys ? POLLIN : 0) | (c->ready && c->pos < s->head ? POLLOUT : 0),
		};
	}
}

/* At the end: what the clients and the owner have not taken yet, for a moment. */
static void srv_flush(struct srv *s)
{
	struct timespec t0, t;
	struct pollfd p[P_CLIENT0 + CONSRV_CLIENTS];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int left = 0, ms;

		srv_poll_set(s, p);
		for (int i = 0; i < P_CLIENT0 + CONSRV_CLIENTS; i++) {
			if (i < P_OUT || !(p[i].events & POLLOUT))
				p[i].fd = -1;
			left += p[i].fd >= 0;
			p[i].events = POLLOUT;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = SRV_FLUSH_MS - (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (!left || ms <= 0 || poll(p, P_CLIENT0 + CONSRV_CLIENTS, ms) <= 0)
			return;
		if (p[P_OUT].revents)
			srv_local_write(s);
		for (int i = 0; i < CONSRV_CLIENTS; i++)
			if (p[P_CLIENT0 + i].revents && s->cl[i].fd >= 0)
				srv_client_write(s, i);
	}
}

/* Let go of clients that never said hello; how long poll may wait for the next deadline (-1: none). */
static int srv_hello_deadlines(struct srv *s)
{
	int64_t now = monotime_ms(), next = -1;

	for (int i = 0; i < CONSRV_CLIENTS; i++) {
		struct srv_client *c = &s->cl[i];

		if (c->fd < 0 || c->ready)
			continue;
		if (c->hello_by <= now)
			srv_client_drop(s, i);
		else if (next < 0 || c->hello_by - now < next)
			next = c->hello_by - now;
	}
	return (int)next;
}

static void srv_loop(struct srv *s)
{
	struct pollfd p[P_CLIENT0 + CONSRV_CLIENTS];

	for (;;) {
		int wait_ms = srv_hello_deadlines(s);

		srv_poll_set(s, p);
		if (poll(p, P_CLIENT0 + CONSRV_CLIENTS, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("vm %s: console: poll", s->spec->vm);
			return;
		}
		if (p[P_CTL].revents && !srv_ctl(s))
			return;
		if (p[P_GUEST].revents & (POLLIN | POLLHUP | POLLERR))
			srv_from_guest(s);
		if (p[P_IN].revents)
			srv_local_read(s);
		for (int i = 0; i < CONSRV_CLIENTS; i++) {
			if (p[P_CLIENT0 + i].revents & (POLLIN | POLLHUP | POLLERR))
				srv_client_read(s, i);
			if (s->cl[i].fd >= 0 && (p[P_CLIENT0 + i].revents & POLLOUT))
				srv_client_write(s, i);
		}
		if (s->guest >= 0 && s->nkeys)
			srv_to_guest(s);
		if (p[P_OUT].revents)
			srv_local_write(s);
		if (p[P_LISTEN].revents)
			srv_accept(s);
	}
}

int consrv_serve(const struct consrv_spec *spec, int listen_fd, int ctl)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct termios raw;

	if (!s)
		return 1;
	s->spec = spec;
	s->listen_fd = listen_fd;
	s->ctl = ctl;
	s->guest = spec->guest;
	s->in_fd = spec->local_in;
	s->out_fd = spec->local_out;
	s->log_fd = -1;
	s->writer = -1;
	for (int i = 0; i < CONSRV_CLIENTS; i++)
		s->cl[i].fd = -1;
	if (s->guest >= 0)
		fcntl(s->guest, F_SETFL, O_NONBLOCK);
	if (s->out_fd >= 0) {
		struct stat st;

		s->out_sock = fstat(s->out_fd, &st) == 0 && S_ISSOCK(st.st_mode);
		s->out_chunk = s->out_sock || (fcntl(s->out_fd, F_GETFL) & O_NONBLOCK) ? CONSRV_RING
											  : SRV_BLOCKING_CHUNK;
	}
	if (spec->log_dir >= 0)
		srv_log_open(s);
	/* A terminal of the server's own: bytes as on a serial line, no signals, no echo. */
	if (spec->local_raw && s->in_fd >= 0 && tcgetattr(s->in_fd, &s->tty) == 0) {
		raw = s->tty;
		cfmakeraw(&raw);
		s->tty_saved = tcsetattr(s->in_fd, TCSAFLUSH, &raw) == 0;
	}
	srv_loop(s);
	srv_drain(s);
	srv_flush(s);
	if (s->tty_saved)
		tcsetattr(s->in_fd >= 0 ? s->in_fd : spec->local_in, TCSAFLUSH, &s->tty);
	free(s);
	return 0;
}
