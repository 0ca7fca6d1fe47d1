/* claim.h: kvmload's hold on a VM: its runtime directory (include/rundir.h), held from the view's start to kvmload's end. */
#ifndef KVMLOAD_CLAIM_H
#define KVMLOAD_CLAIM_H

#include <limits.h>
#include <signal.h>
#include <stddef.h>

/* A view daemon that ignores SIGTERM this long gets SIGKILL: one its last holder left (claim_take), or ours (view_down). */
#define CLAIM_VIEW_STOP_MS 5000

/* Our claim on base/<vm>: the holder file, locked for as long as we live. */
struct vm_claim {
	char base[PATH_MAX];    /* rundir_base(): where our runtime directory is */
	char vmname[NAME_MAX + 1];
	char dir[PATH_MAX];     /* base/<vm>: ours to remove */
	int dir_fd;             /* O_PATH of dir; -1 unless we hold it */
	int holder_fd;          /* the holder file, flock'd */
};

void claim_init(struct vm_claim *c);

/*
 * Under the VM's state lock, hold its runtime directory as "kvmload",
 * clearing a view its last holder left (rundir_clear_view), then record
 * the disks' names (RUNDIR_DISK) for kvmload-hotplug list.  The signals of
 * claim_sigset are held while c changes (let in while the lock is waited
 * for), so a handler calling claim_drop always sees what was taken.
 * Returns 0, or -errno with a message in err (-EBUSY: another live process,
 * kvmload or kvmload-hotplug, holds the VM, its last guest still runs, or a
 * live daemon still serves its view).  What was taken is let go by
 * claim_drop.
 */
int claim_take(struct vm_claim *c, const char *vmname, const char *const *disks, int ndisks,
	       char *err, size_t errlen);

/*
 * Remove the disk record and --console-socket's socket, then, last, the
 * holder file (until it goes, nobody takes the VM), and the directory.
 * Call it after view_down.  Idempotent and async-signal-safe, so signal
 * handlers and atexit can both call it.
 */
void claim_drop(struct vm_claim *c);

/* The signals that end a boot and drop the view and the claim (kvmload's handlers block them all). */
void claim_sigset(sigset_t *s);

#endif
