/* qemu_proc.h: the QEMU process kvmload supervises, shared by its start (qemu_spawn.c) and its supervision (qemu_run.c). */
#ifndef KVMLOAD_QEMU_PROC_H
#define KVMLOAD_QEMU_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "qemu.h"
#include "qmp.h"
#include "spawn.h"

#define QEMU_LINE 1024

enum qemu_end {
	END_NONE,
	END_HALTED,    /* every vCPU in HLT with interrupts off */
	END_STOPPED,   /* QEMU paused the VM: emulation failure, I/O error, ... */
	END_BLIND,     /* the console output went away */
	END_REFUSED,   /* QEMU refused a disk, or to go on: the guest never ran */
};

struct qemu {
	const struct qemu_spec *spec;
	struct console *cons; /* from qemu_run on; NULL while the loader runs */
	struct spawn_proc proc; /* its pid and pidfd: every signal and the reap go through the pidfd */
	int qmp_fd, serial_fd, err_fd, log_fd, sig_fd;
	int watch_fd;         /* epoll of the pidfd, qmp_fd and log_fd: qemu_watch_fd */
	struct qemu_confine conf;
	struct qmp qmp;
	bool greeted;        /* qmp_capabilities sent: commands may follow, QEMU takes them in order */
	bool qmp_ready, cmd_pending, exited;
	bool qmp_gone;       /* the monitor closed, spoke nonsense or took no command: nothing more is asked */
	bool reported;       /* QEMU reported the guest's end (SHUTDOWN, GUEST_PANICKED): it exits by itself */
	bool running;        /* "cont" answered: the guest runs */
	/* The hand-over (qemu_disk_cmds, then "cont"): commands sent, and answered, in order. */
	struct qemu_cmd *cmds;
	int ncmds, sent, answered;
	bool cont_sent;
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

/*
 * Spawn QEMU for q->spec on memfd, stopped: its argv, files (firmware, stub,
 * tap), sockets and pipes; the stub's image into *stub; q's descriptors set
 * (non-blocking), its pidfd and QMP client.  0 or -errno (said on stderr
 * when it is about a file).
 */
int qemu_spawn(struct qemu *q, int memfd, struct handoff_stub *stub);

#endif
