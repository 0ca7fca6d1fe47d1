/* viewd.h: the one way to start and stop kvmload-fs as a child: foreground, ready byte on fd 3, PDEATHSIG, detach on stop. */
#ifndef KVMLOAD_VIEWD_H
#define KVMLOAD_VIEWD_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "argv.h"
#include "disk.h"
#include "spawn.h"

/*
 * The extended attribute kvmload-fs gives the root of each ZFS dataset it
 * shows (a member partition's node, zfs/POOL/...): the dataset's name.
 */
#define VIEWD_XATTR_DATASET "user.kvmload.dataset"

#define VIEWD_MAXDISKS DISK_UNITS_MAX
#define VIEWD_FD_DISK0 4  /* the daemon finds disk_fds[i] at 4 + i (3 is the ready byte's) */
#define VIEWD_READY_MS 30000 /* viewd_start's timeout for kvmload's and kvmload-hotplug's views */

/* What the daemon shows and where. */
struct viewd_spec {
	const char *prog;          /* the kvmload-fs executable */
	const char *mnt;           /* the mount point, an existing directory */
	const char *host;          /* --host, or NULL */
	const char *const *disks;  /* --disk each, or with disk_fds the paths or names that go with them */
	const int *disk_fds;       /* NULL, or each disk opened (--disk-fd N:PATH), or with disk_fds_raw
				      its guest-visible bytes (--raw-fd N:NAME) */
	bool disk_fds_raw;
	const char *format;        /* NULL, or --format for every --disk */
	int ndisks;
	const char *user;          /* --user: who the daemon serves as once mounted; NULL: its default */
};

/* One running daemon; filled by viewd_start, emptied by viewd_stop. */
struct viewd {
	pid_t pid;                 /* -1 when none */
	struct spawn_proc proc;    /* its pidfd: signals and reaps never reach a recycled pid */
	bool reaped;               /* pid was waited for; status says how it ended */
	int status;
	char mnt[PATH_MAX];
};

void viewd_init(struct viewd *d);

/*
 * Fork and exec `prog -f [--user U] --ready-fd 3 [--host H] [--format F]
 * [--disk D | --disk-fd N:D | --raw-fd N:D]... MNT` (disk_fds[i] at VIEWD_FD_DISK0 + i,
 * nothing else inherited but stdio and the ready byte's pipe) in its own process group (a terminal's Ctrl-C reaches the parent
 * alone, which stops the daemon in order), stdin and stdout on /dev/null,
 * PR_SET_PDEATHSIG(SIGTERM) (a parent killed outright still gets its mount
 * removed by the daemon), default signal handlers and an empty signal mask
 * (whatever the parent blocks, SIGTERM must reach the daemon).  Then wait up
 * to timeout_ms for the ready byte with *wait_mask as the mask (so the
 * caller's handlers may run); the caller's mask is back on return.
 * 0, or -errno with d->pid set while the child lives: -ETIMEDOUT, -EIO (it
 * ended first: d->reaped and d->status say how).
 */
int viewd_start(struct viewd *d, const struct viewd_spec *s, const sigset_t *wait_mask,
		int timeout_ms);

/* The argument vector viewd_start runs (for --dry-run plans).  0 or -ENOMEM. */
int viewd_argv(const struct viewd_spec *s, struct argv *a);

/* The caller reaped the daemon itself (a waitpid(-1) loop) with status. */
void viewd_reaped(struct viewd *d, int status);

/* Async-signal-safe: true when the daemon has died (reaped here if need be). */
bool viewd_died(struct viewd *d);

/* "exited with status N" / "was killed by signal N (NAME)" for d->status. */
void viewd_how(const struct viewd *d, char *buf, size_t len);

/*
 * Async-signal-safe and idempotent: SIGTERM, reap (SIGKILL after wait_ms),
 * then, with detach, detach the mount unless the daemon exited 0 (it
 * unmounted itself) and we are not root (as root a second lazy umount2 costs
 * nothing).  Without detach only the process goes: a caller that no longer
 * holds the VM must not touch a mount point the next holder may be using.
 * Returns 1 when SIGKILL was needed, 0, or -errno from the unmount.
 */
int viewd_stop(struct viewd *d, int wait_ms, bool detach);

#endif
