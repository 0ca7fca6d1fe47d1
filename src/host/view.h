/* view.h: the file view the host-file callbacks read: a private kvmload-fs child in the VM's runtime directory (include/rundir.h), or a mount given with --view. */
#ifndef KVMLOAD_VIEW_H
#define KVMLOAD_VIEW_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "viewd.h"

/* The view: its daemon and, when we hold the VM, our claim on its runtime directory (include/rundir.h). */
struct view {
	char base[PATH_MAX];    /* rundir_base(): where our runtime directory is */
	char vmname[NAME_MAX + 1];
	char rundir[PATH_MAX];  /* base/<vm>: ours to remove; "" for --view */
	char mnt[PATH_MAX];     /* the view's root directory */
	int root_fd;            /* O_PATH of mnt; -1 when there is no view */
	int rundir_fd;          /* -1 unless we hold the runtime directory */
	int claim_fd;           /* the holder file, flock'd for as long as we live */
	struct viewd d;         /* the kvmload-fs child, when we started one */
};

/* What the child shows: host0 from host (may be NULL), disk0.. from disks. */
struct view_spec {
	const char *prog;          /* the kvmload-fs executable */
	const char *vmname;
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
 * Hold the VM's runtime directory (rundir_claim as "kvmload"), start
 * spec->prog on its view/ as a child, and return once the mount answers.
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGCHLD are held while v changes, so
 * a handler calling view_stop always sees what was made.  Returns 0, or
 * -errno with a message in err (-EBUSY: another live process, kvmload or
 * kvmload-hotplug, holds the VM, or a live daemon still serves its view).
 * Whatever was made is removed by view_stop.
 */
int view_start(struct view *v, const struct view_spec *spec, char *err, size_t errlen);

/* Use an existing view at dir; view_stop will leave it alone.  0 or -errno. */
int view_attach(struct view *v, const char *dir);

/*
 * Async-signal-safe: true when our child has died (reaped here if it had
 * not been); v->status then holds its wait status.
 */
bool view_child_died(struct view *v);

/* Async-signal-safe: "kvmload: the view daemon ... died ...: ending the load" on stderr. */
void view_report_death(const struct view *v);

/*
 * The loader is done: stop the child (SIGTERM, SIGKILL after 5 s), reap it,
 * unmount what it left and remove its record and mount point, but keep
 * holding the VM (the guest runs on its disks).  Idempotent and
 * async-signal-safe.
 */
void view_down(struct view *v);

/*
 * view_down, then remove the runtime directory and let the VM go.
 * Idempotent and async-signal-safe, so signal handlers and atexit can both
 * call it.
 */
void view_stop(struct view *v);

/* The signals that end a boot and stop the view (kvmload's handlers block them all). */
void view_sigset(sigset_t *s);

#endif
