/* run_qemu.h: kvmload's use of QEMU: what it is given (phase 1), its start stopped (phase 3), its watch while the loader runs, the hand-off and the run (phases 12-13). */
#ifndef KVMLOAD_RUN_QEMU_H
#define KVMLOAD_RUN_QEMU_H

#include <limits.h>
#include <stdbool.h>

#include "handoff.h"
#include "loader.h"
#include "options.h"
#include "plugin_child.h"
#include "qemu.h"

/* Exit status when QEMU cannot be started or the loaded guest cannot be handed to it (bhyve's "error"). */
#define RUN_QEMU_EX 4

/* The QEMU kvmload supervises, from its start to its end. */
struct run_qemu {
	struct qemu *volatile q;   /* started paused while the loader runs: the clean-up kills it; NULL once ended */
	struct handoff_stub stub;  /* the entry stub's image, read as QEMU starts */
	char stub_path[PATH_MAX];
	struct plugin_watch watch; /* its greeting answered, its death noticed, while a plugin runs */
};

/* The files QEMU needs and what it is given, said (and ended) before anything is loaded if one is missing. */
void run_qemu_spec(struct run_qemu *rq, struct opts *o);

/* QEMU started, stopped, on the guest memory; kvmload goes on while it builds its machine. */
void run_qemu_start(struct run_qemu *rq, const struct loader *l, const struct opts *o);

/* What the load serves while a plugin runs: QEMU's watch, or NULL before QEMU is started. */
const struct plugin_watch *run_qemu_watch(struct run_qemu *rq);

/* QEMU ended while the loader ran: kvmload ends as a run that ended so would. */
_Noreturn void run_qemu_ended(struct run_qemu *rq, struct loader *l);

/*
 * The module and the stub into guest memory, then QEMU gets the disks and
 * runs the guest: bhyve's status; *killed_by, a signal that had to end
 * QEMU by force.
 */
enum vm_exit run_qemu_guest(struct run_qemu *rq, struct loader *l, const struct opts *o, int *killed_by);

#endif
