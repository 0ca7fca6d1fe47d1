/* claim.c: kvmload's hold on a VM's runtime directory: taken under its state lock, with the disk record, and let go last. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "claim.h"
#include "errmsg.h"
#include "rundir.h"

void claim_init(struct vm_claim *c)
{
	memset(c, 0, sizeof(*c));
	c->dir_fd = -1;
	c->holder_fd = -1;
}

void claim_sigset(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGINT);
	sigaddset(s, SIGTERM);
	sigaddset(s, SIGHUP);
	sigaddset(s, SIGQUIT);
	sigaddset(s, SIGCHLD);
}

/* Not root and no $XDG_RUNTIME_DIR: /run/kvmload is likely root's, so say where else to look. */
static const char *claim_hint(const struct vm_claim *c)
{
	return geteuid() != 0 && strcmp(c->base, RUNDIR_BASE) == 0
		       ? " (not as root, the runtime directory is under $XDG_RUNTIME_DIR, which is unset)"
		       : "";
}

/* Async-signal-safe: our claim on the VM goes, its holder file with it. */
static void claim_let_go(struct vm_claim *c)
{
	if (c->dir_fd >= 0) {
		unlinkat(c->dir_fd, RUNDIR_HOLDER, 0);
		close(c->dir_fd);
		c->dir_fd = -1;
	}
	if (c->holder_fd >= 0)
		close(c->holder_fd);
	c->holder_fd = -1;
}

/* BASE/VM/disk: the disks' names, one a line, so kvmload-hotplug list can say what we run from. */
static int claim_record_disks(const struct vm_claim *c, const char *const *disks, int ndisks)
{
	char *text = NULL;
	size_t len;
	FILE *f;
	int r;

	/* No disk: none recorded, not even one a holder that was killed outright left. */
	if (ndisks == 0)
		return unlinkat(c->dir_fd, RUNDIR_DISK, 0) < 0 && errno != ENOENT ? -errno : 0;
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	for (int i = 0; i < ndisks; i++)
		fprintf(f, "%s\n", disks[i]);
	r = fclose(f) == 0 ? rundir_write(c->base, c->vmname, RUNDIR_DISK, text) : -ENOMEM;
	free(text);
	return r;
}

/*
 * Under the VM's lock: hold base/<vm> for us, or say who does.  A view left
 * by a holder that is gone is cleared here, by rundir's rule.
 */
static int claim_hold(struct vm_claim *c, const char *mnt, const sigset_t *wait_mask, char *err,
		      size_t errlen)
{
	struct rundir_holder who;
	sigset_t held;
	pid_t fs = -1;
	int lock, r;

	/* The lock may be held for a while by kvmload-hotplug starting this VM: let signals in. */
	sigprocmask(SIG_SETMASK, wait_mask, &held);
	lock = rundir_lock(c->base, c->vmname);
	sigprocmask(SIG_SETMASK, &held, NULL);
	if (lock < 0)
		return errmsg_set(err, errlen, -lock, "%s/%s.lock: %s%s", c->base, c->vmname,
				  strerror(-lock), claim_hint(c));
	r = rundir_claim(c->base, c->vmname, "kvmload", &who);
	if (r == -EBUSY)
		r = errmsg_set(err, errlen, EBUSY, "vm %s is held by %s (pid %ld, %s/%s)",
			       c->vmname, who.prog, (long)who.pid, c->dir, RUNDIR_HOLDER);
	else if (r == -EPERM)
		r = errmsg_set(err, errlen, EPERM, "%s: not owned by uid %u, or open to others",
			       c->dir, (unsigned)geteuid());
	else if (r < 0)
		r = errmsg_set(err, errlen, -r, "%s: %s%s", c->dir, strerror(-r), claim_hint(c));
	if (r >= 0) {
		int guest;

		c->holder_fd = r;
		c->dir_fd = open(c->dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* A supervised guest whose supervisor was killed may still be powering down. */
		guest = c->dir_fd < 0 ? -1 : rundir_pidfd(c->base, c->vmname, RUNDIR_GUEST);
		if (guest >= 0) {
			close(guest);
			r = errmsg_set(err, errlen, EBUSY,
				       "vm %s: its last guest (kvmload pid %ld, %s/%s) still runs, with "
				       "nobody holding it; try again once it has stopped", c->vmname,
				       (long)rundir_read_pid(c->base, c->vmname, RUNDIR_GUEST), c->dir,
				       RUNDIR_GUEST);
		} else if (c->dir_fd < 0) {
			r = errmsg_set(err, errlen, errno, "%s: %s", c->dir, strerror(errno));
		} else {
			r = rundir_clear_view(c->base, c->vmname, CLAIM_VIEW_STOP_MS, &fs);
			if (r == -EBUSY)
				r = errmsg_set(err, errlen, EBUSY,
					       "%s is still served by kvmload-fs (pid %ld), which its "
					       "holder left and which does not stop; not unmounting it",
					       mnt, (long)fs);
			else if (r < 0)
				r = errmsg_set(err, errlen, -r, "%s: unmounting a stale view: %s", mnt,
					       strerror(-r));
		}
		/* Let go at once, records untouched: the next holder must still see them. */
		if (r < 0)
			claim_let_go(c);
	}
	rundir_unlock(c->base, c->vmname, lock);
	return r;
}

int claim_take(struct vm_claim *c, const char *vmname, const char *const *disks, int ndisks,
	       char *err, size_t errlen)
{
	char mnt[PATH_MAX];
	sigset_t block, old;
	int r;

	claim_sigset(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	rundir_base(c->base, sizeof(c->base));
	if ((size_t)snprintf(c->vmname, sizeof(c->vmname), "%s", vmname) >= sizeof(c->vmname) ||
	    rundir_path(c->dir, sizeof(c->dir), c->base, vmname, NULL) < 0 ||
	    rundir_path(mnt, sizeof(mnt), c->base, vmname, RUNDIR_VIEW) < 0) {
		c->dir[0] = '\0';
		r = errmsg_set(err, errlen, ENAMETOOLONG, "%s/%s: name too long", c->base, vmname);
		goto out;
	}
	r = claim_hold(c, mnt, &old, err, errlen);
	if (r < 0)
		goto out;
	r = claim_record_disks(c, disks, ndisks);
	if (r < 0)
		r = errmsg_set(err, errlen, -r, "%s/%s: %s", c->dir, RUNDIR_DISK, strerror(-r));
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

void claim_drop(struct vm_claim *c)
{
	if (c->dir_fd < 0)
		return; /* not taken, or already let go */
	unlinkat(c->dir_fd, RUNDIR_DISK, 0);
	/* --console-socket's (its server ends with kvmload); the holder file last: until it goes, nobody takes the VM. */
	unlinkat(c->dir_fd, RUNDIR_CONSOLE, 0);
	claim_let_go(c);
	/* Fails, harmlessly, when something else was put there (kvmload-hotplug's console log). */
	rmdir(c->dir);
}
