/* state.h: the runtime directory: per-VM lock, supervisor claim, pid and device records, cleanup. */
#ifndef KVMLOAD_HOTPLUG_STATE_H
#define KVMLOAD_HOTPLUG_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Layout under RUN (default /run/kvmload):
 *   RUN/VM.lock            flock'd while a VM's state changes (mdadm's map lock)
 *   RUN/VM/hotplug.pid     the supervisor; flock'd by it for as long as it lives
 *   RUN/VM/kvmload.pid     "PID STARTTIME" of the guest
 *   RUN/VM/kvmload-fs.pid  "PID STARTTIME" of the view's daemon, while there is a view
 *   RUN/VM/device          the device node, then its whole disk's node
 *   RUN/VM/view/           the kvmload-fs mount, until kvmload releases it for the guest
 *   RUN/VM/console.log     the guest's console
 *   RUN/VM/status          how the guest ended, once it has (console.log stays too)
 */
#define STATE_SUPERVISOR "hotplug.pid"
#define STATE_GUEST "kvmload.pid"
#define STATE_FS "kvmload-fs.pid"
#define STATE_DEVICE "device"
#define STATE_VIEW "view"
#define STATE_CONSOLE "console.log"
#define STATE_STATUS "status"

/* RUN/VM/LEAF (leaf NULL: RUN/VM).  Returns 0 or -ENAMETOOLONG. */
int state_path(char *buf, size_t len, const char *run, const char *vm, const char *leaf);

/*
 * Take the VM's lock, creating RUN if needed; waits.  A holder unlinks the
 * lock file before closing it, so a waiter that wakes on an unlinked file
 * tries again.  Returns the locked fd or -errno.
 */
int state_lock(const char *run, const char *vm);
void state_unlock(const char *run, const char *vm, int fd);

/* RUN/VM exists. */
bool state_exists(const char *run, const char *vm);
/* A supervisor holds RUN/VM/hotplug.pid. */
bool state_supervised(const char *run, const char *vm);

/*
 * Create RUN/VM with hotplug.pid (our pid) flock'd, and the device record.
 * Returns the claim fd (keep it open while supervising) or -errno.
 */
int state_claim(const char *run, const char *vm, const char *node, const char *disknode);
/* RUN/VM/hotplug.pid is still the file behind claim_fd (no remove or re-add since). */
bool state_owns(const char *run, const char *vm, int claim_fd);

/* Record a child as "PID STARTTIME" so a later reader never signals a recycled pid. */
int state_write_pid(const char *run, const char *vm, const char *leaf, pid_t pid);
/* A pidfd for the recorded process if it is still that process, else -ESRCH / -ENOENT. */
int state_pidfd(const char *run, const char *vm, const char *leaf);
/* Read back the recorded pid only (for messages). */
pid_t state_read_pid(const char *run, const char *vm, const char *leaf);

/* The recorded device node and whole-disk node. Returns 0 or -errno. */
int state_device(const char *run, const char *vm, char *node, size_t nlen, char *disk, size_t dlen);

/*
 * The guest ended on its own and its view is unmounted: keep only the device
 * record, the console log and a status line until the disk goes.  0 or -errno.
 */
int state_retire(const char *run, const char *vm, const char *status);

/*
 * The view was stopped for the guest (its daemon reaped, nothing mounted):
 * remove RUN/VM/kvmload-fs.pid and RUN/VM/view.  0 or -errno (-EBUSY while
 * something is still mounted there).
 */
int state_view_gone(const char *run, const char *vm);

/* Remove RUN/VM and what it holds (the view must be unmounted). Returns 0 or -errno. */
int state_clear(const char *run, const char *vm);

/*
 * Each VM under RUN that has a directory or a lock file (one being set up has
 * only its lock for a while): calls fn, maybe twice for one VM, until it
 * returns nonzero, which is returned.
 */
int state_each(const char *run, int (*fn)(const char *vm, void *arg), void *arg);

#endif
