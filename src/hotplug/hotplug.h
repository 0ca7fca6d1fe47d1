/* hotplug.h: kvmload-hotplug's one context, and the add/remove/list/monitor operations on it. */
#ifndef KVMLOAD_HOTPLUG_H
#define KVMLOAD_HOTPLUG_H

#include <libudev.h>
#include <signal.h>
#include <stdbool.h>

#include "conf.h"
#include "dev.h"

struct hotplug {
	const char *run_dir;    /* per-VM state and locks */
	const char *kvmload;    /* the loader's path */
	const char *kvmload_fs; /* the view daemon's path */
	int stop_timeout;       /* seconds between SIGTERM and SIGKILL */
	bool dry_run;           /* print the plan, change nothing */
	struct conf conf;
	struct udev *udev;
};

/*
 * Start and supervise vm's guest for device d: mount the view, run kvmload,
 * load it again after a reset if the VM says so, tear everything down when
 * it stops.  lock_fd is the VM's lock if the caller holds it already, else
 * -1.  Before anything starts, each of its disks is opened as kvmload will
 * open it: one kvmload would refuse is logged and nothing starts
 * (-ENOMEDIUM).  Returns at once (0) if the VM is running already; otherwise
 * when the guest is gone: 0, or kvmload's own exit status when kvmload
 * failed (64 and up, sysexits: its message is in the log).  Or -errno
 * (logged).
 */
int guest_add(struct hotplug *h, const struct conf_vm *vm, const struct dev *d, int lock_fd);

/*
 * Stop the guest started from node (or, with also_disk, from a partition of
 * the disk node), unmount its view and remove its runtime directory.
 * Returns 1 when a VM was found, 0 when none was, or -errno.
 */
int guest_remove_node(struct hotplug *h, const char *node, bool also_disk);

/*
 * The VM whose guest runs from node (the device it was started for, or with
 * also_disk that device's whole disk too), copied into vm.  0 or -ENOENT.
 */
int guest_find(const struct hotplug *h, const char *node, bool also_disk, char *vm, size_t len);

/* --dry-run: what add or remove would do, on stdout. */
/*
 * A supervisor's signals (SIGCHLD, SIGTERM, SIGINT, SIGHUP: a guest's and
 * --monitor's) blocked, *old the mask before, for its children, and read
 * from the returned signalfd.  The descriptor, or -errno.
 */
int guest_signalfd(sigset_t *old);

void guest_plan_add(const struct hotplug *h, const struct conf_vm *vm, const struct dev *d);
void guest_plan_remove(const struct hotplug *h, const char *vm);

/*
 * list: one line per VM with a directory under h->run_dir (text, with a
 * header line), or with json a JSON array of objects with the keys vm, state,
 * holder, pid, disk, uptime, uptime_of, last_exit, last_run, in that order
 * (null where nothing is known).  A base that does not exist is an empty
 * list.  0 or -errno.
 */
int list_run(const struct hotplug *h, bool json);

/* The libudev monitor daemon (--monitor). Returns an exit status. */
int monitor_run(struct hotplug *h);

#endif
