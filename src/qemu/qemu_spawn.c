/* qemu_spawn.c: starting QEMU as kvmload's confined child: its files, descriptors, sockets and pipes, the child's set-up before exec. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "argv.h"
#include "log.h"
#include "qemu_proc.h"
#include "spawn.h"

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

/* What the child said, on QEMU's standard error (err_w) as if QEMU had: kvmload reads it as QEMU's. */
static void qemu_spawn_failed(const struct spawn_proc *p, int r, const char *prog, int err_w)
{
	/* qemu_confine_spawned said its own (SPAWN_IN_CHILD); a parent gone (SPAWN_PREPARE) has no one to tell. */
	if (p->failed == SPAWN_PLACE)
		dprintf(err_w, "kvmload: placing QEMU's descriptors: %s\n", strerror(-r));
	else if (p->failed == SPAWN_EXEC)
		dprintf(err_w, "kvmload: %s: %s\n", log_esc(prog), strerror(-r));
}

/*
 * Start QEMU with fds (at 3 on) and err_w (its stderr), its own process
 * group, SIGKILL when kvmload dies, confined; s->proc set with
 * every signal held as soon as the child exists (qemu_spawn_started), so a
 * handler that kills QEMU (qemu_kill, on the published struct qemu) never
 * misses it.  A child that failed before its
 * exec has ended 127 with its reason on err_w, as a QEMU that failed at
 * once: 0.  0 or -errno.
 */
/* spawn_child's started: with every signal held, so a handler finds QEMU from the moment it exists. */
static void qemu_spawn_started(const struct spawn_proc *p, void *arg)
{
	struct qemu *s = arg;

	s->proc = *p;
}

static int qemu_spawn_fork(struct qemu *s, char **argv, const int *fds, int err_w)
{
	struct qemu_confined c = { .conf = &s->conf, .log_fd = fds[QEMU_FD_LOG - 3], .err_w = err_w };
	int want[3 + QEMU_NFDS] = { SPAWN_FD_NULL, SPAWN_FD_NULL, err_w };
	sigset_t mask;
	struct spawn_spec spec = { .argv = argv, .search = true, .fds = want, .nfds = 3 + QEMU_NFDS,
				   .deathsig = SIGKILL, .own_pgrp = true, .mask = &mask,
				   .in_child = qemu_confine_spawned, .arg = &c,
				   .started = qemu_spawn_started, .started_arg = s };
	struct spawn_proc p;
	int r;

	/* A number with nothing to carry (no log under KVM) is closed, never inherited by accident. */
	memcpy(want + 3, fds, QEMU_NFDS * sizeof(*fds));
	sigprocmask(SIG_SETMASK, NULL, &mask);
	/* Signals stay open while QEMU's confinement and exec are waited for: ^C still ends kvmload. */
	r = spawn_child(&spec, &p);
	if (r < 0 && p.pid > 0) {
		qemu_spawn_failed(&p, r, argv[0], err_w);
		r = 0;
	}
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
