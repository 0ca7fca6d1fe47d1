/* test_release.c: both sides of the view-release exchange (release.h) over a socket pair, each failure with its errno. */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "release.h"

/* sv[0]: kvmload's end, sv[1]: the owner's. */
static void test_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		exit(1);
	}
}

static long test_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

/* The whole exchange: 'R' heard by the owner, 'K' taken by kvmload. */
static void test_exchange(void)
{
	unsigned char got = 0;
	int sv[2];

	test_pair(sv);
	CHECK_EQ(release_ask(sv[0]), 0);
	CHECK_EQ(release_heard(sv[1], &got), 1);
	CHECK_EQ(got, 'R');
	CHECK_EQ(release_answer(sv[1]), 0);
	CHECK_EQ(release_await(sv[0], 1000), 0);
	close(sv[0]);
	close(sv[1]);
}

/* No answer: -ETIMEDOUT, after the wait and not long after it. */
static void test_timeout(void)
{
	long start;
	int sv[2];

	test_pair(sv);
	CHECK_EQ(release_ask(sv[0]), 0);
	start = test_ms();
	CHECK_EQ(release_await(sv[0], 200), -ETIMEDOUT);
	CHECK(test_ms() - start >= 190);
	CHECK(test_ms() - start < 2000);
	close(sv[0]);
	close(sv[1]);
}

/* Another byte on either side: -EPROTO, and the owner learns which byte. */
static void test_wrong_byte(void)
{
	unsigned char got = 0;
	int sv[2];

	test_pair(sv);
	CHECK_EQ(write(sv[0], "X", 1), 1);
	CHECK_EQ(release_heard(sv[1], &got), -EPROTO);
	CHECK_EQ(got, 'X');
	CHECK_EQ(write(sv[1], "R", 1), 1);
	CHECK_EQ(release_await(sv[0], 1000), -EPROTO);
	close(sv[0]);
	close(sv[1]);
}

/* An end closed: EOF is "nothing to release" to the owner, -EPIPE to kvmload; writes get -EPIPE. */
static void test_peer_closed(void)
{
	unsigned char got = 0;
	int sv[2];

	/* The owner heard 'R' but could not stop the view: it closes without answering. */
	test_pair(sv);
	CHECK_EQ(release_ask(sv[0]), 0);
	CHECK_EQ(release_heard(sv[1], &got), 1);
	close(sv[1]);
	CHECK_EQ(release_await(sv[0], 1000), -EPIPE);
	CHECK_EQ(release_ask(sv[0]), -EPIPE);
	close(sv[0]);

	/* The owner ended with 'R' unread: the kernel says so (read's ECONNRESET). */
	test_pair(sv);
	CHECK_EQ(release_ask(sv[0]), 0);
	close(sv[1]);
	CHECK_EQ(release_await(sv[0], 1000), -ECONNRESET);
	close(sv[0]);

	test_pair(sv);
	close(sv[0]);
	CHECK_EQ(release_heard(sv[1], &got), 0);
	CHECK_EQ(release_answer(sv[1]), -EPIPE);
	close(sv[1]);
}

/* A descriptor that is not open (any more): -EBADF from every call. */
static void test_bad_fd(void)
{
	unsigned char got;
	int sv[2];

	test_pair(sv);
	close(sv[0]);
	close(sv[1]);
	CHECK_EQ(release_ask(sv[0]), -EBADF);
	CHECK_EQ(release_await(sv[0], 100), -EBADF);
	CHECK_EQ(release_heard(sv[1], &got), -EBADF);
	CHECK_EQ(release_answer(sv[1]), -EBADF);
}

int main(void)
{
	/* As kvmload does: a write to a closed end is -EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	test_exchange();
	test_timeout();
	test_wrong_byte();
	test_peer_closed();
	test_bad_fd();
	return check_done();
}
