/* test_consrv.c: the console server through its socket and its owner's handle: replay, readers, one writer, force, limits, the ring, the tail, the capped log, guests one after another. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "consrv.h"

static char dir[64], sock[100];

/* Up to n bytes that arrive within ms (less at an end of file or the time). */
static size_t recv_for(int fd, void *buf, size_t n, int ms)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, ms) <= 0)
			break;
		r = read(fd, (char *)buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* One line from fd (the server's answer), without its newline. */
static void recv_line(int fd, char *line, size_t len)
{
	size_t n = 0;

	while (n + 1 < len && recv_for(fd, line + n, 1, 2000) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
}

/* A connection that has said nothing yet. */
static int connect_idle(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

/*
 * A client that says hello, and the server's answer.  A server that turns
 * the client away (too many clients) may close before the hello arrives:
 * EPIPE then, and the answer is still there to read.
 */
static int connect_as(const char *hello, char *answer, size_t len)
{
	int fd = connect_idle();

	if (send(fd, hello, strlen(hello), MSG_NOSIGNAL) != (ssize_t)strlen(hello) && errno != EPIPE)
		exit(1);
	recv_line(fd, answer, len);
	return fd;
}

/* Write all of buf to the guest side while nobody else reads it: the server does. */
static void guest_print(int g, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(g, p, n);

		if (w <= 0)
			exit(1);
		p += w;
		n -= (size_t)w;
	}
}

static off_t file_size(const char *name)
{
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

int main(void)
{
	struct consrv s;
	struct consrv_spec spec = { .sock = sock, .log_name = "console.log", .local_in = -1,
				    .local_out = -1, .guest = -1, .vm = "t" };
	char line[256], err[256], busy[64], buf[4096], long_path[200];
	int g[2], r1, w1, w2, w3, cl[CONSRV_CLIENTS], n, idle;
	char *big;

	snprintf(dir, sizeof(dir), "/tmp/test_consrv.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	spec.log_dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	consrv_init(&s);

	/* A socket name too long: refused with the reason, nothing started. */
	memset(long_path, 'x', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	spec.sock = long_path;
	CHECK_EQ(consrv_start(&s, &spec, err, sizeof(err)), -ENAMETOOLONG);
	CHECK(strstr(err, "too long for a socket's name") != NULL);
	CHECK_EQ(s.pid, -1);
	CHECK(fcntl(spec.log_dir, F_GETFD) >= 0);

	snprintf(sock, sizeof(sock), "%s/console.sock", dir);
	spec.sock = sock;
	CHECK_EQ(consrv_start(&s, &spec, err, sizeof(err)), 0);
	idle = connect_idle();

	/* A guest prints before anyone attaches: the reader gets it first. */
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g), 0);
	CHECK_EQ(consrv_guest(&s, g[0]), 0);
	close(g[0]);
	guest_print(g[1], "boot: hello\r\n", 13);
	r1 = connect_as(CONSRV_HELLO " read\n", line, sizeof(line));
	CHECK_STR(line, "ok read");
	CHECK_EQ(recv_for(r1, buf, 13, 2000), 13);
	CHECK(memcmp(buf, "boot: hello\r\n", 13) == 0);

	/* One writer; the second is told who; its keys reach the guest, a reader's do not. */
	w1 = connect_as(CONSRV_HELLO " write\n", line, sizeof(line));
	CHECK_STR(line, "ok write");
	w2 = connect_as(CONSRV_HELLO " write\n", line, sizeof(line));
	snprintf(busy, sizeof(busy), "busy %ld %ld", (long)getpid(), (long)getuid());
	CHECK_STR(line, busy);
	CHECK_EQ(recv_for(w2, buf, 1, 2000), 0); /* and the connection ended */
	close(w2);
	CHECK_EQ(write(r1, "r", 1), 1);
	CHECK_EQ(write(w1, "abc", 3), 3);
	CHECK_EQ(recv_for(g[1], buf, 3, 2000), 3);
	CHECK(memcmp(buf, "abc", 3) == 0);

	/* --force: the input moves, the old writer is told and stays a reader. */
	w3 = connect_as(CONSRV_HELLO " write force\n", line, sizeof(line));
	CHECK_STR(line, "ok write");
	snprintf(line, sizeof(line), "\r\n[kvmload: console input taken by pid %ld]\r\n", (long)getpid());
	n = (int)strlen(line);
	CHECK_EQ(recv_for(w1, buf, 13 + (size_t)n, 2000), 13 + (size_t)n);
	CHECK(memcmp(buf + 13, line, (size_t)n) == 0);
	CHECK_EQ(write(w1, "old", 3), 3);
	CHECK_EQ(write(w3, "new", 3), 3);
	CHECK_EQ(recv_for(g[1], buf, sizeof(buf), 500), 3);
	CHECK(memcmp(buf, "new", 3) == 0);

	/* More keys than the server's 4 KiB buffer: the writer stays, and they all arrive in order. */
	{
		char keys[10000], got[10000];

		for (size_t i = 0; i < sizeof(keys); i++)
			keys[i] = (char)('A' + i % 26);
		CHECK_EQ(write(w3, keys, sizeof(keys)), (ssize_t)sizeof(keys));
		CHECK_EQ(recv_for(g[1], got, sizeof(got), 2000), sizeof(got));
		CHECK(memcmp(keys, got, sizeof(keys)) == 0);
	}

	/* Strangers and the 17th client get a reason, not a stream. */
	close(connect_as("GET / HTTP/1.0\n", line, sizeof(line)));
	CHECK_STR(line, "error not a kvmload console client");
	memset(buf, 'x', 100);
	buf[100] = '\0';
	close(connect_as(buf, line, sizeof(line)));
	CHECK_STR(line, "error hello too long");
	close(connect_as(CONSRV_HELLO " admin\n", line, sizeof(line)));
	CHECK_STR(line, "error unknown role");
	for (int i = 0; i < CONSRV_CLIENTS - 4; i++)
		cl[i] = connect_as(CONSRV_HELLO " read\n", line, sizeof(line));
	close(connect_as(CONSRV_HELLO " read\n", line, sizeof(line)));
	CHECK_STR(line, "error too many clients");
	for (int i = 0; i < CONSRV_CLIENTS - 4; i++)
		close(cl[i]);
	close(r1);
	close(w1);
	close(w3);

	/* More than the ring, more than the log's cap: a late reader gets the last 256 KiB exactly. */
	big = malloc(CONSRV_LOG_MAX + 100000);
	for (size_t i = 0; i < CONSRV_LOG_MAX + 100000; i++)
		big[i] = (char)('a' + i % 26);
	guest_print(g[1], big, CONSRV_LOG_MAX + 100000);
	CHECK_EQ(consrv_tail(&s, buf, 100), 100);
	CHECK(memcmp(buf, big + CONSRV_LOG_MAX + 100000 - 100, 100) == 0);
	r1 = connect_as(CONSRV_HELLO " read\n", line, sizeof(line));
	{
		char *replay = malloc(CONSRV_RING + 1);

		CHECK_EQ(recv_for(r1, replay, CONSRV_RING + 1, 1000), CONSRV_RING);
		CHECK(memcmp(replay, big + CONSRV_LOG_MAX + 100000 - CONSRV_RING, CONSRV_RING) == 0);
		free(replay);
	}
	CHECK(file_size("console.log") <= CONSRV_LOG_MAX);
	CHECK(file_size("console.log.1") <= CONSRV_LOG_MAX);
	CHECK_EQ(file_size("console.log") + file_size("console.log.1"), 13 + CONSRV_LOG_MAX + 100000);
	free(big);

	/* The guest ends; the next one is served to the same reader. */
	close(g[1]);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g), 0);
	CHECK_EQ(consrv_guest(&s, g[0]), 0);
	close(g[0]);
	guest_print(g[1], "second\n", 7);
	CHECK_EQ(recv_for(r1, buf, 7, 2000), 7);
	CHECK(memcmp(buf, "second\n", 7) == 0);

	/* A client that never says hello is let go (5 s after it came), not kept in a slot. */
	CHECK_EQ(recv_for(idle, buf, 1, 6000), 0);
	CHECK_EQ(read(idle, buf, 1), 0);
	close(idle);

	/* Its owner lets go: it passes on what the guest wrote last, then ends. */
	guest_print(g[1], "last\n", 5);
	consrv_stop(&s);
	CHECK_EQ(s.pid, -1);
	CHECK_EQ(recv_for(r1, buf, sizeof(buf), 2000), 5);
	CHECK(memcmp(buf, "last\n", 5) == 0);
	CHECK_EQ(consrv_tail(&s, buf, 10), -EPIPE);
	close(r1);
	close(g[1]);
	unlinkat(spec.log_dir, "console.log", 0);
	unlinkat(spec.log_dir, "console.log.1", 0);
	unlinkat(spec.log_dir, "console.sock", 0);
	rmdir(dir);
	return check_done();
}
