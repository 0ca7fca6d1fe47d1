/* log.c: diagnostics to stderr with the program's name as prefix. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

/* Set once at start-up, before any thread or signal handler exists. */
static const char *log_prog = "kvmload";
static int log_verbose;

void log_init(const char *progname, int verbose)
{
	log_prog = progname;
	log_verbose = verbose;
}

static void log_emit(const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (suffix)
		fprintf(stderr, "%s: %s: %s\n", log_prog, msg, suffix);
	else
		fprintf(stderr, "%s: %s\n", log_prog, msg);
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(fmt, ap, NULL);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(fmt, ap, NULL);
	va_end(ap);
}

const char *log_esc(const char *s)
{
	static char slots[LOG_ESC_SLOTS][LOG_ESC_MAX];
	static unsigned next;
	char *out = slots[next++ % LOG_ESC_SLOTS];
	size_t at = 0;

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		/* Room for the longest form, \xNN, and "..." with its NUL after it. */
		if (at + 4 + 4 > LOG_ESC_MAX) {
			memcpy(out + at, "...", 3);
			at += 3;
			break;
		}
		if (c == '\\') {
			out[at++] = '\\';
			out[at++] = '\\';
		} else if (c >= 0x20 && c < 0x7f) {
			out[at++] = (char)c;
		} else {
			at += (size_t)snprintf(out + at, 5, "\\x%02x", c);
		}
	}
	out[at] = '\0';
	return out;
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_emit(fmt, ap, NULL);
	va_end(ap);
}
