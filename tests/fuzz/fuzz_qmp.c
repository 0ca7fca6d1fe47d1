/* fuzz_qmp.c: fuzz target: bytes from QEMU's monitor socket -> the QMP client: qmp_read on a socketpair fed in odd chunks, checked against qmp_parse line by line. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "qmp.h"

/* Longest string return value that is also quoted with qmp_quote and parsed back. */
#define FUZZ_QMP_QUOTE_MAX 4096

/* What qmp_parse made of one non-empty line, its text copied out of the client's buffer. */
struct fuzz_qmp_want {
	struct qmp_msg m;
	char *text;
};

/* The messages qmp_read must deliver, in order, and how many it has. */
struct fuzz_qmp_run {
	struct fuzz_qmp_want *want;
	size_t nwant, seen;
};

/* The client qmp_parse runs on: made on the first input, kept for the process. */
static struct qmp fuzz_qmp_parser;

static bool fuzz_qmp_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* What qmp.h promises of every message it hands out. */
static void fuzz_qmp_check_msg(const struct qmp_msg *m)
{
	if ((unsigned)m->kind > QMP_EVENT)
		fuzz_violation("qmp", "a message of no known kind");
	if (!fuzz_qmp_terminated(m->event, sizeof(m->event)) ||
	    !fuzz_qmp_terminated(m->reason, sizeof(m->reason)) ||
	    !fuzz_qmp_terminated(m->id, sizeof(m->id)) ||
	    !fuzz_qmp_terminated(m->status, sizeof(m->status)) ||
	    !fuzz_qmp_terminated(m->error, sizeof(m->error)))
		fuzz_violation("qmp", "a string field without its NUL");
	if (m->guest < -1 || m->guest > 1)
		fuzz_violation("qmp", "data.guest neither true, false nor absent");
	if (!m->text && m->text_len)
		fuzz_violation("qmp", "text_len without text");
	/* \u0000 and raw NULs are refused, so the text's only NUL is its terminator. */
	if (m->text && memchr(m->text, '\0', m->text_len + 1) != m->text + m->text_len)
		fuzz_violation("qmp", "text not NUL-terminated exactly at text_len");
	if ((m->text || m->status[0]) && m->kind != QMP_RETURN)
		fuzz_violation("qmp", "a return value's text or status in a message that is no return");
	if (m->text && m->status[0])
		fuzz_violation("qmp", "a return value that is both a string and an object");
	if (m->error[0] && m->kind != QMP_ERROR)
		fuzz_violation("qmp", "error.desc in a message that is no error");
	if (m->event[0] && m->kind != QMP_EVENT)
		fuzz_violation("qmp", "an event name in a message that is no event");
}

/* qmp_parse's answer: 0 with a message that keeps the promises, or -EPROTO with no text. */
static int fuzz_qmp_parse(const uint8_t *line, size_t len, struct qmp_msg *m)
{
	int r = qmp_parse(&fuzz_qmp_parser, (const char *)line, len, m);

	if (r == 0)
		fuzz_qmp_check_msg(m);
	else if (r != -EPROTO)
		fuzz_violation("qmp", "qmp_parse returned neither 0 nor -EPROTO");
	else if (m->text)
		fuzz_violation("qmp", "a refused message with text");
	return r;
}

/* A string return value, quoted with qmp_quote and parsed again, gives the same bytes. */
static void fuzz_qmp_requote(const char *text, size_t len)
{
	size_t cap = 6 * len + 3, n;
	char *line = malloc(cap + 16);
	struct qmp_msg m;

	if (!line)
		abort();
	memcpy(line, "{\"return\":", 10);
	if (qmp_quote(line + 10, cap, text) != 0)
		fuzz_violation("qmp", "qmp_quote found no room in 6 bytes a byte");
	n = strlen(line);
	line[n++] = '}';
	if (fuzz_qmp_parse((const uint8_t *)line, n, &m) != 0 || !m.text || m.text_len != len ||
	    memcmp(m.text, text, len) != 0)
		fuzz_violation("qmp", "a string qmp_quote wrote does not parse back to itself");
	free(line);
}

/*
 * Parse the input line by line as qmp_read frames it ("\n", an optional "\r"
 * before it, empty lines skipped) and record what it must deliver.  Returns
 * what qmp_read must say at the end: -EPROTO at the first bad line (or an
 * over-long unfinished one), else -EPIPE at end of file.
 */
static int fuzz_qmp_expect(const uint8_t *data, size_t size, struct fuzz_qmp_run *run)
{
	size_t start = 0, tail;
	const uint8_t *nl;

	while ((nl = memchr(data + start, '\n', size - start))) {
		size_t len = (size_t)(nl - (data + start));
		struct fuzz_qmp_want *w = &run->want[run->nwant];
		int r;

		if (len && data[start + len - 1] == '\r')
			len--;
		r = fuzz_qmp_parse(data + start, len, &w->m);
		start = (size_t)(nl - data) + 1;
		if (!len)
			continue;
		if (r)
			return -EPROTO;
		w->text = NULL;
		if (w->m.text) {
			if (!(w->text = malloc(w->m.text_len + 1)))
				abort();
			memcpy(w->text, w->m.text, w->m.text_len + 1);
		}
		run->nwant++;
		if (w->text && w->m.text_len <= FUZZ_QMP_QUOTE_MAX)
			fuzz_qmp_requote(w->text, w->m.text_len);
	}
	tail = size - start;
	if (tail > QMP_LINE_MAX + 1 || (tail == QMP_LINE_MAX + 1 && data[size - 1] != '\r'))
		return -EPROTO;
	return -EPIPE;
}

static void fuzz_qmp_got(void *arg, const struct qmp_msg *m)
{
	struct fuzz_qmp_run *run = arg;
	const struct fuzz_qmp_want *w;

	fuzz_qmp_check_msg(m);
	if (run->seen >= run->nwant)
		fuzz_violation("qmp", "qmp_read delivered a message qmp_parse refused or never saw");
	w = &run->want[run->seen++];
	if (m->kind != w->m.kind || strcmp(m->event, w->m.event) || strcmp(m->reason, w->m.reason) ||
	    m->guest != w->m.guest || strcmp(m->id, w->m.id) || strcmp(m->status, w->m.status) ||
	    strcmp(m->error, w->m.error) || !m->text != !w->text ||
	    (m->text && (m->text_len != w->m.text_len || memcmp(m->text, w->text, m->text_len))))
		fuzz_violation("qmp", "qmp_read and qmp_parse disagree on a message");
}

/* One qmp_read: only a count, -EPIPE or -EPROTO (no read error on a socketpair). */
static int fuzz_qmp_read(struct qmp *q, struct fuzz_qmp_run *run, int *total)
{
	int r = qmp_read(q, fuzz_qmp_got, run);

	if (r < 0 && r != -EPIPE && r != -EPROTO)
		fuzz_violation("qmp", "qmp_read returned an errno other than EPIPE or EPROTO");
	if (r > 0)
		*total += r;
	return r;
}

static int fuzz_qmp_pending(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

static void fuzz_qmp_write(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0) {
			perror("fuzz_qmp: write");
			abort();
		}
		p += w;
		n -= (size_t)w;
	}
}

/*
 * Send the input to the client in chunks of 1 to 61 bytes, their sizes
 * cycling from the first byte's value, reading after each; then end the
 * stream.  Returns qmp_read's last answer.
 */
static int fuzz_qmp_stream(const uint8_t *data, size_t size, struct fuzz_qmp_run *run, int *total)
{
	struct qmp q;
	int sv[2], r = 0;
	size_t off = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		perror("fuzz_qmp: socketpair");
		abort();
	}
	if (qmp_init(&q, sv[0]) != 0)
		abort();
	for (unsigned i = 0; off < size && r != -EPROTO; i++) {
		size_t k = 1 + (data[0] + 13u * i) % 61;

		if (k > size - off)
			k = size - off;
		fuzz_qmp_write(sv[1], data + off, k);
		off += k;
		do
			r = fuzz_qmp_read(&q, run, total);
		while (r >= 0 && fuzz_qmp_pending(sv[0]) > 0);
		if (r == -EPIPE)
			fuzz_violation("qmp", "qmp_read saw end of file on an open socket");
	}
	if (r != -EPROTO) {
		shutdown(sv[1], SHUT_WR);
		for (int tries = 0; tries < 4 && r >= 0; tries++)
			r = fuzz_qmp_read(&q, run, total);
	}
	/* -EPROTO sticks: the stream is out of sync for good. */
	if (r == -EPROTO && fuzz_qmp_read(&q, run, total) != -EPROTO)
		fuzz_violation("qmp", "qmp_read went on after -EPROTO");
	qmp_fini(&q);
	qmp_fini(&q);
	close(sv[0]);
	close(sv[1]);
	return r;
}

/* The lowest free descriptor: what any descriptor left open by an input moves. */
static int fuzz_qmp_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_qmp_run run = { 0 };
	struct qmp_msg m;
	size_t lines = 1;
	int want, got, total = 0, fd0 = fuzz_qmp_free_fd();

	if (!fuzz_qmp_parser.buf && qmp_init(&fuzz_qmp_parser, -1) != 0)
		abort();
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (!(run.want = calloc(lines, sizeof(run.want[0]))))
		abort();
	/* The whole input as one message too: its newlines are JSON whitespace there. */
	fuzz_qmp_parse(data, size, &m);
	want = fuzz_qmp_expect(data, size, &run);
	got = fuzz_qmp_stream(data, size, &run, &total);
	if (got != want)
		fuzz_violation("qmp", want == -EPROTO ? "qmp_read took a stream qmp_parse refuses"
						       : "qmp_read refused a stream qmp_parse takes");
	/* The read that ends in -EPROTO does not count the messages it handled before the bad line. */
	if (run.seen != run.nwant || (size_t)total > run.seen || (got != -EPROTO && (size_t)total != run.seen))
		fuzz_violation("qmp", "qmp_read delivered fewer messages than the stream holds, or "
			       "counted them wrong");
	for (size_t i = 0; i < run.nwant; i++)
		free(run.want[i].text);
	free(run.want);
	if (fuzz_qmp_free_fd() != fd0)
		fuzz_violation("qmp", "a descriptor left open");
	return 0;
}
