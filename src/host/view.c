/* view.c: kvmload's view: its kvmload-fs child in the claimed runtime directory (claim.c), its death noticed, and taking it down. */
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

void view_init(struct view *v)
{
	memset(v, 0, sizeof(*v));
	v->root_fd = -1;
	v->dir_fd = -1;
	viewd_init(&v->d);
}

void view_fs_program(char *buf, size_t len)
{
	paths_find(buf, len, "KVMLOAD_FS", VIEW_BUILD_DIR, VIEW_FS_BUILD, "kvmload-fs", VIEW_FS_INSTALLED);
}

int view_start(struct view *v, const struct vm_claim *c, const struct view_spec *s, char *err,
	       size_t errlen)
{
	const struct viewd_spec ds = { .prog = s->prog, .mnt = v->mnt, .host = s->host,
				       .disks = s->disks, .disk_fds = s->disk_fds,
				       .disk_fds_raw = true, .ndisks = s->ndisks, .user = s->user };
	sigset_t block, old;
	char how[64];
	int r;

	claim_sigset(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (rundir_path(v->mnt, sizeof(v->mnt), c->base, c->vmname, RUNDIR_VIEW) < 0) {
		r = errmsg_set(err, errlen, ENAMETOOLONG, "%s/%s: name too long", c->base, c->vmname);
		goto out;
	}
	v->dir_fd = fcntl(c->dir_fd, F_DUPFD_CLOEXEC, 0);
	if (v->dir_fd < 0) {
		r = errmsg_set(err, errlen, errno, "%s: %s", c->dir, strerror(errno));
		goto out;
	}
	if (mkdirat(v->dir_fd, RUNDIR_VIEW, 0700) < 0 && errno != EEXIST) {
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
		r = rundir_write_pid(c->base, c->vmname, RUNDIR_FS, v->d.pid);
		if (r < 0)
			r = errmsg_set(err, errlen, -r, "%s/%s: %s", c->dir, RUNDIR_FS, strerror(-r));
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
	viewd_stop(&v->d, CLAIM_VIEW_STOP_MS, true);
	if (v->root_fd >= 0) {
		close(v->root_fd);
		v->root_fd = -1;
	}
	if (v->dir_fd < 0)
		return; /* not ours (--view), or already down */
	/* The daemon is gone and its mount detached: its record and mount point go. */
	unlinkat(v->dir_fd, RUNDIR_FS, 0);
	unlinkat(v->dir_fd, RUNDIR_VIEW, AT_REMOVEDIR);
	close(v->dir_fd);
	v->dir_fd = -1;
}
