/* consrv.h: the one owner of a guest's console socket: the server process (scrollback, readers, one writer, the capped log), its protocol and its owner's handle. */
#ifndef KVMLOAD_CONSRV_H
#define KVMLOAD_CONSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The protocol on the console socket (SOCK_STREAM, mode 0600: its owner's).
 * A client sends one line, CONSRV_HELLO and its role:
 *   "kvmload-console 1 read\n"         watch
 *   "kvmload-console 1 write\n"        watch and type (one writer at a time)
 *   "kvmload-console 1 write force\n"  take the input from the writer there is
 * and the server answers one line: "ok read\n", "ok write\n", or
 * "busy PID UID\n" (the writer who holds the input; the connection then
 * ends) or "error TEXT\n".  After "ok" the server sends the scrollback (up to
 * CONSRV_RING bytes, as the guest printed them) and then the guest's output
 * as it comes; a writer's bytes go to the guest.  A writer whose input was
 * taken stays on as a reader and is told so in its stream.  A client that
 * falls CONSRV_RING bytes behind loses the oldest; the guest never waits for
 * a client.
 */
#define CONSRV_HELLO "kvmload-console 1"
#define CONSRV_LINE_MAX 64         /* a hello or an answer, newline included */
#define CONSRV_RING (256 * 1024)   /* scrollback replayed to whoever attaches */
#define CONSRV_CLIENTS 16          /* readers and writer together */
#define CONSRV_LOG_MAX (1024 * 1024) /* console.log, then renamed to console.log.1 */
#define CONSRV_LOG_OLD ".1"        /* the suffix of the one older log kept */
#define CONSRV_TAIL_MAX 8192       /* what consrv_tail can ask for */

/* What the server serves; the caller keeps its own copies of the descriptors. */
struct consrv_spec {
	const char *sock;      /* the socket's path: made (0600) by consrv_start, removed by the caller */
	int log_dir;           /* the log's directory, -1: no log */
	const char *log_name;  /* the log's name in it ("console.log") */
	int local_in;          /* the owner's terminal or stdin, -1: none; it may always type */
	int local_out;         /* the owner's terminal or stdout, -1: none */
	bool local_raw;        /* local_in is a terminal the server opened for itself: raw while it serves */
	int guest;             /* the guest's side for the server's whole life; -1: given by consrv_guest */
	const char *vm;        /* for messages */
};

/* The owner's handle. */
struct consrv {
	pid_t pid;  /* the server process, -1 when there is none */
	int ctl;    /* the owner's end of the control socket */
	bool lost;  /* an answer went missing: the control socket is out of step */
};

void consrv_init(struct consrv *s);

/*
 * Bind spec->sock and fork the server ("kvmload-console"): no capability,
 * no_new_privs, only its descriptors open.  It ends when the owner closes
 * its control socket (consrv_stop, or the owner's death), after passing on
 * what the guest had written.  0, or -errno with a message in err.
 */
int consrv_start(struct consrv *s, const struct consrv_spec *spec, char *err, size_t errlen);

/* The next guest's side (the one before is let go at its end of file). 0 or -errno. */
int consrv_guest(struct consrv *s, int fd);

/*
 * The last bytes the guest printed, up to len (<= CONSRV_TAIL_MAX), once the
 * server has read everything the guest side holds (a guest that has ended
 * is seen whole).  Returns the count or -errno; after a failure (-ETIMEDOUT:
 * no answer within 2 s) every later call is -EPIPE.
 */
ssize_t consrv_tail(struct consrv *s, char *buf, size_t len);

/* Close the control socket and reap the server (SIGKILL after 2 s). Idempotent. */
void consrv_stop(struct consrv *s);

/* The server's loop, in the child consrv_start made. Returns its exit status. */
int consrv_serve(const struct consrv_spec *spec, int listen_fd, int ctl);

#endif
