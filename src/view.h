/* view.h: the file view the host-file callbacks read: a private kvmload-fs child under /run/kvmload/<vm>/ (not as root: $XDG_RUNTIME_DIR/kvmload/<vm>/), or a mount given with --view. */
#ifndef KVMLOAD_VIEW_H
#define KVMLOAD_VIEW_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define VIEW_RUN_BASE "/run/kvmload" /* root's; other users' is $XDG_RUNTIME_DIR/kvmload */

struct view {
	char rundir[PATH_MAX];  /* view_run_base()/<vm>: ours to remove; "" for --view */
	char mnt[PATH_MAX];     /* the view's root directory */
	int root_fd;            /* O_PATH of mnt; -1 when there is no view */
	int rundir_fd;          /* -1 unless we made the runtime directory */
	int lock_fd;            /* flock(LOCK_EX) on rundir/lock for as long as we live */
	pid_t pid;              /* the kvmload-fs child; -1 when none was started */
	bool reaped;            /* pid has been waited for; status holds how it ended */
	int status;
	bool mounted;           /* our child may have left a mount at mnt */
};

/* What the child shows: host0 from host (may be NULL), disk0.. from disks. */
struct view_spec {
	const char *prog;          /* the kvmload-fs executable */
	const char *vmname;
	const char *host;
	const char *const *disks;
	int ndisks;
};

void view_init(struct view *v);

/*
 * The kvmload-fs to run: $KVMLOAD_FS, else the build tree's when this
 * program runs from its build directory, else one next to this program,
 * else the installed one.
 */
void view_fs_program(char *buf, size_t len);

/*
 * Where runtime directories go: VIEW_RUN_BASE as root; otherwise
 * $XDG_RUNTIME_DIR/kvmload when that variable is an absolute path (the
 * user's own, so kvmload works without root where FUSE mounts do), else
 * VIEW_RUN_BASE.  Written to buf, which is returned.
 */
const char *view_run_base(char *buf, size_t len);

/*
 * Make view_run_base()/<vm> (mode 0700) and lock it, start spec->prog there as
 * a child, and return once the mount answers.  SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT and SIGCHLD are held while v changes, so a handler calling
 * view_stop always sees what was made.  Returns 0, or -errno with a message
 * in err (-EBUSY: another live kvmload holds the lock).  Whatever was made
 * is removed by view_stop.
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
 * Stop the child (SIGTERM, SIGKILL after 5 s), reap it, unmount what it
 * left, remove the runtime directory and drop the lock.  Idempotent and
 * async-signal-safe, so signal handlers and atexit can both call it.
 */
void view_stop(struct view *v);

/* The signals that end a boot and stop the view (kvmload's handlers block them all). */
void view_sigset(sigset_t *s);

#endif
