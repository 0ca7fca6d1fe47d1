/* test_state.c: kvmload-hotplug's VM records: the state record, the bounded exit history and the console tail reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "state.h"

static char run[64];
static const char *vm = "t";

/* RUN/t/LEAF as a file holding n bytes of data. */
static void put(const char *leaf, const char *data, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", run, vm, leaf);
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static char *slurp(const char *leaf)
{
	static char buf[1 << 18];
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s/%s", run, vm, leaf);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static bool starts(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void console_unlink(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s/%s", run, vm, STATE_CONSOLE);
	unlink(path);
}

static void test_tail_small(void)
{
	char out[STATE_TAIL_MAX];
	static const char text[] = "a\r\nb\x1b[0m\\c\xff\n\nlast";

	console_unlink();
	strcpy(out, "junk");
	CHECK_EQ(state_console_tail(run, vm, out, sizeof(out)), 0);
	CHECK_STR(out, ""); /* no log (console = a device): nothing */
	put(STATE_CONSOLE, text, sizeof(text) - 1);
	CHECK_EQ(state_console_tail(run, vm, out, sizeof(out)), 0);
	/* \r\n ends a line; escapes as log_esc; an empty line stays; the unterminated last gets its \n. */
	CHECK_STR(out, "a\nb\\x1b[0m\\\\c\\xff\n\nlast\n");
	CHECK_EQ(state_console_tail(run, vm, out, 8), -ENOBUFS);
	CHECK_STR(out, "");
}

static void test_tail_lines(void)
{
	char out[STATE_TAIL_MAX], want[1024] = "", *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	for (int i = 1; i <= 30; i++)
		fprintf(f, "line %d\r\n", i);
	fclose(f);
	put(STATE_CONSOLE, text, len);
	free(text);
	for (int i = 11; i <= 30; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "line %d\n", i);
	CHECK_EQ(state_console_tail(run, vm, out, sizeof(out)), 0);
	CHECK_STR(out, want); /* the last STATE_TAIL_LINES */
}

static void test_tail_window(void)
{
	char out[STATE_TAIL_MAX], *text = malloc(3 * STATE_TAIL_BYTES);
	size_t n = 0;

	CHECK(text != NULL);
	if (!text)
		return;
	/* Two lines of 3/4 window each: the window cuts the first, which is dropped. */
	for (int i = 0; i < 2; i++) {
		memset(text + n, 'a' + i, STATE_TAIL_BYTES * 3 / 4 - 1);
		n += STATE_TAIL_BYTES * 3 / 4 - 1;
		text[n++] = '\n';
	}
	put(STATE_CONSOLE, text, n);
	CHECK_EQ(state_console_tail(run, vm, out, sizeof(out)), 0);
	CHECK_EQ(strlen(out), STATE_TAIL_BYTES * 3 / 4);
	CHECK_EQ(strspn(out, "b"), STATE_TAIL_BYTES * 3 / 4 - 1);
	/* A line longer than the window: its end is all there is to show. */
	memset(text, 'c', 2 * STATE_TAIL_BYTES);
	text[2 * STATE_TAIL_BYTES - 1] = '\n';
	put(STATE_CONSOLE, text, 2 * STATE_TAIL_BYTES);
	CHECK_EQ(state_console_tail(run, vm, out, sizeof(out)), 0);
	CHECK_EQ(strlen(out), STATE_TAIL_BYTES);
	CHECK_EQ(strspn(out, "c"), STATE_TAIL_BYTES - 1);
	/* One endless line: its last STATE_TAIL_BYTES are all there is to show. */
	memset(text, 'z', 2 * STATE_TAIL_BYTES);
	put(STATE_CONSOLE, text, 2 * STATE_TAIL_BYTES);
	CHECK_EQ(state_console_tail(run, vm, out, sizeof(out)), 0);
	CHECK_EQ(strlen(out), STATE_TAIL_BYTES + 1);
	/* Every byte escaped: the largest result fits STATE_TAIL_MAX. */
	memset(text, 0x01, 2 * STATE_TAIL_BYTES);
	put(STATE_CONSOLE, text, 2 * STATE_TAIL_BYTES);
	CHECK_EQ(state_console_tail(run, vm, out, sizeof(out)), 0);
	CHECK_EQ(strlen(out), 4 * STATE_TAIL_BYTES + 1);
	free(text);
}

/* Just rotated: the few lines of the new log come after the end of the one before. */
static void test_tail_rotated(void)
{
	char out[STATE_TAIL_MAX], path[256], big[100 * 41];

	put(STATE_CONSOLE_OLD, "old 1\nold 2\n", 12);
	put(STATE_CONSOLE, "new 1\n", 6);
	CHECK_EQ(state_console_tail(run, vm, out, sizeof(out)), 0);
	CHECK_STR(out, "old 1\nold 2\nnew 1\n");
	/* A whole window in the new log: the old one is not read. */
	memset(big, 'n', sizeof(big));
	for (size_t i = 40; i < sizeof(big); i += 41)
		big[i] = '\n';
	put(STATE_CONSOLE, big, sizeof(big));
	CHECK_EQ(state_console_tail(run, vm, out, sizeof(out)), 0);
	CHECK(strstr(out, "old") == NULL);
	CHECK_EQ(strlen(out), STATE_TAIL_LINES * 41);
	snprintf(path, sizeof(path), "%s/%s/%s", run, vm, STATE_CONSOLE_OLD);
	unlink(path);
}

/* Not a regular file: refused, at once (a FIFO would block a plain open and read). */
static void test_tail_not_file(void)
{
	char out[STATE_TAIL_MAX], path[256];

	console_unlink();
	snprintf(path, sizeof(path), "%s/%s/%s", run, vm, STATE_CONSOLE);
	CHECK_EQ(mkfifo(path, 0600), 0);
	CHECK_EQ(state_console_tail(run, vm, out, sizeof(out)), -EINVAL);
	console_unlink();
	CHECK_EQ(symlink("/etc/passwd", path), 0);
	CHECK_EQ(state_console_tail(run, vm, out, sizeof(out)), -ELOOP);
	console_unlink();
}

static void test_state_record(void)
{
	struct state_rec rec = { .kind = STATE_RESTARTING, .since = { 1765094401, 123456789 },
				 .exited = true,
				 .last = { .status = "status 0, reset", .ran_ms = 61234 } };
	struct state_rec got;

	snprintf(rec.why, sizeof(rec.why), "quick reset 2 in a row");
	CHECK_EQ(state_get(run, vm, &got), -ENOENT);
	CHECK_EQ(state_set(run, vm, &rec), 0);
	CHECK_STR(slurp(STATE_RECORD), "state: restarting\nsince: 2025-12-07T08:00:01.123Z\n"
				       "last-exit: status 0, reset\nlast-run: 61.234 s\n"
				       "why: quick reset 2 in a row\n");
	CHECK_EQ(state_get(run, vm, &got), 0);
	CHECK_EQ(got.kind, STATE_RESTARTING);
	CHECK_EQ(got.since.tv_sec, 1765094401);
	CHECK_EQ(got.since.tv_nsec, 123000000);
	CHECK(got.exited);
	CHECK_STR(got.last.status, "status 0, reset");
	CHECK_EQ(got.last.ran_ms, 61234);
	CHECK_STR(got.why, "quick reset 2 in a row");
	CHECK_STR(state_name(STATE_LOADING), "loading");
	CHECK_STR(state_name(STATE_STOPPED), "stopped");
	put(STATE_RECORD, "state: dancing\nsince: 2025-12-07T08:00:01.123Z\n", 47);
	CHECK_EQ(state_get(run, vm, &got), -EINVAL);
}

static void test_history(void)
{
	struct state_exit e = { .status = "status 0, reset", .at = { 1765094401, 5000000 } };
	char *s;
	int entries = 0;

	for (int i = 0; i < STATE_HISTORY + 3; i++) {
		char tail[64];

		e.ran_ms = i;
		snprintf(tail, sizeof(tail), "boot %d\npanic: %d\n", i, i);
		CHECK_EQ(state_exit_add(run, vm, &e, tail), 0);
	}
	s = slurp(STATE_STATUS);
	CHECK(s != NULL);
	if (!s)
		return;
	/* Newest first, and only the last STATE_HISTORY. */
	CHECK(starts(s, "exited: status 0, reset\nat: 2025-12-07T08:00:01.005Z\nran: 0.010 s\n"
			"console:\n| boot 10\n| panic: 10\n\nexited: "));
	for (const char *p = s; (p = strstr(p, "exited: ")); p++)
		entries++;
	CHECK_EQ(entries, STATE_HISTORY);
	CHECK(strstr(s, "| panic: 3\n\n") != NULL);
	CHECK(strstr(s, "| panic: 2\n") == NULL);
	CHECK_EQ(s[strlen(s) - 1], '\n');
	CHECK_EQ(s[strlen(s) - 2], '\n');
	/* No console (a console = device): the entry says so by an empty console: part. */
	CHECK_EQ(state_exit_add(run, vm, &e, ""), 0);
	CHECK(starts(slurp(STATE_STATUS), "exited: status 0, reset\nat: 2025-12-07T08:00:01.005Z\n"
					  "ran: 0.010 s\nconsole:\n\nexited: "));
}

int main(void)
{
	char dir[128];

	snprintf(run, sizeof(run), "/tmp/kvmload-test-state.XXXXXX");
	if (!mkdtemp(run)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/%s", run, vm);
	mkdir(dir, 0700);
	test_tail_small();
	test_tail_lines();
	test_tail_window();
	test_tail_rotated();
	test_tail_not_file();
	test_state_record();
	test_history();
	CHECK_EQ(state_clear(run, vm), 0);
	rmdir(run);
	return check_done();
}
