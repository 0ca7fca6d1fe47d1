/* cleanup.h: what kvmload undoes on every way out (atexit, the signals that end it, the view daemon's death) and the terminal's stops. */
#ifndef KVMLOAD_CLEANUP_H
#define KVMLOAD_CLEANUP_H

#include <signal.h>
#include <sys/types.h>

#include "claim.h"
#include "console.h"
#include "consrv.h"
#include "loader.h"
#include "qemu.h"
#include "view.h"

/* Exit status when the view cannot be made or its daemon dies (bhyve's "error"). */
#define CLEANUP_EX_VIEW 4

/*
 * What there is to undo, filled in as it comes to exist; NULL (or -1, or
 * nothing taken) until then.  The handlers read it through the one pointer
 * cleanup_install keeps, because signal handlers and atexit get no
 * context argument.
 */
struct cleanup {
	volatile pid_t child;         /* the plugin's process: killed first, so nothing reads the view as it goes */
	struct qemu *volatile *qemu;  /* QEMU, started paused while the loader runs: killed */
	struct consrv consrv;         /* --console-socket's server: its last bytes out before the terminal is given back */
	struct console *cons;         /* restored; NULL once closed */
	struct view view;             /* phases 5-11 (or --view's): taken down before the claim */
	struct vm_claim claim;        /* the VM, held from phase 5 until kvmload ends: let go last */
	struct loader *loader;        /* its disks' exporters end with kvmload, after the view that reads them */
	struct sigaction stop_sa;     /* the stop handler, put back after each stop */
};

/*
 * Make c the clean-up of this process, with no view, claim or console server yet:
 * atexit, SIGINT, SIGTERM, SIGHUP and SIGQUIT (undo, then die by the
 * signal), the terminal's stops (the console is given back, then raw
 * again), and SIGCHLD at its default (an inherited SIG_IGN would have the
 * kernel reap the view daemon first).
 */
void cleanup_install(struct cleanup *c);

/* Once the view's daemon runs: its death mid-boot is said, everything undone, and kvmload exits CLEANUP_EX_VIEW. */
void cleanup_watch_view(struct cleanup *c);

/*
 * Phase 11, outside handlers: with the signals held and the SIGCHLD watch
 * off (our SIGTERM is no death), take the view down; the claim stays until
 * kvmload ends, since the guest runs on its disks.
 */
void cleanup_view_down(struct cleanup *c);

/* The console back to the terminal's own settings (async-signal-safe). */
void cleanup_console(struct cleanup *c);

/* The handler of SIGINT, SIGTERM, SIGHUP and SIGQUIT: undo, then end by sig. */
void cleanup_on_signal(int sig);

/* Outside handlers, with the others held first: undo as for sig, then end by it (a signal that had to end QEMU by force ends kvmload so). */
_Noreturn void cleanup_die_by(struct cleanup *c, int sig);

#endif
