/* qemu_run.c: QEMU as kvmload's supervised child: its descriptors, the COM1 relay, QMP events and polls, signals, and the exit status they make. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "confine.h"
#include "console.h"
#include "log.h"
#include "qemu.h"
#include "qmp.h"
#include "spawn.h"

#define QEMU_POLL_MS 250    /* how often the guest is asked whether every vCPU halted for good */
#define QEMU_QUIT_MS 5000   /* after "quit" or an end QEMU reported, before SIGKILL */
#define QEMU_PRESS_MS 2000  /* the power button again: a guest that had not armed it yet missed the last press */
#define QEMU_LINE 1024
#define RFLAGS_IF 0x200

enum qemu_end {
	END_NONE,
	END_HALTED,    /* every vCPU in HLT with interrupts off */
	END_STOPPED,   /* QEMU paused the VM: emulation failure, I/O error, ... */
	END_BLIND,     /* the console output went away */
};

struct qemu_sup {
	const struct qemu_spec *spec;
	struct console *cons;
	pid_t pid;
	int pidfd, qmp_fd, serial_fd, err_fd, log_fd, sig_fd;
	struct qemu_confine conf;
	struct qmp qmp;
	bool qmp_ready, cmd_pending, exited;
	bool qmp_gone;       /* the monitor closed, spoke nonsense or took no command: nothing more is asked */
	bool reported;       /* QEMU reported the guest's end (SHUTDOWN, GUEST_PANICKED): it exits by itself */
	bool want_powerdown; /* asked for before QMP was ready: sent once it is */
	int64_t next_press;  /* when the power button is pressed again; 0: not pressing */
	int wstatus;
	char reason[64];   /* SHUTDOWN's reason */
	bool panicked, triple;
	enum qemu_end end;
	char stop_status[64];
	int stop_sig;      /* the signal that asked for a power-down, 0 when none */
	int halted_polls;  /* polls in a row that found every vCPU halted */
	int poll_cpu;      /* the vCPU the running poll asked last */
	int64_t kill_at;   /* when QEMU gets SIGKILL; 0: not scheduled */
	int64_t next_poll;
	char err_line[QEMU_LINE], log_line[QEMU_LINE];
	size_t err_len, log_len;
	uint8_t to_guest[4096];
	size_t to_guest_len;
};

static int64_t qemu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The child: its own process group (a terminal's ^C is kvmload's to
 * handle), death with kvmload, confined (qemu_confine_enter: as root, its
 * own namespaces and user), its descriptors at the numbers the argv names,
 * nothing else open.  Only async-signal-safe calls before exec.
 */
static _Noreturn void qemu_child(char **argv, const int *fds, int nfds, int err_w, const sigset_t *mask,
				 pid_t parent, const struct qemu_confine *c)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC), want[3 + QEMU_MAX_FDS];

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

static int qemu_spawn(struct qemu_sup *s, int memfd, int handoff_fd, const sigset_t *oldmask)
{
	int qmp[2], serial[2], err[2], logp[2] = { -1, -1 }, files[3] = { -1, -1, -1 };
	struct argv argv;
	char msg[512];
	int fds[QEMU_MAX_FDS], nfds, r = qemu_argv(s->spec, &argv);
	pid_t self = getpid();

	if (r < 0)
		return r;
	r = qemu_confine_plan(s->spec, &s->conf, msg, sizeof(msg));
	if (r < 0)
		log_warnx("%s", msg);
	if (r == 0)
		r = qemu_open_files(s->spec, files);
	if (r == 0 && (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qmp) < 0 ||
		       socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, serial) < 0 ||
		       pipe2(err, O_CLOEXEC) < 0 ||
		       (s->spec->accel == QEMU_ACCEL_TCG && pipe2(logp, O_CLOEXEC) < 0)))
		r = -errno;
	if (r < 0) {
		for (int i = 0; i < 3; i++)
			if (files[i] >= 0)
				close(files[i]);
		argv_free(&argv);
		return r;
	}
	fds[0] = memfd;
	fds[1] = handoff_fd;
	fds[2] = qmp[1];
	fds[3] = serial[1];
	fds[4] = logp[1];
	memcpy(fds + QEMU_FD_BIOS - 3, files, sizeof(files));
	nfds = QEMU_FD_DISK0 - 3 + qemu_disk_fds(s->spec, fds + QEMU_FD_DISK0 - 3);
	if (s->spec->verbose) {
		for (int i = 0; i < argv.n; i++)
			fprintf(stderr, "%s%s", i ? " " : "kvmload: starting ", log_esc(argv.v[i]));
		fputc('\n', stderr);
	}
	s->pid = fork();
	if (s->pid == 0)
		qemu_child(argv.v, fds, nfds, err[1], oldmask, self, &s->conf);
	if (s->pid < 0)
		r = -errno;
	argv_free(&argv);
	for (int i = 0; i < 3; i++)
		if (files[i] >= 0)
			close(files[i]);
	close(qmp[1]);
	close(serial[1]);
	close(err[1]);
	if (logp[1] >= 0)
		close(logp[1]);
	s->qmp_fd = qmp[0];
	s->serial_fd = serial[0];
	s->err_fd = err[0];
	s->log_fd = logp[0];
	if (r < 0)
		return r;
	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (s->pidfd < 0)
		return -errno;
	fcntl(s->qmp_fd, F_SETFL, O_NONBLOCK);
	fcntl(s->serial_fd, F_SETFL, O_NONBLOCK);
	fcntl(s->err_fd, F_SETFL, O_NONBLOCK);
	if (s->log_fd >= 0)
		fcntl(s->log_fd, F_SETFL, O_NONBLOCK);
	return qmp_init(&s->qmp, s->qmp_fd);
}

/* The decimal number at p (digits only, no sign or space), *end after it; -1 when there is none. */
static long qemu_digits(const char *p, const char **end)
{
	long n = 0;

	*end = p;
	while (**end >= '0' && **end <= '9' && n < 100000)
		n = n * 10 + (*(*end)++ - '0');
	return *end > p ? n : -1;
}

int qemu_cpu_halted(const char *text, int cpu)
{
	const char *p = strstr(text, "CPU#"), *fl, *hlt, *end;
	unsigned long flags;

	/* One dump, of the vCPU asked: "\r\nCPU#N\r\n" then its registers. */
	if (!p || qemu_digits(p + 4, &end) != cpu || (*end != '\r' && *end != '\n') || strstr(end, "CPU#"))
		return -EPROTO;
	fl = strstr(end, "FL=");   /* RFL= in 64-bit mode, EFL= otherwise */
	hlt = strstr(end, " HLT=");
	if (!fl || !hlt || !isxdigit((unsigned char)fl[3]) || (hlt[5] != '0' && hlt[5] != '1'))
		return -EPROTO;
	flags = strtoul(fl + 3, NULL, 16);
	return hlt[5] == '1' && !(flags & RFLAGS_IF);
}

/* QEMU is killed ms from now, unless that is sooner already. */
static void qemu_kill_in(struct qemu_sup *s, int ms)
{
	int64_t at = qemu_now_ms() + ms;

	if (!s->kill_at || s->kill_at > at)
		s->kill_at = at;
}

/*
 * QEMU's monitor closed, speaks nonsense or takes no command (why, said when
 * not NULL): nothing is asked of it any more, nor read from it, and
 * QEMU_QUIT_MS later QEMU is killed (it cannot be asked to quit).
 */
static void qemu_monitor_gone(struct qemu_sup *s, const char *why)
{
	if (s->qmp_gone)
		return;
	s->qmp_gone = true;
	s->next_press = 0;
	if (why)
		log_warnx("QEMU's monitor %s: killing QEMU in %d s", why, QEMU_QUIT_MS / 1000);
	qemu_kill_in(s, QEMU_QUIT_MS);
}

/* A read from the monitor failed: closed (QEMU is on its way out, its end says so) or nonsense (said now). */
static void qemu_on_monitor_error(struct qemu_sup *s, int err)
{
	char why[96];

	snprintf(why, sizeof(why), "sent a message kvmload cannot read (malformed, or over %d KiB)",
		 QMP_LINE_MAX / 1024);
	qemu_monitor_gone(s, err == -EPROTO ? why : NULL);
}

static void qemu_command(struct qemu_sup *s, const char *name, const char *args, const char *id)
{
	int r;

	if (s->qmp_gone)
		return;
	r = qmp_execute(&s->qmp, name, args, id);
	if (r == -ETIMEDOUT) {
		char why[64];

		snprintf(why, sizeof(why), "took no command for %d s", QMP_WRITE_MS / 1000);
		qemu_monitor_gone(s, why);
	} else if (r < 0) {
		log_debug("QMP %s: %s", name, strerror(-r));
	} else if (id) {
		s->cmd_pending = true;
	}
}

/* The next question of a poll: vCPU s->poll_cpu's registers (one vCPU's: about 1.5 KB). */
static void qemu_ask_cpu(struct qemu_sup *s)
{
	char args[80];

	if (s->reported) /* nothing left to find out */
		return;
	snprintf(args, sizeof(args), "{\"command-line\":\"info registers\",\"cpu-index\":%d}", s->poll_cpu);
	qemu_command(s, "human-monitor-command", args, "regs");
}

/* The ACPI power button, now or as soon as QMP is ready; QEMU_STOP_WAIT_MS later it is killed. */
static void qemu_powerdown(struct qemu_sup *s)
{
	if (s->qmp_gone || s->reported) /* no button to press, or the guest ended already */
		return;
	if (s->qmp_ready)
		qemu_command(s, "system_powerdown", NULL, NULL);
	else
		s->want_powerdown = true;
	qemu_kill_in(s, QEMU_STOP_WAIT_MS);
	if (!s->qmp_gone)
		s->next_press = qemu_now_ms() + QEMU_PRESS_MS;
}

/* Ask once; QEMU_QUIT_MS later it is killed. */
static void qemu_quit(struct qemu_sup *s)
{
	if (!s->kill_at || s->kill_at > qemu_now_ms() + QEMU_QUIT_MS) {
		qemu_command(s, "quit", NULL, NULL);
		qemu_kill_in(s, QEMU_QUIT_MS);
	}
}

/*
 * One answer of a poll: a vCPU that runs ends it; a halted one has the next
 * asked, until the guest's every vCPU answered halted.  Two such polls in a
 * row end the guest: a guest that powered off through the PM port halts at
 * once, and QEMU's SHUTDOWN event may come after the answer that saw it.
 * A halted guest never answers the power button: it is stopped now, not at
 * the kill.
 */
static void qemu_on_regs(struct qemu_sup *s, const struct qmp_msg *m)
{
	int r = m->kind == QMP_RETURN && m->text ? qemu_cpu_halted(m->text, s->poll_cpu) : -EPROTO;

	if (r < 0)
		log_debug("QMP: no registers of vCPU %d: %s", s->poll_cpu,
			  m->kind == QMP_ERROR ? m->error : "not its register dump");
	if (r <= 0) {
		s->halted_polls = 0;
		return;
	}
	if (++s->poll_cpu < s->spec->cpus) {
		qemu_ask_cpu(s);
		return;
	}
	if (++s->halted_polls >= 2 && (s->end == END_NONE || s->end == END_BLIND)) {
		if (s->end == END_NONE)
			s->end = END_HALTED;
		qemu_quit(s);
	}
}

/*
 * QEMU reported the guest's end, after which it exits (-action): nothing
 * more is asked.  It closes its disks first (flushes, fdatasync), which on
 * a slow disk takes a while: QEMU_STOP_WAIT_MS before it is killed.  But
 * QEMU 7.2 can hang in that clean-up when a command was under way as the
 * guest ended (its monitor waits for its own dispatcher): then
 * QEMU_QUIT_MS.  Either way the status is the one reported.
 */
static void qemu_on_reported(struct qemu_sup *s)
{
	s->reported = true;
	s->next_press = 0;
	qemu_kill_in(s, s->cmd_pending ? QEMU_QUIT_MS : QEMU_STOP_WAIT_MS);
}

static void qemu_on_msg(void *arg, const struct qmp_msg *m)
{
	struct qemu_sup *s = arg;

	switch (m->kind) {
	case QMP_GREETING:
		qemu_command(s, "qmp_capabilities", NULL, "cap");
		break;
	case QMP_EVENT:
		if (strcmp(m->event, "SHUTDOWN") == 0) {
			snprintf(s->reason, sizeof(s->reason), "%s", m->reason);
			qemu_on_reported(s);
		} else if (strcmp(m->event, "GUEST_PANICKED") == 0) {
			s->panicked = true;
			qemu_on_reported(s);
		} else if (strcmp(m->event, "STOP") == 0 && !s->reason[0]) {
			qemu_command(s, "query-status", NULL, "status");
		}
		break;
	case QMP_RETURN:
	case QMP_ERROR:
		/* Before the handling: an answer may ask the next question. */
		if (m->id[0])
			s->cmd_pending = false;
		if (strcmp(m->id, "cap") == 0 && m->kind == QMP_RETURN) {
			s->qmp_ready = true;
			s->next_poll = qemu_now_ms() + QEMU_POLL_MS;
			if (s->want_powerdown)
				qemu_command(s, "system_powerdown", NULL, NULL);
		} else if (strcmp(m->id, "regs") == 0) {
			qemu_on_regs(s, m);
		} else if (strcmp(m->id, "status") == 0 && m->status[0] &&
			   strcmp(m->status, "running") != 0 && strcmp(m->status, "shutdown") != 0 &&
			   strcmp(m->status, "guest-panicked") != 0 && s->end == END_NONE) {
			snprintf(s->stop_status, sizeof(s->stop_status), "%s", m->status);
			s->end = END_STOPPED;
			qemu_quit(s);
		} else if (m->kind == QMP_ERROR) {
			log_debug("QMP error for '%s': %s", m->id, m->error);
		}
		break;
	}
}

/* One line of the TCG reset log: only its triple-fault note matters. */
static void qemu_on_log_line(struct qemu_sup *s, const char *line)
{
	if (strstr(line, "Triple fault"))
		s->triple = true;
}

/*
 * QEMU's warning for the probed raw images kvmload lets it probe on purpose
 * (qemu_argv.c: so block 0 keeps QEMU's protection), on every boot: not
 * news for the user.
 */
static bool qemu_expected_line(const char *line)
{
	static const char *const probed_raw[] = {
		"WARNING: Image format was not specified for '/dev/fdset/",
		"         Automatically detecting the format is dangerous for raw images, write operations on block 0 will be restricted.",
		"         Specify the 'raw' format explicitly to remove the restrictions.",
	};

	return !strncmp(line, probed_raw[0], strlen(probed_raw[0])) || !strcmp(line, probed_raw[1]) ||
	       !strcmp(line, probed_raw[2]);
}

static void qemu_on_err_line(struct qemu_sup *s, const char *line)
{
	(void)s;
	if (qemu_expected_line(line))
		return;
	/* QEMU's own words, but never a way for it to drive the terminal. */
	fprintf(stderr, "%s\n", log_esc(line));
}

/* Read what fd has and hand out whole lines; false at end of file. */
static bool qemu_lines(struct qemu_sup *s, int fd, char *line, size_t *len,
		       void (*fn)(struct qemu_sup *, const char *))
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0) {
		if (*len) {
			line[*len] = '\0';
			fn(s, line);
			*len = 0;
		}
		return false;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || *len == QEMU_LINE - 1) {
			line[*len] = '\0';
			fn(s, line);
			*len = 0;
			if (buf[i] == '\n')
				continue;
		}
		line[(*len)++] = buf[i];
	}
	return true;
}

/* Guest output to the console; false once the serial line is closed. */
static bool qemu_from_guest(struct qemu_sup *s)
{
	uint8_t buf[4096];
	ssize_t n = read(s->serial_fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	console_write(s->cons, buf, (size_t)n);
	if (s->cons->out_err && s->end == END_NONE) {
		/* Nobody can see the guest any more: power it down rather than run it blind. */
		log_warnx("console output closed (%s): powering the guest down", strerror(s->cons->out_err));
		s->end = END_BLIND;
		qemu_powerdown(s);
	}
	return true;
}

static void qemu_to_guest(struct qemu_sup *s)
{
	ssize_t n;

	if (s->to_guest_len == 0) {
		n = read(s->cons->in_fd, s->to_guest, sizeof(s->to_guest));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
			/* The guest simply gets no more input, as on a serial line nobody types on. */
			s->cons->eof = true;
			return;
		}
		if (n < 0)
			return;
		s->to_guest_len = (size_t)n;
	}
	n = write(s->serial_fd, s->to_guest, s->to_guest_len);
	if (n > 0) {
		memmove(s->to_guest, s->to_guest + n, s->to_guest_len - (size_t)n);
		s->to_guest_len -= (size_t)n;
	}
}

static void qemu_on_signal(struct qemu_sup *s)
{
	struct signalfd_siginfo si;

	if (read(s->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (s->stop_sig) {
		log_warnx("%s again: killing QEMU", strsignal((int)si.ssi_signo));
		kill(s->pid, SIGKILL);
		return;
	}
	s->stop_sig = (int)si.ssi_signo;
	log_warnx("%s: asking the guest to power off (ACPI); QEMU is killed in %d s or at a second signal",
		  strsignal(s->stop_sig), QEMU_STOP_WAIT_MS / 1000);
	qemu_powerdown(s);
}

/* bhyve's status for how the run ended, with the one line that says so. */
static enum vm_exit qemu_verdict(struct qemu_sup *s)
{
	const char *accel = s->spec->accel == QEMU_ACCEL_KVM ? "kvm" : "tcg";

	switch (s->end) {
	case END_HALTED:
		log_warnx("the guest halted (every vCPU stopped with interrupts off)");
		return VM_EXIT_HALT;
	case END_STOPPED:
		if (strcmp(s->stop_status, "internal-error") == 0 && s->spec->accel == QEMU_ACCEL_KVM)
			log_warnx("QEMU stopped the guest: KVM could not run or emulate one of its "
				  "instructions (an emulation failure, as on nested KVM hosts); try --accel tcg");
		else
			log_warnx("QEMU stopped the guest (status %s, --accel %s)", s->stop_status, accel);
		return VM_EXIT_ERROR;
	case END_BLIND:
		return VM_EXIT_ERROR;
	case END_NONE:
		break;
	}
	if (s->panicked || strcmp(s->reason, "guest-panic") == 0) {
		log_warnx("the guest panicked (pvpanic)");
		return VM_EXIT_ERROR;
	}
	if (strcmp(s->reason, "guest-shutdown") == 0) {
		log_warnx("the guest powered off");
		return VM_EXIT_POWEROFF;
	}
	if (strcmp(s->reason, "guest-reset") == 0) {
		if (s->triple) {
			log_warnx("the guest triple-faulted");
			return VM_EXIT_TRIPLEFAULT;
		}
		log_warnx("the guest reset%s", s->spec->accel == QEMU_ACCEL_KVM
						       ? " (QEMU on KVM reports a triple fault as a reset too)"
						       : "");
		return VM_EXIT_RESET;
	}
	if (WIFSIGNALED(s->wstatus))
		log_warnx("QEMU was killed by %s", strsignal(WTERMSIG(s->wstatus)));
	else
		log_warnx("QEMU exited with status %d%s", WEXITSTATUS(s->wstatus),
			  s->reason[0] ? "" : " without the guest ending");
	return VM_EXIT_ERROR;
}

static void qemu_sup_close(struct qemu_sup *s)
{
	int *fds[] = { &s->pidfd, &s->qmp_fd, &s->serial_fd, &s->err_fd, &s->log_fd, &s->sig_fd };

	qmp_fini(&s->qmp);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

/* Everything QEMU wrote before it went, then its status. */
static void qemu_reap(struct qemu_sup *s)
{
	while (qmp_read(&s->qmp, qemu_on_msg, s) > 0)
		;
	while (qemu_from_guest(s))
		;
	while (qemu_lines(s, s->err_fd, s->err_line, &s->err_len, qemu_on_err_line))
		;
	while (s->log_fd >= 0 && qemu_lines(s, s->log_fd, s->log_line, &s->log_len, qemu_on_log_line))
		;
	while (waitpid(s->pid, &s->wstatus, 0) < 0 && errno == EINTR)
		;
	s->exited = true;
}

/* A poll may start (once s->next_poll has come): the monitor is there and idle, and the end unknown. */
static bool qemu_poll_due(const struct qemu_sup *s)
{
	return s->qmp_ready && !s->qmp_gone && !s->cmd_pending && !s->reported &&
	       (s->end == END_NONE || s->end == END_BLIND);
}

static void qemu_loop(struct qemu_sup *s)
{
	while (!s->exited) {
		struct pollfd p[7] = {
			{ .fd = s->pidfd, .events = POLLIN },
			{ .fd = s->sig_fd, .events = POLLIN },
			{ .fd = s->qmp_gone ? -1 : s->qmp_fd, .events = POLLIN },
			{ .fd = s->serial_fd, .events = POLLIN | (s->to_guest_len ? POLLOUT : 0) },
			{ .fd = s->cons->eof || s->to_guest_len ? -1 : s->cons->in_fd, .events = POLLIN },
			{ .fd = s->err_fd, .events = POLLIN },
			{ .fd = s->log_fd, .events = POLLIN },
		};
		int64_t now = qemu_now_ms(), wake = now + QEMU_POLL_MS;
		int timeout, r;

		/* The next poll, when one may start: not while an answer is awaited. */
		if (qemu_poll_due(s) && s->next_poll < wake)
			wake = s->next_poll;
		if (s->kill_at && s->kill_at < wake)
			wake = s->kill_at;
		if (s->next_press && s->next_press < wake)
			wake = s->next_press;
		timeout = wake > now ? (int)(wake - now) : 0;
		if (poll(p, 7, timeout) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			qemu_on_signal(s);
		if (p[2].revents && (r = qmp_read(&s->qmp, qemu_on_msg, s)) < 0 && p[0].revents == 0)
			qemu_on_monitor_error(s, r);
		if (p[3].revents & POLLIN)
			qemu_from_guest(s);
		if ((p[3].revents & POLLOUT) || (p[4].revents & (POLLIN | POLLHUP | POLLERR)))
			qemu_to_guest(s);
		if (p[5].revents)
			qemu_lines(s, s->err_fd, s->err_line, &s->err_len, qemu_on_err_line);
		if (p[6].revents)
			qemu_lines(s, s->log_fd, s->log_line, &s->log_len, qemu_on_log_line);
		if (p[0].revents) {
			qemu_reap(s);
			break;
		}
		now = qemu_now_ms();
		if (s->kill_at && now >= s->kill_at) {
			if (s->reported)
				log_warnx("QEMU did not exit after the guest's end: killing it");
			kill(s->pid, SIGKILL);
			s->kill_at = 0;
			s->next_press = 0;
		}
		if (s->next_press && now >= s->next_press && s->qmp_ready) {
			qemu_command(s, "system_powerdown", NULL, NULL);
			s->next_press = now + QEMU_PRESS_MS;
		}
		if (qemu_poll_due(s) && now >= s->next_poll) {
			s->poll_cpu = 0;
			qemu_ask_cpu(s);
			s->next_poll = now + QEMU_POLL_MS;
		}
	}
}

enum vm_exit qemu_run(const struct qemu_spec *spec, int memfd, int handoff_fd, struct console *cons,
		      int *killed_by)
{
	struct qemu_sup s = {
		.spec = spec, .cons = cons, .pid = -1, .pidfd = -1, .qmp_fd = -1, .serial_fd = -1,
		.err_fd = -1, .log_fd = -1, .sig_fd = -1,
	};
	sigset_t mask, old;
	enum vm_exit why;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, &old);
	s.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	r = s.sig_fd < 0 ? -errno : qemu_spawn(&s, memfd, handoff_fd, &old);
	/*
	 * QEMU runs as another user now.  Of root's capabilities kvmload keeps
	 * CAP_KILL alone, to stop it.  What is left needs no other: relaying
	 * COM1 and QMP on descriptors it holds, reaping QEMU, restoring the
	 * terminal, and removing the runtime directory's files and lock, which
	 * root owns in directories root owns (the view and the exporters are
	 * gone already).  --run builtin never gets here: it keeps its
	 * privileges, and runs no QEMU.
	 */
	if (r == 0 && s.conf.user.drop && (r = confine_caps((const int[]){ CAP_KILL }, 1)) < 0)
		log_warnx("giving up kvmload's capabilities but CAP_KILL: %s", strerror(-r));
	if (r < 0) {
		log_warnx("starting %s: %s", log_esc(spec->qemu), strerror(-r));
		if (s.pid > 0) {
			kill(s.pid, SIGKILL);
			waitpid(s.pid, NULL, 0);
		}
		qemu_sup_close(&s);
		sigprocmask(SIG_SETMASK, &old, NULL);
		*killed_by = 0;
		return VM_EXIT_ERROR;
	}
	qemu_loop(&s);
	if (!s.exited) {
		kill(s.pid, SIGKILL);
		waitpid(s.pid, &s.wstatus, 0);
	}
	why = qemu_verdict(&s);
	qemu_sup_close(&s);
	/* A signal that had to end QEMU by force ends kvmload too, after its clean-up: the caller's. */
	*killed_by = s.stop_sig && why != VM_EXIT_POWEROFF ? s.stop_sig : 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return why;
}
