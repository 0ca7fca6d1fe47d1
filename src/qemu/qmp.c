/* qmp.c: the QMP client: line framing on the monitor socket, a bounded JSON reader over (ptr, len), command writing. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "monotime.h"
#include "qmp.h"

/* The JSON reader's cursor: never read at or past end. */
struct qmp_rd {
	const char *p, *end;
};

/* Where a decoded string goes: at most cap - 1 bytes are kept (cap 0 keeps none). */
struct qmp_out {
	char *buf;
	size_t cap, len;
};

/* Called at each object member with the cursor on its value, which it must consume. */
typedef int (*qmp_member_fn)(struct qmp_rd *r, int depth, const char *key, void *ctx);

struct qmp_ctx {
	struct qmp *q;
	struct qmp_msg *m;
	int kinds; /* how many of QMP/return/error/event were seen */
};

/* JSON's two-character escapes: backslash and qmp_esc_name[i] stand for qmp_esc_byte[i]. */
static const char qmp_esc_name[] = "\"\\bfnrt/", qmp_esc_byte[] = "\"\\\b\f\n\r\t/";

static int qmp_value(struct qmp_rd *r, int depth);

/* The next byte after JSON whitespace, or -1 at the end. */
static int qmp_peek(struct qmp_rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r' || *r->p == '\n'))
		r->p++;
	return r->p < r->end ? (unsigned char)*r->p : -1;
}

static int qmp_eat(struct qmp_rd *r, char c)
{
	if (qmp_peek(r) != (unsigned char)c)
		return -EPROTO;
	r->p++;
	return 0;
}

static void qmp_put(struct qmp_out *o, unsigned c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len++] = (char)c;
}

static int qmp_hex4(struct qmp_rd *r, unsigned *v)
{
	if (r->end - r->p < 4)
		return -EPROTO;
	*v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = (unsigned char)*r->p++, lc = c | 0x20;

		if (c >= '0' && c <= '9')
			*v = *v << 4 | (c - '0');
		else if (lc >= 'a' && lc <= 'f')
			*v = *v << 4 | (lc - 'a' + 10);
		else
			return -EPROTO;
	}
	return 0;
}

/* The rest of a \u escape (after the u): a BMP code point or a surrogate pair, as UTF-8. */
static int qmp_unicode(struct qmp_rd *r, struct qmp_out *o)
{
	unsigned u, lo, n;

	if (qmp_hex4(r, &u) || u == 0 || (u >= 0xdc00 && u <= 0xdfff))
		return -EPROTO; /* \u0000 would cut a C string; a low surrogate must follow a high one */
	if (u >= 0xd800 && u <= 0xdbff) {
		if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
			return -EPROTO;
		r->p += 2;
		if (qmp_hex4(r, &lo) || lo < 0xdc00 || lo > 0xdfff)
			return -EPROTO;
		u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
	}
	n = u < 0x80 ? 0 : u < 0x800 ? 1 : u < 0x10000 ? 2 : 3; /* UTF-8 continuation bytes */
	qmp_put(o, n ? (0xff80u >> n & 0xff) | u >> 6 * n : u);
	while (n--)
		qmp_put(o, 0x80 | (u >> 6 * n & 0x3f));
	return 0;
}

/* A string literal, unescaped into o (NULL: only checked and skipped). */
static int qmp_string(struct qmp_rd *r, struct qmp_out *o)
{
	struct qmp_out none = { NULL, 0, 0 };
	const char *e;

	if (!o)
		o = &none;
	if (qmp_eat(r, '"'))
		return -EPROTO;
	for (;;) {
		unsigned c;

		if (r->p >= r->end)
			return -EPROTO;
		c = (unsigned char)*r->p++;
		if (c == '"')
			break;
		if (c < 0x20) /* raw control bytes, NUL included, are not JSON */
			return -EPROTO;
		if (c != '\\') {
			qmp_put(o, c);
			continue;
		}
		if (r->p >= r->end)
			return -EPROTO;
		c = (unsigned char)*r->p++;
		if (c == 'u') {
			if (qmp_unicode(r, o))
				return -EPROTO;
		} else if (c && (e = strchr(qmp_esc_name, (int)c))) {
			qmp_put(o, (unsigned char)qmp_esc_byte[e - qmp_esc_name]);
		} else {
			return -EPROTO;
		}
	}
	if (o->cap)
		o->buf[o->len] = '\0';
	return 0;
}

static int qmp_digits(struct qmp_rd *r)
{
	const char *start = r->p;

	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > start ? 0 : -EPROTO;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, checked and skipped. */
static int qmp_number(struct qmp_rd *r)
{
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (qmp_digits(r))
		return -EPROTO;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (qmp_digits(r))
			return -EPROTO;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (qmp_digits(r))
			return -EPROTO;
	}
	return 0;
}

static int qmp_lit(struct qmp_rd *r, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n))
		return -EPROTO;
	r->p += n;
	return 0;
}

/* An object or array at depth; fn (NULL: skip them) sees the value of each object member. */
static int qmp_nest(struct qmp_rd *r, int depth, qmp_member_fn fn, void *ctx)
{
	int opener = qmp_peek(r), closer = opener == '{' ? '}' : ']';
	char key[32];

	if (depth > QMP_DEPTH_MAX || (opener != '{' && opener != '['))
		return -EPROTO;
	r->p++;
	if (qmp_peek(r) == closer)
		return qmp_eat(r, (char)closer);
	for (;;) {
		struct qmp_out k = { key, sizeof(key), 0 };
		int c;

		if (opener == '{' && (qmp_string(r, &k) || qmp_eat(r, ':')))
			return -EPROTO;
		if ((opener == '{' && fn) ? fn(r, depth, key, ctx) : qmp_value(r, depth + 1))
			return -EPROTO;
		c = qmp_peek(r);
		if (c != ',' && c != closer)
			return -EPROTO;
		r->p++;
		if (c == closer)
			return 0;
	}
}

/* An object (anything else is -EPROTO); fn as for qmp_nest. */
static int qmp_object(struct qmp_rd *r, int depth, qmp_member_fn fn, void *ctx)
{
	return qmp_peek(r) == '{' ? qmp_nest(r, depth, fn, ctx) : -EPROTO;
}

/* Any value at depth, checked and skipped. */
static int qmp_value(struct qmp_rd *r, int depth)
{
	switch (qmp_peek(r)) {
	case '{':
	case '[': return qmp_nest(r, depth, NULL, NULL);
	case '"': return qmp_string(r, NULL);
	case 't': return qmp_lit(r, "true");
	case 'f': return qmp_lit(r, "false");
	case 'n': return qmp_lit(r, "null");
	default: return qmp_number(r);
	}
}

/* A string value into buf[0..cap); a value of another type is skipped. */
static int qmp_str_field(struct qmp_rd *r, int depth, char *buf, size_t cap)
{
	struct qmp_out o = { buf, cap, 0 };

	if (qmp_peek(r) != '"')
		return qmp_value(r, depth);
	return qmp_string(r, &o);
}

static int qmp_data_member(struct qmp_rd *r, int depth, const char *key, void *ctx)
{
	struct qmp_msg *m = ctx;
	int c = qmp_peek(r);

	if (!strcmp(key, "reason"))
		return qmp_str_field(r, depth + 1, m->reason, sizeof(m->reason));
	if (!strcmp(key, "guest") && (c == 't' || c == 'f')) {
		m->guest = c == 't';
		return qmp_lit(r, c == 't' ? "true" : "false");
	}
	return qmp_value(r, depth + 1);
}

/* The one string member of an object that matters ("status" of a return, "desc" of an error). */
struct qmp_field {
	const char *key;
	char *buf;
	size_t cap;
};

static int qmp_field_member(struct qmp_rd *r, int depth, const char *key, void *ctx)
{
	const struct qmp_field *f = ctx;

	if (!strcmp(key, f->key))
		return qmp_str_field(r, depth + 1, f->buf, f->cap);
	return qmp_value(r, depth + 1);
}

static int qmp_top_member(struct qmp_rd *r, int depth, const char *key, void *ctx)
{
	static const char *const kinds[] = {
		[QMP_GREETING] = "QMP", [QMP_RETURN] = "return", [QMP_ERROR] = "error", [QMP_EVENT] = "event",
	};
	struct qmp_ctx *c = ctx;
	struct qmp_msg *m = c->m;
	struct qmp_field status = { "status", m->status, sizeof(m->status) };
	struct qmp_field desc = { "desc", m->error, sizeof(m->error) };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!strcmp(key, kinds[i])) {
			m->kind = (enum qmp_kind)i;
			c->kinds++;
		}
	}
	if (!strcmp(key, "QMP"))
		return qmp_object(r, depth + 1, NULL, NULL);
	if (!strcmp(key, "error"))
		return qmp_object(r, depth + 1, qmp_field_member, &desc);
	if (!strcmp(key, "data"))
		return qmp_object(r, depth + 1, qmp_data_member, m);
	if (!strcmp(key, "id"))
		return qmp_str_field(r, depth + 1, m->id, sizeof(m->id));
	if (!strcmp(key, "event")) {
		struct qmp_out o = { m->event, sizeof(m->event), 0 };

		return qmp_string(r, &o);
	}
	if (!strcmp(key, "return")) {
		struct qmp_out o = { c->q->text, c->q->text_cap, 0 };
		int ret;

		if (qmp_peek(r) == '{')
			return qmp_object(r, depth + 1, qmp_field_member, &status);
		if (qmp_peek(r) != '"')
			return qmp_value(r, depth + 1);
		/* Unescaping never lengthens, and text_cap > QMP_LINE_MAX: nothing is cut. */
		ret = qmp_string(r, &o);
		m->text = c->q->text;
		m->text_len = o.len;
		return ret;
	}
	return qmp_value(r, depth + 1);
}

int qmp_parse(struct qmp *q, const char *line, size_t len, struct qmp_msg *m)
{
	struct qmp_rd r = { line, line + len };
	struct qmp_ctx c = { q, m, 0 };

	memset(m, 0, sizeof(*m));
	m->guest = -1;
	if (len > QMP_LINE_MAX || qmp_object(&r, 1, qmp_top_member, &c) ||
	    c.kinds != 1 || qmp_peek(&r) != -1) {
		m->text = NULL;
		m->text_len = 0;
		return -EPROTO;
	}
	return 0;
}

int qmp_init(struct qmp *q, int fd)
{
	memset(q, 0, sizeof(*q));
	q->fd = fd;
	q->cap = QMP_LINE_MAX + 2; /* the longest line and its "\r\n" */
	q->text_cap = QMP_LINE_MAX + 1;
	q->buf = malloc(q->cap);
	q->text = malloc(q->text_cap);
	if (!q->buf || !q->text) {
		qmp_fini(q);
		return -ENOMEM;
	}
	return 0;
}

void qmp_fini(struct qmp *q)
{
	free(q->buf);
	free(q->text);
	q->buf = q->text = NULL;
	q->len = q->cap = q->text_cap = 0;
}

int qmp_read(struct qmp *q, void (*fn)(void *arg, const struct qmp_msg *m), void *arg)
{
	struct qmp_msg m;
	size_t start = 0, from = q->len; /* bytes before from hold no newline */
	ssize_t n;
	char *nl;
	int count = 0;

	if (q->len >= q->cap)
		return -EPROTO;
	n = read(q->fd, q->buf + q->len, q->cap - q->len);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -EPIPE;
	q->len += (size_t)n;
	while ((nl = memchr(q->buf + from, '\n', q->len - from))) {
		size_t llen = (size_t)(nl - (q->buf + start));

		if (llen && nl[-1] == '\r')
			llen--;
		if (llen && qmp_parse(q, q->buf + start, llen, &m)) {
			q->len = q->cap;
			return -EPROTO;
		}
		if (llen) {
			fn(arg, &m);
			count++;
		}
		start = from = (size_t)(nl - q->buf) + 1;
	}
	q->len -= start;
	memmove(q->buf, q->buf + start, q->len);
	/* What is left has no newline yet: at most a full line and its '\r'. */
	if (q->len > QMP_LINE_MAX && (q->len > QMP_LINE_MAX + 1 || q->buf[q->len - 1] != '\r')) {
		q->len = q->cap;
		return -EPROTO;
	}
	return count;
}

/*
 * All n bytes, or -ETIMEDOUT once QMP_WRITE_MS passed without their last one
 * taken; fd (>= 0) travels with the first bytes sent (SCM_RIGHTS).
 */
static int qmp_write_all(int fd, const char *p, size_t n, int pass)
{
	int64_t deadline = monotime_ms() + QMP_WRITE_MS, left;

	while (n) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		/* Never blocking in send, so the deadline holds; a closed peer: EPIPE, not SIGPIPE. */
		ssize_t w = fdpass_send(fd, p, n, pass, MSG_DONTWAIT);
		if (w < 0 && errno == ENOTSOCK && pass < 0)
			w = write(fd, p, n);
		if (w >= 0) {
			p += w;
			n -= (size_t)w;
			pass = -1;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		left = deadline - monotime_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

int qmp_execute_fd(struct qmp *q, const char *name, const char *args_json, const char *id, int fd)
{
	/* Quoting takes at most 6 bytes per byte (\u00XX), plus the quotes and the NUL. */
	size_t nq = 6 * strlen(name) + 3, iq = id ? 6 * strlen(id) + 3 : 1;
	size_t cap = 40 + nq + iq + (args_json ? strlen(args_json) : 0);
	char *buf = malloc(cap), *qname = malloc(nq + iq), *qid;
	int n, ret = -ENOMEM;

	if (!buf || !qname)
		goto out;
	qid = qname + nq;
	*qid = '\0';
	if (qmp_quote(qname, nq, name) == 0 && (!id || qmp_quote(qid, iq, id) == 0)) {
		n = snprintf(buf, cap, "{\"execute\":%s%s%s%s%s}\n", qname,
			     args_json ? ",\"arguments\":" : "", args_json ? args_json : "",
			     id ? ",\"id\":" : "", qid);
		ret = n < 0 || (size_t)n >= cap ? -EOVERFLOW : qmp_write_all(q->fd, buf, (size_t)n, fd);
	}
out:
	free(qname);
	free(buf);
	return ret;
}

int qmp_execute(struct qmp *q, const char *name, const char *args_json, const char *id)
{
	return qmp_execute_fd(q, name, args_json, id, -1);
}

int qmp_quote(char *buf, size_t len, const char *s)
{
	size_t n = 1;

	if (len < 3)
		goto nospc;
	buf[0] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *x = c != '/' ? strchr(qmp_esc_byte, c) : NULL;
		char e[7] = { (char)c };
		size_t k = 1;

		if (x) {
			e[0] = '\\';
			e[1] = qmp_esc_name[x - qmp_esc_byte];
			k = 2;
		} else if (c < 0x20) {
			snprintf(e, sizeof(e), "\\u%04x", c);
			k = 6;
		}
		if (k + 2 > len - n) /* room for this, the closing quote and the NUL */
			goto nospc;
		memcpy(buf + n, e, k);
		n += k;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return 0;
nospc:
	if (len)
		buf[0] = '\0';
	return -ENOSPC;
}
