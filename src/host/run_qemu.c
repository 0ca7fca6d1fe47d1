/* run_qemu.c: kvmload's use of QEMU: what it is given, its start stopped, its watch while the loader runs, the hand-off and the run. */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "build_paths.h"
#include "disk.h"
#include "log.h"
#include "paths.h"
#include "run_qemu.h"

void run_qemu_spec(struct run_qemu *rq, struct opts *o)
{
	const char *qemu = getenv("KVMLOAD_QEMU"), *fw = getenv("KVMLOAD_FIRMWARE");
	const char *when = getenv("KVMLOAD_QEMU_START");
	char msg[512];
	int r;

	if (when && *when && strcmp(when, "early") != 0 && strcmp(when, "late") != 0)
		errx(EX_USAGE, "KVMLOAD_QEMU_START=%s: early (the default) or late", log_esc(when));
	o->qemu_late = when && !strcmp(when, "late");

	paths_find(rq->stub_path, sizeof(rq->stub_path), "KVMLOAD_PVH_STUB", VIEW_BUILD_DIR, QEMU_STUB_BUILD,
		   NULL, QEMU_STUB_INSTALLED);
	o->qemu.qemu = qemu && *qemu ? qemu : "qemu-system-x86_64";
	o->qemu.firmware = fw && *fw ? fw : QEMU_DEFAULT_FIRMWARE;
	o->qemu.stub = rq->stub_path;
	o->qemu.vmname = o->vmname;
	o->qemu.ndisks = o->ndisks; /* the disks themselves are opened later: QEMU gets them at the hand-over */
	o->qemu.memsize = o->memsize;
	o->qemu.core = o->gmem_flags & GMEM_F_INCORE;
	o->qemu.verbose = o->verbose;
	r = qemu_check(&o->qemu, msg, sizeof(msg));
	if (r < 0)
		errx(r == -ERANGE ? EX_USAGE : EX_UNAVAILABLE, "%s", log_esc(msg));
}

void run_qemu_start(struct run_qemu *rq, const struct loader *l, const struct opts *o)
{
	if (qemu_start(&rq->q, &o->qemu, l->gmem.memfd, &rq->stub) < 0)
		exit(RUN_QEMU_EX);
}

static int run_qemu_serve(void *arg)
{
	return qemu_watch(arg);
}

const struct plugin_watch *run_qemu_watch(struct run_qemu *rq)
{
	if (!rq->q)
		return NULL;
	rq->watch = (struct plugin_watch){ .fd = qemu_watch_fd(rq->q), .fn = run_qemu_serve, .arg = rq->q };
	return &rq->watch;
}

/* QEMU run to its end: out of the handlers' reach (every signal held meanwhile), then freed. */
static enum vm_exit run_qemu_to_end(struct run_qemu *rq, struct loader *l, int *killed_by)
{
	enum vm_exit why = qemu_run(rq->q, &l->cons, killed_by);
	struct qemu *q;
	sigset_t all, old;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	q = rq->q;
	rq->q = NULL;
	sigprocmask(SIG_SETMASK, &old, NULL);
	qemu_free(q);
	return why;
}

void run_qemu_ended(struct run_qemu *rq, struct loader *l)
{
	int killed_by;

	log_warnx("QEMU ended before the loader was done: stopped the loader");
	exit((int)run_qemu_to_end(rq, l, &killed_by));
}

enum vm_exit run_qemu_guest(struct run_qemu *rq, struct loader *l, const struct opts *o, int *killed_by)
{
	struct handoff h;
	char msg[512];
	enum vm_exit why;

	if (o->qemu_late)
		run_qemu_start(rq, l, o);
	if (handoff_build(&h, &l->regs, &l->written, &rq->stub, &l->gmem, msg, sizeof(msg)) < 0)
		errx(RUN_QEMU_EX, "cannot hand the loaded guest to QEMU: %s", log_esc(msg));
	log_debug("hand-off module: %llu bytes at 0x%llx, %u chunk(s), %llu loader bytes carried%s",
		  (unsigned long long)h.size, (unsigned long long)HANDOFF_MODULE_BASE, h.nchunks,
		  (unsigned long long)h.carried, h.smap_trimmed ? "; SMAP cut at the EBDA" : "");
	/* The exporters go (QEMU takes the images' locks); QEMU gets the files kvmload opened. */
	for (int i = 0; i < l->ndisks; i++)
		disk_unexport(&l->disks[i].info);
	why = run_qemu_to_end(rq, l, killed_by);
	/*
	 * What the guest wrote is on the disk before kvmload says the guest
	 * ended (a hotplugged disk may be pulled next), also when QEMU had to
	 * be killed before it closed its disks.
	 */
	for (int i = 0; i < l->ndisks; i++)
		if (o->qemu.disks[i].rw_fd >= 0 && fdatasync(o->qemu.disks[i].rw_fd) < 0)
			log_warn("%s: flushing what the guest wrote", log_esc(o->disks[i]));
	return why;
}
