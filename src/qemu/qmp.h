/* qmp.h: a bounded QMP (QEMU Machine Protocol) client: line framing, a depth-limited JSON reader, command writing. */
#ifndef KVMLOAD_QMP_H
#define KVMLOAD_QMP_H

#include <stddef.h>

/*
 * The peer (QEMU) is semi-trusted: everything it sends is parsed with bounds
 * checks, nesting deeper than QMP_DEPTH_MAX is refused, and every malformed or
 * over-long message is -EPROTO.  Nothing here exits or prints.
 */
#define QMP_LINE_MAX (256 * 1024) /* longest message accepted, without its "\r\n" */
#define QMP_DEPTH_MAX 32          /* deepest nesting accepted; the top-level object is depth 1 */
#define QMP_WRITE_MS 2000         /* longest a command may take to write: a peer that stops reading */

enum qmp_kind { QMP_GREETING, QMP_RETURN, QMP_ERROR, QMP_EVENT };

/*
 * One parsed message.  A message is a JSON object with exactly one of the
 * members "QMP" (greeting), "return", "error" or "event"; other members are
 * skipped, except those below.  String fields are truncated bytewise to fit and
 * are always NUL-terminated; a member of an unexpected type leaves its field at
 * the default.
 */
struct qmp_msg {
	enum qmp_kind kind;
	char event[64];   /* QMP_EVENT: the event name ("event" must be a string) */
	char reason[64];  /* data.reason (SHUTDOWN/RESET), "" when absent */
	int guest;        /* data.guest: 1 true, 0 false, -1 absent */
	char id[32];      /* the "id" member QEMU echoes in a return/error, "" when absent or not a string */
	char status[64];  /* QMP_RETURN whose value is an object with a "status" string (query-status), else "" */
	const char *text; /* QMP_RETURN whose value is a string (human-monitor-command): unescaped,
			     NUL-terminated, valid until the next qmp_* call on the same struct qmp
			     (inside a qmp_read callback: until the callback returns); NULL otherwise */
	size_t text_len;  /* bytes in text, not counting the NUL */
	char error[256];  /* QMP_ERROR: error.desc ("error" must be an object) */
};

/* Client state; all fields are private to qmp.c. */
struct qmp {
	int fd;          /* the monitor socket, not owned */
	char *buf;       /* received bytes not yet ending in a newline */
	size_t len, cap; /* len == cap once the stream is out of sync (sticky -EPROTO) */
	char *text;      /* where a string return value is unescaped */
	size_t text_cap;
};

/*
 * Set up a client on the connected stream socket fd (not owned: qmp_fini does
 * not close it).  Allocates the receive and text buffers (about 2 * QMP_LINE_MAX).
 * Returns 0 or -ENOMEM.
 */
int qmp_init(struct qmp *q, int fd);

/* Free the buffers; q may then be initialised again.  Safe to call twice. */
void qmp_fini(struct qmp *q);

/*
 * Parse one complete message from line[0..len) (no newline; a NUL byte is
 * data and so is rejected), q being set up by qmp_init.  Strings accept every
 * JSON escape; \uXXXX is decoded to UTF-8, and \u0000 and unpaired surrogates
 * are rejected.  Bytes of 0x80 and above are copied as they are (not checked
 * to be UTF-8).  A string "return" value goes to q's text buffer (see
 * qmp_msg.text).  Returns 0, or -EPROTO for malformed JSON, nesting beyond
 * QMP_DEPTH_MAX, len > QMP_LINE_MAX, not exactly one of QMP/return/error/event,
 * or anything but whitespace after the object; *m is then unspecified except
 * that m->text is NULL.
 */
int qmp_parse(struct qmp *q, const char *line, size_t len, struct qmp_msg *m);

/*
 * Do one read(2) on the socket (whether it blocks is the caller's choice: make
 * fd non-blocking and poll it), then parse every complete line, "\r\n" or "\n"
 * terminated, calling fn(arg, m) for each in order; empty lines are skipped.
 * fn may call qmp_execute but not qmp_read, qmp_parse or qmp_fini.
 * Returns the number of messages handled (0 when the read gave EAGAIN or EINTR
 * or no line completed), -EPIPE at end of file, -EPROTO on a bad message or a
 * line longer than QMP_LINE_MAX (messages before it on the same read have been
 * handled; -EPROTO is then returned by every later call), or -errno of read.
 */
int qmp_read(struct qmp *q, void (*fn)(void *arg, const struct qmp_msg *m), void *arg);

/*
 * Send {"execute":"NAME"[,"arguments":ARGS_JSON][,"id":"ID"]}\n.  name and id
 * are quoted as qmp_quote does; args_json (may be NULL) is inserted verbatim,
 * so the caller must build it as one valid JSON object (qmp_quote helps).
 * id may be NULL.  Writes everything, retrying on EINTR and partial writes and
 * waiting in poll(2) for room, but for at most QMP_WRITE_MS in all: a socket
 * is written without blocking whatever its flags (another fd must be
 * non-blocking for the limit to hold).  A closed peer gives -EPIPE, not
 * SIGPIPE.  Returns 0, -ENOMEM, -EOVERFLOW (a command of INT_MAX bytes or
 * more), -ETIMEDOUT (the peer took too little of it in QMP_WRITE_MS: the
 * stream may now end inside a command, so the caller should send nothing
 * more), or -errno of send/write/poll.
 */
int qmp_execute(struct qmp *q, const char *name, const char *args_json, const char *id);

/*
 * qmp_execute, with the descriptor fd passed along (SCM_RIGHTS, on the
 * command's first bytes), as QMP's add-fd takes it.  QEMU keeps only the
 * last descriptor it received: send the next one only after this command's
 * answer.  Not on a socket: -ENOTSOCK.
 */
int qmp_execute_fd(struct qmp *q, const char *name, const char *args_json, const char *id, int fd);

/*
 * Write s as a JSON string literal into buf[0..len): quotes included, " and \
 * escaped, \b \f \n \r \t in their short form, other bytes below 0x20 as
 * \u00XX, everything else copied.  Returns 0, or -ENOSPC when the literal and
 * its NUL do not fit (buf is then "" when len > 0).
 */
int qmp_quote(char *buf, size_t len, const char *s);

#endif
