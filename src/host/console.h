/* console.h: the host side of the guest console (stdio or a tty from -c), raw mode and restore. */
#ifndef KVMLOAD_CONSOLE_H
#define KVMLOAD_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

struct console {
	int in_fd;
	int out_fd;
	int tty_fd;       /* whose termios raw mode changed (in_fd until console_serve) */
	bool own_fds;     /* opened from -c, closed at console_close */
	bool raw;         /* termios changed; restore on exit */
	bool stopped;     /* raw mode taken back for a stop (^Z); console_resume puts it back */
	bool eof;         /* input reached end of file */
	int pending;      /* a byte console_poll read ahead, or -1 */
	int out_err;      /* errno of the write that lost the output (EPIPE, EBADF, EIO ...); 0 while it works */
	struct termios saved;
	struct termios raw_mode; /* what console_open set, for console_resume */
};

/*
 * "stdio" (or NULL) uses fds 0/1; anything else must be a terminal (-ENOTTY if it is not).
 * Returns 0 or -errno.
 * Also ignores SIGPIPE for the process, so an output whose reader went away ends the run
 * through out_err (message, terminal restored, documented status) instead of killing it,
 * and holds closed fds 0-2 with /dev/null (stdio then starts at EOF / with out_err EBADF).
 */
int console_open(struct console *c, const char *dev);
/* Restore the terminal (idempotent; also called from signal handlers and atexit). */
void console_restore(struct console *c);
/*
 * Job control, async-signal-safe: console_suspend gives the terminal its
 * settings back before the process stops (SIGTSTP, SIGTTIN, SIGTTOU);
 * console_resume makes it raw again once continued, if the process is in
 * the terminal's foreground then (else at the next continue).  Both do
 * nothing after console_restore.
 */
void console_suspend(struct console *c);
void console_resume(struct console *c);
void console_close(struct console *c);

/*
 * --console-socket: from now on the console is fd, the guest's side of a
 * console server (include/consrv.h) that serves the terminal or stdio it had
 * so far beside the socket.  Raw mode stays with the terminal.
 */
void console_serve(struct console *c, int fd);

/* Blocking read of one byte; -1 at end of input (c->eof is then set). */
int console_getc(struct console *c);
/* 1 when a byte can be read now without blocking, else 0 (0 forever after EOF). */
int console_poll(struct console *c);
/* Write one byte; after a write fails for good, out_err is set and nothing more is written. */
void console_putc(struct console *c, int ch);
/* Write n bytes (a whole buffer of guest output), with console_putc's rules for failures. */
void console_write(struct console *c, const void *buf, size_t n);

#endif
