/* attach.c: `kvmload-hotplug console VM`: a terminal on a running guest's console socket (include/consrv.h), ~. to detach as in cu(1). */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include "attach.h"
#include "consrv.h"
#include "log.h"
#include "rundir.h"
#include "vmopt.h"

#define ATTACH_ANSWER_MS 5000

static struct termios attach_saved, attach_rawmode;
static volatile sig_atomic_t attach_raw;

static void attach_restore(void)
{
	if (attach_raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &attach_saved);
	attach_raw = 0;
}

static void attach_on_signal(int sig)
{
	attach_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Stopped by a signal from elsewhere (^Z is the guest's): the shell gets its terminal back, raw again after. */
static void attach_on_stop(int sig)
{
	int e = errno, was = attach_raw;
	sigset_t one;

	attach_restore();
	signal(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	raise(sig);
	signal(sig, attach_on_stop);
	if (was && tcsetattr(STDIN_FILENO, TCSAFLUSH, &attach_rawmode) == 0)
		attach_raw = 1;
	errno = e;
}

/* A terminal passes every key on, ^C and ^Z included: they are the guest's. */
static void attach_make_raw(void)
{
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &attach_saved) < 0)
		return;
	/* The handlers first: no signal may leave the terminal raw. */
	signal(SIGTERM, attach_on_signal);
	signal(SIGHUP, attach_on_signal);
	signal(SIGINT, attach_on_signal);
	signal(SIGTSTP, attach_on_stop);
	atexit(attach_restore);
	attach_rawmode = attach_saved;
	cfmakeraw(&attach_rawmode);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &attach_rawmode) == 0)
		attach_raw = 1;
}

static int attach_connect(const char *path, const char *vm)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		errx(EX_USAGE, "%s: path too long", log_esc(path));
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err(EX_OSERR, "socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	if (errno == ENOENT || errno == ECONNREFUSED)
		errx(EX_UNAVAILABLE, "vm %s: no console at %s (the VM is not running, or kvmload runs "
				     "it without --console-socket)", log_esc(vm), log_esc(path));
	errx(errno == EACCES || errno == EPERM ? EX_NOPERM : EX_OSERR, "vm %s: %s: %s", log_esc(vm),
	     log_esc(path), strerror(errno));
}

/* The server's one-line answer to our hello. */
static void attach_answer(int fd, const char *vm, char *line, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, ATTACH_ANSWER_MS) == 0)
			errx(EX_UNAVAILABLE, "vm %s: its console server does not answer", log_esc(vm));
		r = read(fd, line + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			errx(EX_UNAVAILABLE, "vm %s: its console server closed the connection", log_esc(vm));
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
}

static void attach_busy(const char *vm, const char *line)
{
	long pid = 0, uid = -1;
	struct passwd *pw;

	sscanf(line, "busy %ld %ld", &pid, &uid);
	pw = uid >= 0 ? getpwuid((uid_t)uid) : NULL;
	errx(EX_TEMPFAIL, "vm %s: its console input is held by pid %ld (%s); --read-only watches, "
			  "--force takes the input", log_esc(vm), pid, pw ? log_esc(pw->pw_name) : "unknown user");
}

static void attach_put(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			exit(errno == EPIPE ? 0 : EX_IOERR);
		p += w;
		n -= (size_t)w;
	}
}

/*
 * Keys to the guest (a->out, sent as the socket takes them), but for cu's
 * escapes at the start of a line: "~." detaches, "~~" sends one "~".  Keys
 * beyond what a->out holds are dropped (the guest is not reading them), so
 * the terminal is always read and "~." always seen.  Returns false on "~.".
 */
static bool attach_keys(struct attach *a, const unsigned char *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = in[i];

		if (a->tilde) {
			a->tilde = false;
			if (c == '.')
				return false;
			if (c != '~' && a->write && a->nout < sizeof(a->out))
				a->out[a->nout++] = '~';
		} else if (a->line_start && c == '~') {
			a->tilde = true;
			continue;
		}
		if (a->write && a->nout < sizeof(a->out))
			a->out[a->nout++] = c;
		a->line_start = c == '\r' || c == '\n';
	}
	return true;
}

/* What the socket takes of a->out now. */
static void attach_send(struct attach *a, int sock)
{
	ssize_t n = send(sock, a->out, a->nout, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n > 0) {
		memmove(a->out, a->out + n, a->nout - (size_t)n);
		a->nout -= (size_t)n;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		a->nout = 0; /* the server went: its end of file follows */
	}
}

int attach_run(const char *run_dir, const char *vm, bool write, bool force)
{
	struct attach a = { .write = write, .line_start = true };
	char path[4096], line[CONSRV_LINE_MAX + 1];
	unsigned char buf[4096];
	bool in_open = true;
	int sock;

	if (!vmopt_name_valid(vm))
		errx(EX_USAGE, "%s: not a VM name", log_esc(vm));
	if (rundir_path(path, sizeof(path), run_dir, vm, RUNDIR_CONSOLE) < 0)
		errx(EX_USAGE, "%s/%s: path too long", log_esc(run_dir), log_esc(vm));
	signal(SIGPIPE, SIG_IGN);
	sock = attach_connect(path, vm);
	snprintf(line, sizeof(line), "%s %s\n", CONSRV_HELLO, !write ? "read" : force ? "write force" : "write");
	attach_put(sock, line, strlen(line));
	attach_answer(sock, vm, line, sizeof(line));
	if (strncmp(line, "busy ", 5) == 0)
		attach_busy(vm, line);
	if (strncmp(line, "ok ", 3) != 0)
		errx(EX_UNAVAILABLE, "vm %s: the console server says: %s", log_esc(vm), log_esc(line));
	fprintf(stderr, "[kvmload-hotplug: attached to vm %s's console%s; ~. detaches]\r\n", vm,
		write ? "" : ", read-only");
	attach_make_raw();
	while (!a.detached && !a.closed) {
		struct pollfd p[2] = { { .fd = sock, .events = POLLIN | (a.nout ? POLLOUT : 0) },
				       { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			err(EX_OSERR, "poll");
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(sock, buf, sizeof(buf));
			if (n > 0)
				attach_put(STDOUT_FILENO, buf, (size_t)n);
			a.closed = n == 0 || (n < 0 && errno != EINTR);
		}
		if (p[1].revents && !a.closed) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			/* An input that ends (not a terminal) leaves a watcher: the console goes on. */
			if (n > 0)
				a.detached = !attach_keys(&a, buf, (size_t)n);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN))
				in_open = false;
		}
		/* The keys typed before a "~." go too, as far as the socket takes them now. */
		if (a.nout && !a.closed)
			attach_send(&a, sock);
	}
	attach_restore();
	if (a.detached)
		fprintf(stderr, "\r\n[kvmload-hotplug: detached from vm %s's console]\r\n", vm);
	else
		fprintf(stderr, "\r\n[kvmload-hotplug: vm %s's console closed]\r\n", vm);
	return 0;
}
