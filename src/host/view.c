/* view.c: kvmload's view: holding the VM's runtime directory, its kvmload-fs child there, and taking both down. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errmsg.h"
#include "log.h"
#include "paths.h"
#include "rundir.h"
#include "view.h"
#include "build_paths.h"

#define VIEW_STOP_WAIT_MS 5000 /* a daemon that ignores SIGTERM this long gets SIGKILL */

void view_init(struct view *v)
{
	memset(v, 0, sizeof(*v));
	v->root_fd = -1;
	v->rundir_fd = -1;
	v->claim_fd = -1;
	viewd_init(&v->d);
}

void view_fs_program(char *buf, size_t len)
{
	paths_find(buf, len, "KVMLOAD_FS", VIEW_BUILD_DIR, VIEW_FS_BUILD, "kvmload-fs", VIEW_FS_INSTALLED);
}

void view_sigset(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGINT);
	sigaddset(s, SIGTERM);
	sigaddset(s, SIGHUP);
	sigaddset(s, SIGQUIT);
	sigaddset(s, SIGCHLD);
}

/* Not root and no $XDG_RUNTIME_DIR: /run/kvmload is likely root's, so say where else to look. */
static const char *view_hint(const struct view *v)
{
	return geteuid() != 0 && strcmp(v->base, RUNDIR_BASE) == 0
		       ? " (not as root, the runtime directory is under $XDG_RUNTIME_DIR, which is unset)"
		       : "";
}

/* Async-signal-safe: our claim on the VM goes, its holder file with it. */
static void view_let_go(struct view *v)
{
	if (v->rundir_fd >= 0) {
		unlinkat(v->rundir_fd, RUNDIR_HOLDER, 0);
		close(v->rundir_fd);
		v->rundir_fd = -1;
	}
	if (v->claim_fd >= 0)
		close(v->claim_fd);
	v->claim_fd = -1;
}

/* BASE/VM/disk: the disks' names, one a line, so kvmload-hotplug list can say what we run from. */
static int view_record_disks(const struct view *v, const struct view_spec *s)
{
	char *text = NULL;
	size_t len;
	FILE *f;
	int r;

	/* No disk: none recorded, not even one a holder that was killed outright left. */
	if (s->ndisks == 0)
		return unlinkat(v->rundir_fd, RUNDIR_DISK, 0) < 0 && errno != ENOENT ? -errno : 0;
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	for (int i = 0; i < s->ndisks; i++)
		fprintf(f, "%s\n", s->disks[i]);
	r = fclose(f) == 0 ? rundir_write(v->base, v->vmname, RUNDIR_DISK, text) : -ENOMEM;
	free(text);
	return r;
}

/*
 * Under the VM's lock: hold base/<vm> for us, or say who does.  A view left
 * by a holder that is gone is cleared here, by rundir's rule.
 */
static int view_hold(struct view *v, sigset_t *wait_mask, char *err, size_t errlen)
{
	struct rundir_holder who;
	sigset_t held;
	pid_t fs = -1;
	int lock, r;

	/* The lock may be held for a while by kvmload-hotplug starting this VM: let signals in. */
	sigprocmask(SIG_SETMASK, wait_mask, &held);
	lock = rundir_lock(v->base, v->vmname);
	sigprocmask(SIG_SETMASK, &held, NULL);
	if (lock < 0)
		return errmsg_set(err, errlen, -lock, "%s/%s.lock: %s%s", v->base, v->vmname,
				  strerror(-lock), view_hint(v));
	r = rundir_claim(v->base, v->vmname, "kvmload", &who);
	if (r == -EBUSY)
		r = errmsg_set(err, errlen, EBUSY, "vm %s is held by %s (pid %ld, %s/%s)",
			       v->vmname, who.prog, (long)who.pid, v->rundir, RUNDIR_HOLDER);
	else if (r == -EPERM)
		r = errmsg_set(err, errlen, EPERM, "%s: not owned by uid %u, or open to others",
			       v->rundir, (unsigned)geteuid());
	else if (r < 0)
		r = errmsg_set(err, errlen, -r, "%s: %s%s", v->rundir, strerror(-r), view_hint(v));
	if (r >= 0) {
		int guest;

		v->claim_fd = r;
		v->rundir_fd = open(v->rundir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* A supervised guest whose supervisor was killed may still be powering down. */
		guest = v->rundir_fd < 0 ? -1 : rundir_pidfd(v->base, v->vmname, RUNDIR_GUEST);
		if (guest >= 0) {
			close(guest);
			r = errmsg_set(err, errlen, EBUSY,
				       "vm %s: its last guest (kvmload pid %ld, %s/%s) still runs, with "
				       "nobody holding it; try again once it has stopped", v->vmname,
				       (long)rundir_read_pid(v->base, v->vmname, RUNDIR_GUEST), v->rundir,
				       RUNDIR_GUEST);
		} else if (v->rundir_fd < 0) {
			r = errmsg_set(err, errlen, errno, "%s: %s", v->rundir, strerror(errno));
		} else {
			r = rundir_clear_view(v->base, v->vmname, VIEW_STOP_WAIT_MS, &fs);
			if (r == -EBUSY)
				r = errmsg_set(err, errlen, EBUSY,
					       "%s is still served by kvmload-fs (pid %ld), which its "
					       "holder left and which does not stop; not unmounting it",
					       v->mnt, (long)fs);
			else if (r < 0)
				r = errmsg_set(err, errlen, -r, "%s: unmounting a stale view: %s", v->mnt,
					       strerror(-r));
		}
		/* Let go at once, records untouched: the next holder must still see them. */
		if (r < 0)
			view_let_go(v);
	}
	rundir_unlock(v->base, v->vmname, lock);
	return r;
}

int view_start(struct view *v, const struct view_spec *s, char *err, size_t errlen)
{
	const struct viewd_spec ds = { .prog = s->prog, .mnt = v->mnt, .host = s->host,
				       .disks = s->disks, .disk_fds = s->disk_fds,
				       .disk_fds_raw = true, .ndisks = s->ndisks, .user = s->user };
	sigset_t block, old;
	char how[64];
	int r;

	view_sigset(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	rundir_base(v->base, sizeof(v->base));
	if ((size_t)snprintf(v->vmname, sizeof(v->vmname), "%s", s->vmname) >= sizeof(v->vmname) ||
	    rundir_path(v->rundir, sizeof(v->rundir), v->base, s->vmname, NULL) < 0 ||
	    rundir_path(v->mnt, sizeof(v->mnt), v->base, s->vmname, RUNDIR_VIEW) < 0) {
		v->rundir[0] = '\0';
		r = errmsg_set(err, errlen, ENAMETOOLONG, "%s/%s: name too long", v->base, s->vmname);
		goto out;
	}
	r = view_hold(v, &old, err, errlen);
	if (r < 0)
		goto out;
	r = view_record_disks(v, s);
	if (r < 0) {
		r = errmsg_set(err, errlen, -r, "%s/%s: %s", v->rundir, RUNDIR_DISK, strerror(-r));
		goto out;
	}
	if (mkdirat(v->rundir_fd, RUNDIR_VIEW, 0700) < 0 && errno != EEXIST) {
		r = errmsg_set(err, errlen, errno, "%s: %s", v->mnt, strerror(errno));
		goto out;
	}
	r = viewd_start(&v->d, &ds, &old, VIEWD_READY_MS);
	if (r == -EIO) {
		viewd_how(&v->d, how, sizeof(how));
		r = errmsg_set(err, errlen, EIO, "the view daemon %s %s before its mount at %s was ready",
			       s->prog, how, v->mnt);
	} else if (r == -ETIMEDOUT) {
		r = errmsg_set(err, errlen, ETIMEDOUT, "the view daemon %s did not mount %s within %d s",
			       s->prog, v->mnt, VIEWD_READY_MS / 1000);
	} else if (r < 0) {
		r = errmsg_set(err, errlen, -r, "the view daemon %s: %s%s", s->prog, strerror(-r),
			       r == -ENOENT || r == -EACCES ? " (set KVMLOAD_FS to its path)" : "");
	} else {
		r = rundir_write_pid(v->base, v->vmname, RUNDIR_FS, v->d.pid);
		if (r < 0)
			r = errmsg_set(err, errlen, -r, "%s/%s: %s", v->rundir, RUNDIR_FS, strerror(-r));
	}
	if (r < 0)
		goto out;
	v->root_fd = open(v->mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (v->root_fd < 0)
		r = errmsg_set(err, errlen, errno, "%s: %s", v->mnt, strerror(errno));
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

int view_attach(struct view *v, const char *dir)
{
	if ((size_t)snprintf(v->mnt, sizeof(v->mnt), "%s", dir) >= sizeof(v->mnt))
		return -ENAMETOOLONG;
	v->root_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return v->root_fd < 0 ? -errno : 0;
}

bool view_child_died(struct view *v)
{
	return viewd_died(&v->d);
}

/* Async-signal-safe appending for view_report_death. */
static size_t view_put(char *buf, size_t at, size_t len, const char *s)
{
	while (*s && at + 1 < len)
		buf[at++] = *s++;
	buf[at] = '\0';
	return at;
}

static size_t view_put_num(char *buf, size_t at, size_t len, long n)
{
	char digits[24];
	int i = 0;

	do
		digits[i++] = (char)('0' + n % 10);
	while ((n /= 10) > 0 && i < (int)sizeof(digits));
	while (i > 0 && at + 1 < len)
		buf[at++] = digits[--i];
	buf[at] = '\0';
	return at;
}

void view_report_death(const struct view *v)
{
	char msg[512];
	size_t at = 0;

	at = view_put(msg, at, sizeof(msg), "kvmload: the view daemon kvmload-fs (pid ");
	at = view_put_num(msg, at, sizeof(msg), (long)v->d.pid);
	if (WIFSIGNALED(v->d.status)) {
		at = view_put(msg, at, sizeof(msg), ") was killed by signal ");
		at = view_put_num(msg, at, sizeof(msg), WTERMSIG(v->d.status));
	} else {
		at = view_put(msg, at, sizeof(msg), ") exited with status ");
		at = view_put_num(msg, at, sizeof(msg), WEXITSTATUS(v->d.status));
	}
	at = view_put(msg, at, sizeof(msg), " while the loader was running; ending the load\n");
	while (write(STDERR_FILENO, msg, at) < 0 && errno == EINTR)
		;
}

void view_down(struct view *v)
{
	viewd_stop(&v->d, VIEW_STOP_WAIT_MS, true);
	if (v->root_fd >= 0) {
		close(v->root_fd);
		v->root_fd = -1;
	}
	if (v->rundir_fd < 0)
		return; /* not ours (--view), or already cleaned up */
	/* The daemon is gone and its mount detached: its record and mount point go. */
	unlinkat(v->rundir_fd, RUNDIR_FS, 0);
	unlinkat(v->rundir_fd, RUNDIR_VIEW, AT_REMOVEDIR);
}

void view_stop(struct view *v)
{
	view_down(v);
	if (v->rundir_fd < 0)
		return;
	unlinkat(v->rundir_fd, RUNDIR_DISK, 0);
	/* --console-socket's (its server ends with kvmload); the holder file last: until it goes, nobody takes the VM. */
	unlinkat(v->rundir_fd, RUNDIR_CONSOLE, 0);
	view_let_go(v);
	/* Fails, harmlessly, when something else was put there (kvmload-hotplug's console log). */
	rmdir(v->rundir);
}
