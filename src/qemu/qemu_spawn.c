/* qemu_spawn.c: starting QEMU as kvmload's confined child: its files, descriptors, sockets and pipes, the child's set-up before exec. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "argv.h"
#include "confine.h"
#include "log.h"
#include "qemu_proc.h"
#include "spawn.h"

/*
 * The child: its own process group (a terminal's ^C is kvmload's to
 * handle), death with kvmload, confined (qemu_confine_enter: as root, its
 * own namespaces and user), its descriptors at the numbers the argv names,
 * nothing else open.  Only async-signal-safe calls before exec.
 */
static _Noreturn void qemu_child(char **argv, const int *fds, int nfds, int err_w, const sigset_t *mask,
				 pid_t parent, const struct qemu_confine *c)
{
	int devnull, want[3 + QEMU_NFDS];

	/* kvmload's handlers (they take its view down) must not run here, nor be inherited. */
	spawn_default_signals();
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		_exit(127);
	/* QEMU opens its log again through /proc/self/fd (-D takes a path): the pipe must be its user's. */
	if (c->user.drop && fds[QEMU_FD_LOG - 3] >= 0 &&
	    fchown(fds[QEMU_FD_LOG - 3], c->user.uid, c->user.gid) < 0) {
		dprintf(err_w, "kvmload: confining QEMU: %s\n", strerror(errno));
		_exit(127);
	}
	if (qemu_confine_child(c, parent, err_w) < 0)
		_exit(127);
	/* A number with nothing to carry (no log under KVM) is closed, never inherited by accident. */
	want[0] = want[1] = devnull;
	want[2] = err_w;
	for (int i = 0; i < nfds; i++)
		want[3 + i] = fds[i];
	if (spawn_place(want, 3 + nfds) < 0) {
		dprintf(err_w, "kvmload: placing QEMU's descriptors: %s\n", strerror(errno));
		_exit(127);
	}
	sigprocmask(SIG_SETMASK, mask, NULL);
	execvp(argv[0], argv);
	dprintf(2, "kvmload: %s: %s\n", log_esc(argv[0]), strerror(errno));
	_exit(127);
}

/* The files QEMU gets instead of their paths: firmware, stub, and the tap it may not attach to itself. */
static int qemu_open_files(const struct qemu_spec *spec, int files[3])
{
	const char *tap = spec->net && !strncmp(spec->net, "tap:", 4) ? spec->net + 4 : NULL;

	files[0] = open(spec->firmware, O_RDONLY | O_CLOEXEC);
	if (files[0] < 0) {
		log_warn("%s", log_esc(spec->firmware));
		return -errno;
	}
	files[1] = open(spec->stub, O_RDONLY | O_CLOEXEC);
	if (files[1] < 0) {
		log_warn("%s", log_esc(spec->stub));
		return -errno;
	}
	files[2] = tap ? qemu_tap_open(tap) : -1;
	if (files[2] < 0 && tap) {
		log_warnx("--net %s: attaching to the tap: %s", log_esc(spec->net),
			  files[2] == -ENODEV ? "no such tap" : strerror(-files[2]));
		return files[2];
	}
	return 0;
}

/*
 * Fork QEMU with fds (at 3 on) and err_w (its stderr); s->pid and s->pidfd
 * set with every signal held, so a handler that kills QEMU (qemu_kill, on
 * the published struct qemu) never misses it.  0 or -errno.
 */
static int qemu_spawn_fork(struct qemu *s, char **argv, const int *fds, int err_w)
{
	sigset_t all, old;
	pid_t self = getpid();
	int r = 0;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	s->pid = fork();
	if (s->pid == 0)
		qemu_child(argv, fds, QEMU_NFDS, err_w, &old, self, &s->conf);
	if (s->pid < 0)
		r = -errno;
	/* While the signals are held, nobody has reaped QEMU: the pidfd is surely its. */
	if (s->pid > 0 && (s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0)) < 0) {
		r = -errno;
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = -1;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

int qemu_spawn(struct qemu *s, int memfd, struct handoff_stub *stub)
{
	int qmp[2] = { -1, -1 }, serial[2] = { -1, -1 }, err[2] = { -1, -1 }, logp[2] = { -1, -1 };
	int files[3] = { -1, -1, -1 }, fds[QEMU_NFDS];
	struct argv argv;
	char msg[512];
	int r = qemu_argv(s->spec, &argv);

	if (r < 0)
		return r;
	r = qemu_confine_plan(s->spec, &s->conf, msg, sizeof(msg));
	if (r < 0)
		log_warnx("%s", msg);
	if (r == 0)
		r = qemu_open_files(s->spec, files);
	/* The stub kvmload puts back is the file QEMU gets. */
	if (r == 0 && (r = handoff_stub_read(stub, files[1], msg, sizeof(msg))) < 0)
		log_warnx("%s: %s", log_esc(s->spec->stub), msg);
	if (r == 0 && (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qmp) < 0 ||
		       socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, serial) < 0 ||
		       pipe2(err, O_CLOEXEC) < 0 ||
		       (s->spec->accel == QEMU_ACCEL_TCG && pipe2(logp, O_CLOEXEC) < 0)))
		r = -errno;
	if (r == 0) {
		fds[0] = memfd;
		fds[1] = qmp[1];
		fds[2] = serial[1];
		fds[3] = logp[1];
		memcpy(fds + QEMU_FD_BIOS - 3, files, sizeof(files));
		if (s->spec->verbose) {
			for (int i = 0; i < argv.n; i++)
				fprintf(stderr, "%s%s", i ? " " : "kvmload: starting ", log_esc(argv.v[i]));
			fputc('\n', stderr);
		}
		r = qemu_spawn_fork(s, argv.v, fds, err[1]);
	}
	argv_free(&argv);
	for (int i = 0; i < 3; i++)
		if (files[i] >= 0)
			close(files[i]);
	for (int i = 0; i < 2; i++) {
		int *o[] = { &qmp[i], &serial[i], &err[i], &logp[i] };

		/* Our ends stay ours; QEMU's ends, and ours too when it did not start, close. */
		for (size_t k = 0; k < sizeof(o) / sizeof(o[0]); k++)
			if (*o[k] >= 0 && (i == 1 || r < 0))
				close(*o[k]);
	}
	if (r < 0)
		return r;
	s->qmp_fd = qmp[0];
	s->serial_fd = serial[0];
	s->err_fd = err[0];
	s->log_fd = logp[0];
	fcntl(s->qmp_fd, F_SETFL, O_NONBLOCK);
	fcntl(s->serial_fd, F_SETFL, O_NONBLOCK);
	fcntl(s->err_fd, F_SETFL, O_NONBLOCK);
	if (s->log_fd >= 0)
		fcntl(s->log_fd, F_SETFL, O_NONBLOCK);
	return qmp_init(&s->qmp, s->qmp_fd);
}
