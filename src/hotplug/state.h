/* state.h: kvmload-hotplug's records in a VM's runtime directory (include/rundir.h owns the directory, its lock and its holder). */
#ifndef KVMLOAD_HOTPLUG_STATE_H
#define KVMLOAD_HOTPLUG_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "consrv.h"
#include "rundir.h"

/*
 * Besides rundir.h's holder, kvmload-fs.pid, kvmload.pid and view/, a supervised VM has:
 *   RUN/VM/device          the device node, then its whole disk's node
 *   RUN/VM/console.log     the guest's console (consrv.h: CONSRV_LOG_MAX at most,
 *                          then renamed console.log.1, replacing the one before)
 *   RUN/VM/console.sock    its socket (rundir.h), while the supervisor lives
 *   RUN/VM/state           what the supervisor does now (struct state_rec, below)
 *   RUN/VM/status          the last STATE_HISTORY exits, newest first (state_exit_add)
 * Once the guest ended for good, console.log, state and status stay until the disk goes.
 */
#define STATE_PROG "kvmload-hotplug" /* the holder's name for a supervisor */
#define STATE_GUEST RUNDIR_GUEST
#define STATE_DEVICE "device"
#define STATE_CONSOLE "console.log"
#define STATE_CONSOLE_OLD STATE_CONSOLE CONSRV_LOG_OLD
#define STATE_STATUS "status"
#define STATE_RECORD "state"

#define STATE_HISTORY 8      /* exits kept in RUN/VM/status */
#define STATE_TAIL_LINES 20  /* console lines kept with each exit ... */
#define STATE_TAIL_BYTES 4096 /* ... from at most this many of console.log's last bytes */
/* state_console_tail's largest result: every byte as \xNN, a newline per line, the NUL. */
#define STATE_TAIL_MAX (4 * STATE_TAIL_BYTES + STATE_TAIL_LINES + 1)

/* What a supervised VM is doing. */
enum state_kind {
	STATE_LOADING,    /* its kvmload started, the view not yet released */
	STATE_RUNNING,    /* the view released ('K' sent): the guest runs */
	STATE_RESTARTING, /* the guest reset; waiting out the back-off before loading it again */
	STATE_STOPPED,    /* retired: the guest ended, restart = no, a reset loop, kvmload failed */
};

/* One end of a guest's kvmload. */
struct state_exit {
	char status[64];    /* "status 0, reset", "killed by signal 9" */
	struct timespec at; /* CLOCK_REALTIME, when it was reaped */
	long ran_ms;        /* from its kvmload's start to its end */
};

/*
 * RUN/VM/state, one "key: value" line each:
 *   state: loading|running|restarting|stopped
 *   since: 2026-12-07T08:00:01.123Z   (UTC)
 *   last-exit: status 0, reset         (once a guest ended)
 *   last-run: 1.234 s                  (how long that run lasted)
 *   why: ...                           (restarting and stopped: the supervisor's reason)
 */
struct state_rec {
	enum state_kind kind;
	struct timespec since; /* CLOCK_REALTIME */
	bool exited;           /* last holds the latest end */
	struct state_exit last;
	char why[160];
};

/* RUN/VM exists. */
bool state_exists(const char *run, const char *vm);

/*
 * Under the lock: hold RUN/VM as its supervisor (rundir_claim) and record
 * the device.  Returns the claim fd (keep it open while supervising) or
 * -errno: -EBUSY with *who filled when a live process holds the VM.
 */
int state_claim(const char *run, const char *vm, const char *node, const char *disknode,
		struct rundir_holder *who);

/* The recorded device node and whole-disk node. Returns 0 or -errno. */
int state_device(const char *run, const char *vm, char *node, size_t nlen, char *disk, size_t dlen);

/*
 * The guest ended for good and its view is unmounted: keep only the device
 * record, the console log, the state and the status until the disk goes.
 * 0 or -errno.
 */
int state_retire(const char *run, const char *vm);

/* "loading", "running", "restarting", "stopped". */
const char *state_name(enum state_kind kind);

/* Write RUN/VM/state whole (renamed into place).  0 or -errno. */
int state_set(const char *run, const char *vm, const struct state_rec *rec);

/*
 * Read RUN/VM/state.  0, -ENOENT when there is none (a VM being set up, or
 * held by a kvmload started by hand), -EINVAL for one that does not parse.
 */
int state_get(const char *run, const char *vm, struct state_rec *rec);

/*
 * The last lines of RUN/VM/console.log as they are now, into buf (len at
 * least STATE_TAIL_MAX): at most STATE_TAIL_LINES lines from its last
 * STATE_TAIL_BYTES bytes (with the end of console.log.1 before them when
 * the log was just rotated and holds fewer), a line cut by that window dropped, each line
 * ending in '\n', a trailing '\r' dropped, every other byte outside printable
 * ASCII as \xNN and a backslash as \\ (log_esc's form).  A file that shrinks
 * while it is read gives what could be read.  "" and 0 when there is no log
 * (a console = device); -EINVAL when it is not a regular file; -ENOBUFS when
 * len is too small; else -errno.  Call it once the console server has logged
 * what there is to see (consrv_tail), as the supervisor does when a guest ends.
 */
int state_console_tail(const char *run, const char *vm, char *buf, size_t len);

/*
 * Put one end first in RUN/VM/status, keeping STATE_HISTORY entries, each:
 *   exited: STATUS
 *   at: 2026-12-07T08:00:01.123Z
 *   ran: 1.234 s
 *   console:
 *   | LINE            (tail, a state_console_tail result, one "| " line each)
 * and a blank line after it.  Written whole (renamed into place).  0 or -errno.
 */
int state_exit_add(const char *run, const char *vm, const struct state_exit *e, const char *tail);

/*
 * The view was stopped for the guest (its daemon reaped, nothing mounted):
 * remove RUN/VM/kvmload-fs.pid and RUN/VM/view.  0 or -errno.
 */
int state_view_gone(const char *run, const char *vm);

/* Remove RUN/VM and what it holds (the view must be unmounted). Returns 0 or -errno. */
int state_clear(const char *run, const char *vm);

#endif
