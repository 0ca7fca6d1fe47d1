/* state.h: kvmload-hotplug's records in a VM's runtime directory (include/rundir.h owns the directory, its lock and its holder). */
#ifndef KVMLOAD_HOTPLUG_STATE_H
#define KVMLOAD_HOTPLUG_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "consrv.h"
#include "rundir.h"

/*
 * Besides rundir.h's holder, kvmload-fs.pid, kvmload.pid and view/, a supervised VM has:
 *   RUN/VM/device          the device node, then its whole disk's node
 *   RUN/VM/console.log     the guest's console (consrv.h: CONSRV_LOG_MAX at most,
 *                          then renamed console.log.1, replacing the one before)
 *   RUN/VM/console.sock    its socket (rundir.h), while the supervisor lives
 *   RUN/VM/status          how the guest ended, once it has (console.log stays too)
 */
#define STATE_PROG "kvmload-hotplug" /* the holder's name for a supervisor */
#define STATE_GUEST RUNDIR_GUEST
#define STATE_DEVICE "device"
#define STATE_CONSOLE "console.log"
#define STATE_CONSOLE_OLD STATE_CONSOLE CONSRV_LOG_OLD
#define STATE_STATUS "status"

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
 * The guest ended on its own and its view is unmounted: keep only the device
 * record, the console log and a status line until the disk goes.  0 or -errno.
 */
int state_retire(const char *run, const char *vm, const char *status);

/*
 * The view was stopped for the guest (its daemon reaped, nothing mounted):
 * remove RUN/VM/kvmload-fs.pid and RUN/VM/view.  0 or -errno.
 */
int state_view_gone(const char *run, const char *vm);

/* Remove RUN/VM and what it holds (the view must be unmounted). Returns 0 or -errno. */
int state_clear(const char *run, const char *vm);

#endif
