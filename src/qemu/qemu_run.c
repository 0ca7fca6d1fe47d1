/* qemu_run.c: QEMU as kvmload's supervised child: started early, watched while the loader runs, given the disks and resumed, then its COM1 relay, QMP events and polls, signals, and the exit status they make. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "confine.h"
#include "console.h"
#include "log.h"
#include "monotime.h"
#include "qemu_proc.h"

#define QEMU_POLL_MS 250    /* how often the guest is asked whether every vCPU halted for good */
#define QEMU_QUIT_MS 5000   /* after "quit" or an end QEMU reported, before SIGKILL */
#define QEMU_PRESS_MS 2000  /* the power button again: a guest that had not armed it yet missed the last press */
#define RFLAGS_IF 0x200

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

/*
 * A signal to QEMU while it has not been reaped, through its pidfd: never to
 * a pid reused after the reap, never to -1 (every process).  Async-signal-safe.
 */
static void qemu_signal(struct qemu *s, int sig)
{
	if (!s->exited && s->proc.pidfd >= 0)
		syscall(SYS_pidfd_send_signal, s->proc.pidfd, sig, NULL, 0);
}

/* QEMU is killed ms from now, unless that is sooner already. */
static void qemu_kill_in(struct qemu *s, int ms)
{
	int64_t at = monotime_ms() + ms;

	if (!s->kill_at || s->kill_at > at)
		s->kill_at = at;
}

/*
 * QEMU's monitor closed, speaks nonsense or takes no command (why, said when
 * not NULL): nothing is asked of it any more, nor read from it, and
 * QEMU_QUIT_MS later QEMU is killed (it cannot be asked to quit).  While the
 * loader runs (no console yet) nothing would count those seconds: QEMU is
 * killed now, and the watch stops the loader when it has gone.
 */
static void qemu_monitor_gone(struct qemu *s, const char *why)
{
	if (s->qmp_gone)
		return;
	s->qmp_gone = true;
	s->next_press = 0;
	if (!s->cons) {
		if (why)
			log_warnx("QEMU's monitor %s: killing QEMU", why);
		qemu_signal(s, SIGKILL);
		return;
	}
	if (why)
		log_warnx("QEMU's monitor %s: killing QEMU in %d s", why, QEMU_QUIT_MS / 1000);
	qemu_kill_in(s, QEMU_QUIT_MS);
}

/* A read from the monitor failed: closed (QEMU is on its way out, its end says so) or nonsense (said now). */
static void qemu_on_monitor_error(struct qemu *s, int err)
{
	char why[96];

	snprintf(why, sizeof(why), "sent a message kvmload cannot read (malformed, or over %d KiB)",
		 QMP_LINE_MAX / 1024);
	qemu_monitor_gone(s, err == -EPROTO ? why : NULL);
}

/* One command (with fd, when >= 0, passed along); a monitor that takes none for QMP_WRITE_MS is gone.  0 or -errno. */
static int qemu_send(struct qemu *s, const char *name, const char *args, const char *id, int fd)
{
	int r;

	if (s->qmp_gone)
		return -EPIPE;
	r = qmp_execute_fd(&s->qmp, name, args, id, fd);
	if (r == -ETIMEDOUT) {
		char why[64];

		snprintf(why, sizeof(why), "took no command for %d s", QMP_WRITE_MS / 1000);
		qemu_monitor_gone(s, why);
	} else if (r < 0) {
		log_debug("QMP %s: %s", name, strerror(-r));
	}
	return r;
}

static void qemu_command(struct qemu *s, const char *name, const char *args, const char *id)
{
	if (qemu_send(s, name, args, id, -1) == 0 && id)
		s->cmd_pending = true;
}

/* The next question of a poll: vCPU s->poll_cpu's registers (one vCPU's: about 1.5 KB). */
static void qemu_ask_cpu(struct qemu *s)
{
	char args[80];

	if (s->reported) /* nothing left to find out */
		return;
	snprintf(args, sizeof(args), "{\"command-line\":\"info registers\",\"cpu-index\":%d}", s->poll_cpu);
	qemu_command(s, "human-monitor-command", args, "regs");
}

/* The ACPI power button of the running guest; QEMU_STOP_WAIT_MS later QEMU is killed. */
static void qemu_powerdown(struct qemu *s)
{
	if (s->qmp_gone || s->reported) /* no button to press, or the guest ended already */
		return;
	qemu_command(s, "system_powerdown", NULL, NULL);
	qemu_kill_in(s, QEMU_STOP_WAIT_MS);
	if (!s->qmp_gone)
		s->next_press = monotime_ms() + QEMU_PRESS_MS;
}

/* Ask once; QEMU_QUIT_MS later it is killed. */
static void qemu_quit(struct qemu *s)
{
	if (!s->kill_at || s->kill_at > monotime_ms() + QEMU_QUIT_MS) {
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
static void qemu_on_regs(struct qemu *s, const struct qmp_msg *m)
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
static void qemu_on_reported(struct qemu *s)
{
	s->reported = true;
	s->next_press = 0;
	qemu_kill_in(s, s->cmd_pending ? QEMU_QUIT_MS : QEMU_STOP_WAIT_MS);
}

/*
 * The hand-over, as far as it may go: the disks' commands in order, each
 * sent at once but for one that carries a descriptor (QEMU keeps only the
 * last one it read: no other command is outstanding around it, but for the
 * qmp_capabilities it may follow, which carries none); once every one is
 * answered, "cont".
 */
static void qemu_hand_over(struct qemu *s)
{
	while (s->end == END_NONE && s->sent < s->ncmds) {
		const struct qemu_cmd *c = &s->cmds[s->sent];
		char id[16];

		if (s->answered < s->sent && (c->fd >= 0 || s->cmds[s->sent - 1].fd >= 0))
			return;
		log_debug("QMP: %s %s", c->name, c->args);
		snprintf(id, sizeof(id), "hand%d", s->sent);
		if (qemu_send(s, c->name, c->args, id, c->fd) < 0)
			return; /* the monitor is gone: QEMU is killed, its end says so */
		s->sent++;
	}
	if (s->end == END_NONE && s->answered == s->ncmds && !s->cont_sent) {
		log_debug("QMP: cont");
		s->cont_sent = true;
		qemu_command(s, "cont", NULL, "cont");
	}
}

/* QEMU refused the hand-over (why: its words): the guest never runs. */
static void qemu_refused(struct qemu *s, const char *what, const char *why)
{
	char text[512];
	size_t n;

	/* HMP's answer ends in a line break; one line here. */
	snprintf(text, sizeof(text), "%s", why);
	n = strcspn(text, "\r\n");
	text[n] = '\0';
	log_warnx("QEMU refused %s: %s", what, log_esc(text));
	s->end = END_REFUSED;
	qemu_quit(s);
}

static void qemu_on_hand_over(struct qemu *s, const struct qmp_msg *m)
{
	const struct qemu_cmd *c = &s->cmds[s->answered++];
	const char *why = m->kind == QMP_ERROR ? m->error : NULL;
	char what[PATH_MAX + 64];

	/* drive_add answers in text: "OK" last when it made the drive, else why not (warnings may come first). */
	if (!why && c->hmp && (!m->text || m->text_len < 4 || strcmp(m->text + m->text_len - 4, "OK\r\n")))
		why = m->text && m->text[0] ? m->text : "no answer";
	if (!why) {
		qemu_hand_over(s);
		return;
	}
	if (s->end != END_NONE)
		return;
	snprintf(what, sizeof(what), "the disk %s (%s)", log_esc(s->spec->disks[c->disk].info->layer[0].path),
		 c->hmp ? "drive_add" : c->name);
	qemu_refused(s, what, why);
}

static void qemu_on_msg(void *arg, const struct qmp_msg *m)
{
	struct qemu *s = arg;

	switch (m->kind) {
	case QMP_GREETING:
		/* QEMU takes commands in order: the hand-over may follow at once, unanswered. */
		if (qemu_send(s, "qmp_capabilities", NULL, "cap", -1) == 0) {
			s->cmd_pending = true;
			s->greeted = true;
			if (s->cons) /* the loader is done */
				qemu_hand_over(s);
		}
		break;
	case QMP_EVENT:
		if (strcmp(m->event, "SHUTDOWN") == 0) {
			snprintf(s->reason, sizeof(s->reason), "%s", m->reason);
			qemu_on_reported(s);
		} else if (strcmp(m->event, "GUEST_PANICKED") == 0) {
			s->panicked = true;
			qemu_on_reported(s);
		} else if (strcmp(m->event, "STOP") == 0 && s->running && !s->reason[0]) {
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
		} else if (!strncmp(m->id, "hand", 4) && s->answered < s->sent) {
			qemu_on_hand_over(s, m);
		} else if (strcmp(m->id, "cont") == 0 && m->kind == QMP_RETURN) {
			s->running = true;
			s->kill_at = 0;
			log_debug("QEMU runs the guest");
			s->next_poll = monotime_ms() + QEMU_POLL_MS;
		} else if (strcmp(m->id, "cont") == 0 && s->end == END_NONE) {
			qemu_refused(s, "to run the guest (cont)", m->error);
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
static void qemu_on_log_line(struct qemu *s, const char *line)
{
	if (strstr(line, "Triple fault"))
		s->triple = true;
}

/*
 * QEMU's warning for the probed raw images kvmload lets it probe on purpose
 * (qemu_disk.c: so block 0 keeps QEMU's protection), on every boot: not
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

static void qemu_on_err_line(struct qemu *s, const char *line)
{
	(void)s;
	if (qemu_expected_line(line))
		return;
	/* QEMU's own words, but never a way for it to drive the terminal. */
	fprintf(stderr, "%s\n", log_esc(line));
}

/* Read what fd has and hand out whole lines; false at end of file. */
static bool qemu_lines(struct qemu *s, int fd, char *line, size_t *len,
		       void (*fn)(struct qemu *, const char *))
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
static bool qemu_from_guest(struct qemu *s)
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

static void qemu_to_guest(struct qemu *s)
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

static void qemu_on_signal(struct qemu *s)
{
	struct signalfd_siginfo si;

	if (read(s->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (!s->running && !s->stop_sig) {
		/* The guest never ran: nothing to power down, nothing to wait for. */
		s->stop_sig = (int)si.ssi_signo;
		log_warnx("%s before the guest started: stopping QEMU", strsignal(s->stop_sig));
		qemu_signal(s, SIGKILL);
		return;
	}
	if (s->stop_sig) {
		log_warnx("%s again: killing QEMU", strsignal((int)si.ssi_signo));
		qemu_signal(s, SIGKILL);
		return;
	}
	s->stop_sig = (int)si.ssi_signo;
	log_warnx("%s: asking the guest to power off (ACPI); QEMU is killed in %d s or at a second signal",
		  strsignal(s->stop_sig), QEMU_STOP_WAIT_MS / 1000);
	qemu_powerdown(s);
}

/* bhyve's status for how the run ended, with the one line that says so. */
static enum vm_exit qemu_verdict(struct qemu *s)
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
	case END_REFUSED: /* said when it was refused */
		return VM_EXIT_ERROR;
	case END_NONE:
		break;
	}
	if (!s->running && s->stop_sig) /* said when the signal came */
		return VM_EXIT_ERROR;
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
			  !s->running ? " before the guest started" : s->reason[0] ? "" : " without the guest ending");
	return VM_EXIT_ERROR;
}

static void qemu_close(struct qemu *s)
{
	int *fds[] = { &s->proc.pidfd, &s->qmp_fd, &s->serial_fd, &s->err_fd, &s->log_fd, &s->sig_fd, &s->watch_fd };

	qmp_fini(&s->qmp);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

/* Everything QEMU wrote before it went (COM1 only once there is a console to show it on). */
static void qemu_drain(struct qemu *s)
{
	while (!s->qmp_gone && qmp_read(&s->qmp, qemu_on_msg, s) > 0)
		;
	while (s->cons && qemu_from_guest(s))
		;
	while (qemu_lines(s, s->err_fd, s->err_line, &s->err_len, qemu_on_err_line))
		;
	while (s->log_fd >= 0 && qemu_lines(s, s->log_fd, s->log_line, &s->log_len, qemu_on_log_line))
		;
}

/* QEMU has ended (its pidfd said so): its status. */
static void qemu_reap(struct qemu *s)
{
	spawn_wait(&s->proc, -1, &s->wstatus);
	s->exited = true;
}

/* A poll may start (once s->next_poll has come): the monitor is there and idle, and the end unknown. */
static bool qemu_poll_due(const struct qemu *s)
{
	return s->running && !s->qmp_gone && !s->cmd_pending && !s->reported &&
	       (s->end == END_NONE || s->end == END_BLIND);
}

static void qemu_loop(struct qemu *s)
{
	while (!s->exited) {
		struct pollfd p[7] = {
			{ .fd = s->proc.pidfd, .events = POLLIN },
			{ .fd = s->sig_fd, .events = POLLIN },
			{ .fd = s->qmp_gone ? -1 : s->qmp_fd, .events = POLLIN },
			{ .fd = s->serial_fd, .events = POLLIN | (s->to_guest_len ? POLLOUT : 0) },
			{ .fd = s->cons->eof || s->to_guest_len ? -1 : s->cons->in_fd, .events = POLLIN },
			{ .fd = s->err_fd, .events = POLLIN },
			{ .fd = s->log_fd, .events = POLLIN },
		};
		int64_t now = monotime_ms(), wake = now + QEMU_POLL_MS;
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
			qemu_drain(s);
			qemu_reap(s);
			break;
		}
		now = monotime_ms();
		if (s->kill_at && now >= s->kill_at) {
			if (s->reported)
				log_warnx("QEMU did not exit after the guest's end: killing it");
			else if (!s->running && !s->stop_sig && s->end == END_NONE && !s->qmp_gone)
				log_warnx("QEMU did not take the guest within %d s: killing it", QEMU_STOP_WAIT_MS / 1000);
			qemu_signal(s, SIGKILL);
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

int qemu_start(struct qemu *volatile *out, const struct qemu_spec *spec, int memfd, struct handoff_stub *stub)
{
	struct qemu *q = calloc(1, sizeof(*q));
	sigset_t all, old;
	int r;

	if (!q)
		return -ENOMEM;
	*q = (struct qemu){
		.spec = spec, .proc = { .pid = -1, .pidfd = -1 }, .qmp_fd = -1, .serial_fd = -1, .err_fd = -1,
		.log_fd = -1, .sig_fd = -1, .watch_fd = -1,
	};
	/* Published before the fork: a handler that kills it finds it from the moment it exists. */
	*out = q;
	r = qemu_spawn(q, memfd, stub);
	if (r == 0 && (q->watch_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		r = -errno;
	for (int i = 0, fds[] = { q->proc.pidfd, q->qmp_fd, q->log_fd }; r == 0 && i < 3; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fds[i] };

		if (fds[i] >= 0 && epoll_ctl(q->watch_fd, EPOLL_CTL_ADD, fds[i], &ev) < 0)
			r = -errno;
	}
	if (r < 0) {
		log_warnx("starting %s: %s", log_esc(spec->qemu), strerror(-r));
		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, &old);
		qemu_kill(q);
		*out = NULL;
		sigprocmask(SIG_SETMASK, &old, NULL);
		qemu_free(q);
		return r;
	}
	return 0;
}

int qemu_watch_fd(const struct qemu *q)
{
	return q->watch_fd;
}

/*
 * One read of each (the descriptors are level-triggered in the watch: the
 * caller comes back while more waits).  QEMU's standard error stays unread
 * until qemu_run, so its words come after the loader's, as they did when it
 * started late.
 */
int qemu_watch(struct qemu *q)
{
	int r;

	if (q->exited)
		return -ECHILD;
	if (spawn_wait(&q->proc, 0, &q->wstatus) == 0) {
		q->exited = true;
		return -ECHILD;
	}
	/* A descriptor with nothing more to give leaves the watch, which would otherwise never rest. */
	if (!q->qmp_gone && (r = qmp_read(&q->qmp, qemu_on_msg, q)) < 0)
		qemu_on_monitor_error(q, r);
	if (q->qmp_gone)
		epoll_ctl(q->watch_fd, EPOLL_CTL_DEL, q->qmp_fd, NULL);
	if (q->log_fd >= 0 && !qemu_lines(q, q->log_fd, q->log_line, &q->log_len, qemu_on_log_line))
		epoll_ctl(q->watch_fd, EPOLL_CTL_DEL, q->log_fd, NULL);
	return 0;
}

void qemu_kill(struct qemu *q)
{
	if (!q || q->exited || q->proc.pidfd < 0)
		return;
	qemu_signal(q, SIGKILL);
	/* Reaped through its pidfd too: a pid may name another process by now. */
	spawn_wait(&q->proc, -1, NULL);
	q->exited = true;
}

void qemu_free(struct qemu *q)
{
	if (!q)
		return;
	qemu_close(q);
	if (q->cmds)
		qemu_disk_cmds_free(q->cmds, q->ncmds);
	free(q->cmds);
	free(q);
}

enum vm_exit qemu_run(struct qemu *s, struct console *cons, int *killed_by)
{
	sigset_t mask, old;
	enum vm_exit why;
	int r = 0;

	s->cons = cons;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, &old);
	s->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sig_fd < 0)
		r = -errno;
	/*
	 * The loader is done; QEMU runs as another user.  Of root's
	 * capabilities kvmload keeps CAP_KILL alone, to stop it.  What is left
	 * needs no other: handing QEMU descriptors it holds, relaying COM1 and
	 * QMP, reaping QEMU, restoring the terminal, and removing the runtime
	 * directory's files and lock, which root owns in directories root owns
	 * (the view and the exporters are gone already).  A QEMU that ended
	 * while the loader ran leaves the view up: then nothing is given up, the
	 * view's clean-up needs CAP_SYS_ADMIN.  --run builtin never gets here:
	 * it keeps its privileges, and runs no QEMU.
	 */
	if (r == 0 && !s->exited && s->conf.user.drop && (r = confine_caps((const int[]){ CAP_KILL }, 1)) < 0)
		log_warnx("giving up kvmload's capabilities but CAP_KILL: %s", strerror(-r));
	if (r == 0 && !s->exited) {
		s->cmds = calloc(QEMU_MAX_CMDS, sizeof(*s->cmds));
		r = s->cmds ? qemu_disk_cmds(s->spec, s->cmds) : -ENOMEM;
		s->ncmds = r > 0 ? r : 0;
		r = r < 0 ? r : 0;
	}
	if (r < 0) {
		log_warnx("handing the guest to %s: %s", log_esc(s->spec->qemu), strerror(-r));
		qemu_kill(s);
		s->end = END_REFUSED;
	} else if (!s->exited) {
		/* A QEMU that takes neither the disks nor "cont" in this time is stuck in its start. */
		qemu_kill_in(s, QEMU_STOP_WAIT_MS);
		if (s->greeted)
			qemu_hand_over(s);
		qemu_loop(s);
	} else {
		qemu_drain(s);
	}
	if (!s->exited) {
		qemu_signal(s, SIGKILL);
		qemu_reap(s);
	}
	why = qemu_verdict(s);
	/* A signal that had to end QEMU by force ends kvmload too, after its clean-up: the caller's. */
	*killed_by = s->stop_sig && why != VM_EXIT_POWEROFF ? s->stop_sig : 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return why;
}
