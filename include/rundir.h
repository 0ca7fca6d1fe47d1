/* rundir.h: the one owner of a VM's runtime directory: its layout, its lock, who holds the VM, pid records, stale state. */
#ifndef KVMLOAD_RUNDIR_H
#define KVMLOAD_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Layout under BASE (rundir_base(): /run/kvmload as root, else
 * $XDG_RUNTIME_DIR/kvmload; $KVMLOAD_RUN_DIR for both programs, or
 * kvmload-hotplug's --run-dir):
 *   BASE/.VM.lock           flock'd while anyone changes VM's state (mdadm's map lock:
 *                           unlinked on unlock, so a waiter that wakes on it tries again)
 *   BASE/VM/holder          "PID PROGRAM": the one process that holds VM (kvmload or
 *                           kvmload-hotplug), flock'd by it for as long as it lives
 *   BASE/VM/kvmload-fs.pid  "PID STARTTIME" of the view's daemon, while there is a view
 *   BASE/VM/kvmload.pid     "PID STARTTIME" of a supervised guest's kvmload (hotplug's)
 *   BASE/VM/view/           the kvmload-fs mount
 *   BASE/VM/disk            the disks of a kvmload started by hand, one a line, while it
 *                           holds VM (for kvmload-hotplug list)
 *   BASE/VM/console.sock    the guest's console (include/consrv.h): kvmload's with
 *                           --console-socket, else the supervisor's
 * and kvmload-hotplug's own records (src/hotplug/state.h): device, console.log,
 * state, status.
 *
 * Every program follows the same rules: a holder is taken only under the
 * lock; a VM whose holder file is flock'd by a live process belongs to it
 * (whoever asks is refused with its pid, and nothing of it is touched); a
 * view is unmounted only once the daemon recorded for it is gone; a guest
 * recorded as running keeps its disk from a new holder until it has stopped.
 */
#define RUNDIR_BASE "/run/kvmload"
#define RUNDIR_HOLDER "holder"
#define RUNDIR_FS "kvmload-fs.pid"
#define RUNDIR_GUEST "kvmload.pid"
#define RUNDIR_VIEW "view"
#define RUNDIR_DISK "disk"
#define RUNDIR_CONSOLE "console.sock"
#define RUNDIR_TMP ".tmp" /* rundir_write's file before its rename: LEAF.tmp */
#define RUNDIR_PROG_MAX 31

/* Who holds a VM. */
struct rundir_holder {
	pid_t pid;
	char prog[RUNDIR_PROG_MAX + 1]; /* "kvmload", "kvmload-hotplug" */
};

/*
 * The base, the same for every program: $KVMLOAD_RUN_DIR when it is an
 * absolute path; else RUNDIR_BASE as root; otherwise $XDG_RUNTIME_DIR/kvmload
 * when that is an absolute path (the user's own, so kvmload works without root
 * where FUSE mounts do), else RUNDIR_BASE.  Written to buf, which is returned.
 */
const char *rundir_base(char *buf, size_t len);

/* BASE/VM/LEAF (leaf NULL: BASE/VM).  0 or -ENAMETOOLONG. */
int rundir_path(char *buf, size_t len, const char *base, const char *vm, const char *leaf);

/*
 * Take VM's lock, making BASE if needed (0755 for RUNDIR_BASE, else 0700);
 * waits for the present holder of the lock.  The locked fd, or -errno.
 */
int rundir_lock(const char *base, const char *vm);
void rundir_unlock(const char *base, const char *vm, int fd);

/* 1 with *who filled when a live process holds VM, 0 when nobody does, or -errno. */
int rundir_holder(const char *base, const char *vm, struct rundir_holder *who);

/*
 * Under the lock: make BASE/VM (mode 0700, ours) and take the holder file for
 * prog.  -EBUSY with *who filled when a live process holds VM; -EPERM when the
 * directory is somebody else's.  Returns the holder fd: keep it open while
 * holding (closing it lets the VM go, even when the process is SIGKILLed).
 */
int rundir_claim(const char *base, const char *vm, const char *prog, struct rundir_holder *who);

/* BASE/VM/holder is still the file behind claim_fd (nobody cleared and re-took VM since). */
bool rundir_owns(const char *base, const char *vm, int claim_fd);

/*
 * Under the lock, with nobody live holding VM: clear the view its last holder
 * left.  Its recorded daemon, if still alive, is nobody's: it gets SIGTERM
 * (it unmounts as it leaves) and up to wait_ms; only once it is gone is what
 * is left mounted detached.  -EBUSY (its pid in *fs_pid) when the daemon
 * outlives the wait: a view whose daemon is alive is never unmounted.  0 or
 * -errno.
 */
int rundir_clear_view(const char *base, const char *vm, int wait_ms, pid_t *fs_pid);

/*
 * Async-signal-safe: detach the mount at path; as root a lazy umount2,
 * otherwise the set-uid fusermount3 (a fixed path and an empty environment).
 * Nothing mounted there is not an error.  0 or -errno.
 */
int rundir_unmount(const char *path);

/* BASE/VM/LEAF holds text, written whole: renamed into place, so a reader sees all of it or none. */
int rundir_write(const char *base, const char *vm, const char *leaf, const char *text);

/* Record a process as "PID STARTTIME" so a later reader never signals a recycled pid. */
int rundir_write_pid(const char *base, const char *vm, const char *leaf, pid_t pid);
/* A pidfd for the recorded process if it is still that process, else -ESRCH / -ENOENT. */
int rundir_pidfd(const char *base, const char *vm, const char *leaf);
/* The recorded pid only (for messages), or -1. */
pid_t rundir_read_pid(const char *base, const char *vm, const char *leaf);

/*
 * Each VM under BASE that has a directory or a lock file (one being set up
 * has only its lock for a while): calls fn, maybe twice for one VM, until it
 * returns nonzero, which is returned.
 */
int rundir_each(const char *base, int (*fn)(const char *vm, void *arg), void *arg);

#endif
