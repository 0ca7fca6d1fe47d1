/* test_cb_support.c: test doubles for plugin_leave and the console, the loader fixture, stderr capture. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_cb.h"

/* Double: the real plugin_leave longjmps to plugin_run; here TEST_LEAVES armed the point. */
_Noreturn void plugin_leave(struct plugin_recover *rp)
{
	if (!rp->armed) {
		fprintf(stderr, "plugin_leave called with the recovery point unarmed\n");
		abort();
	}
	longjmp(rp->jb, 1);
}

const char *plugin_fault(void)
{
	return NULL;
}

/* Console doubles over c->in_fd / c->out_fd (pipes made by the tests). */
int console_getc(struct console *c)
{
	unsigned char ch;
	ssize_t n;

	if (c->eof)
		return -1;
	do
		n = read(c->in_fd, &ch, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		return ch;
	c->eof = true;
	return -1;
}

int console_poll(struct console *c)
{
	struct pollfd p = { .fd = c->in_fd, .events = POLLIN };

	if (c->eof)
		return 0;
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

void console_putc(struct console *c, int ch)
{
	unsigned char b = (unsigned char)ch;

	if (write(c->out_fd, &b, 1) != 1)
		abort();
}

struct loader *test_loader_new(void)
{
	struct loader *l = calloc(1, sizeof(*l));

	if (!l || gmem_init(&l->gmem, TEST_GMEM_SIZE, 0) < 0) {
		fprintf(stderr, "cannot create the test loader\n");
		exit(1);
	}
	l->host_fd = -1;
	l->cons.in_fd = -1;
	l->cons.out_fd = -1;
	return l;
}

void test_loader_free(struct loader *l)
{
	env_free(l);
	gmem_fini(&l->gmem);
	free(l);
}

/* Only the tests' single thread touches these between begin and end. */
static int saved_stderr = -1;
static FILE *capture;
static char captured[4096];

void test_stderr_begin(void)
{
	fflush(stderr);
	capture = tmpfile();
	saved_stderr = dup(2);
	if (!capture || saved_stderr < 0 || dup2(fileno(capture), 2) < 0)
		abort();
}

const char *test_stderr_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	rewind(capture);
	n = fread(captured, 1, sizeof(captured) - 1, capture);
	captured[n] = '\0';
	fclose(capture);
	return captured;
}
