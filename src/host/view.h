/* view.h: the file view the host-file callbacks read: a private kvmload-fs child in the runtime directory a claim holds (claim.h), or a mount given with --view. */
#ifndef KVMLOAD_VIEW_H
#define KVMLOAD_VIEW_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "claim.h"
#include "viewd.h"

/* The view: its root, and the kvmload-fs child serving it when the view is ours. */
struct view {
	char mnt[PATH_MAX];     /* the view's root directory */
	int root_fd;            /* O_PATH of mnt; -1 when there is no view */
	int dir_fd;             /* the claimed runtime directory it is in; -1 for --view or once down */
	struct viewd d;         /* the kvmload-fs child, when we started one */
};

/* What the child shows: host0 from host (may be NULL), disk0.. from disks. */
struct view_spec {
	const char *prog;          /* the kvmload-fs executable */
	const char *host;
	const char *const *disks;  /* names, for the daemon's messages */
	const int *disk_fds;       /* the guest-visible bytes of each, which the daemon reads */
	int ndisks;
	const char *user;          /* kvmload-fs --user; NULL: its default */
};

void view_init(struct view *v);

/*
 * The kvmload-fs to run: $KVMLOAD_FS, else the build tree's when this
 * program runs from its build directory, else one next to this program,
 * else the installed one.
 */
void view_fs_program(char *buf, size_t len);

/*
 * Start spec->prog on the view/ of the runtime directory c holds, as a
 * child, and return once the mount answers.  The signals of claim_sigset
 * are held while v changes, so a handler calling view_down always sees
 * what was made.  Returns 0, or -errno with a message in err.  Whatever
 * was made is removed by view_down.
 */
int view_start(struct view *v, const struct vm_claim *c, const struct view_spec *spec, char *err,
	       size_t errlen);

/* Use an existing view at dir; view_down will leave it alone.  0 or -errno. */
int view_attach(struct view *v, const char *dir);

/*
 * Async-signal-safe: true when our child has died (reaped here if it had
 * not been); v->d.status then holds its wait status.
 */
bool view_child_died(struct view *v);

/* Async-signal-safe: "kvmload: the view daemon ... died ...: ending the load" on stderr. */
void view_report_death(const struct view *v);

/*
 * The loader is done, or kvmload ends: stop the child (SIGTERM, SIGKILL
 * after CLAIM_VIEW_STOP_MS), reap it, unmount what it left and remove its
 * record and mount point.  The claim stays (the guest runs on its disks).
 * Idempotent and async-signal-safe, so phase 11, signal handlers and
 * atexit can all call it.
 */
void view_down(struct view *v);

#endif
