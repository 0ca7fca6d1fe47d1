/* test_release.c: both sides of the view-release exchange (release.h) over a socket pair, each failure with its errno. */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "monotime.h"
#include "release.h"

/* What the owner does once kvmload asked. */
enum test_owner {
	OWNER_ANSWERS,       /* reads 'R', answers 'K' */
	OWNER_WRONG,         /* reads 'R', answers another byte */
	OWNER_CLOSES,        /* reads 'R', closes without answering (the view would not stop) */
	OWNER_CLOSES_UNREAD, /* closes with 'R' unread (it ended) */
	OWNER_SILENT,        /* reads 'R', says nothing */
};

/* sv[0]: kvmload's end, sv[1]: the owner's. */
static void test_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		exit(1);
	}
}

/* kvmload's side against an owner that does how: release_await's result; *took its time in ms. */
static int test_kvmload(enum test_owner how, int wait_ms, int64_t *took)
{
	unsigned char got = 0;
	int64_t start;
	int sv[2], r;

	test_pair(sv);
	CHECK_EQ(release_ask(sv[0]), 0);
	if (how != OWNER_CLOSES_UNREAD) {
		CHECK_EQ(release_heard(sv[1], &got), 1);
		CHECK_EQ(got, RELEASE_ASK);
	}
	if (how == OWNER_ANSWERS)
		CHECK_EQ(release_answer(sv[1]), 0);
	if (how == OWNER_WRONG)
		CHECK_EQ(write(sv[1], "R", 1), 1);
	if (how == OWNER_CLOSES || how == OWNER_CLOSES_UNREAD)
		close(sv[1]);
	start = monotime_ms();
	r = release_await(sv[0], wait_ms);
	*took = monotime_ms() - start;
	if (how == OWNER_CLOSES)
		CHECK_EQ(release_ask(sv[0]), -EPIPE); /* and a second ask finds the end closed */
	close(sv[0]);
	if (how != OWNER_CLOSES && how != OWNER_CLOSES_UNREAD)
		close(sv[1]);
	return r;
}

static void test_kvmload_side(void)
{
	int64_t took;

	CHECK_EQ(test_kvmload(OWNER_ANSWERS, 1000, &took), 0);
	CHECK_EQ(test_kvmload(OWNER_WRONG, 1000, &took), -EPROTO);
	CHECK_EQ(test_kvmload(OWNER_CLOSES, 1000, &took), -EPIPE);
	/* The kernel tells kvmload its byte was never read: read's ECONNRESET. */
	CHECK_EQ(test_kvmload(OWNER_CLOSES_UNREAD, 1000, &took), -ECONNRESET);
	CHECK_EQ(test_kvmload(OWNER_SILENT, 200, &took), -ETIMEDOUT);
	CHECK(took >= 190 && took < 2000);
}

/* The owner's side: another byte is -EPROTO with the byte; kvmload gone is EOF (0) and -EPIPE. */
static void test_owner_side(void)
{
	unsigned char got = 0;
	int sv[2];

	test_pair(sv);
	CHECK_EQ(write(sv[0], "X", 1), 1);
	CHECK_EQ(release_heard(sv[1], &got), -EPROTO);
	CHECK_EQ(got, 'X');
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
	test_kvmload_side();
	test_owner_side();
	test_bad_fd();
	return check_done();
}
