/* rundir.c: a VM's runtime directory for every program: lock, holder, pid records, stale views, clean-up. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monotime.h"
#include "procfile.h"
#include "rundir.h"

const char *rundir_base(char *buf, size_t len)
{
	const char *set = getenv("KVMLOAD_RUN_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");

	if (set && set[0] == '/' && (size_t)snprintf(buf, len, "%s", set) < len)
		return buf;
	if (geteuid() == 0 || !xdg || xdg[0] != '/' ||
	    (size_t)snprintf(buf, len, "%s/kvmload", xdg) >= len)
		snprintf(buf, len, "%s", RUNDIR_BASE);
	return buf;
}

int rundir_path(char *buf, size_t len, const char *base, const char *vm, const char *leaf)
{
	int n = leaf ? snprintf(buf, len, "%s/%s/%s", base, vm, leaf)
		     : snprintf(buf, len, "%s/%s", base, vm);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * BASE/.VM.lock: beside the VM's directory, named so that no VM's directory
 * can be it (a VM named "x.lock" next to VM "x": names never start with a dot).
 */
static int rundir_lock_path(char *path, size_t len, const char *base, const char *vm)
{
	return (size_t)snprintf(path, len, "%s/.%s.lock", base, vm) < len ? 0 : -ENAMETOOLONG;
}

int rundir_lock(const char *base, const char *vm)
{
	char path[4096];
	struct stat st;
	int fd;

	/* The system-wide base is world-readable like /run; a user's own stays private. */
	if (mkdir(base, strcmp(base, RUNDIR_BASE) == 0 ? 0755 : 0700) < 0 && errno != EEXIST)
		return -errno;
	if (rundir_lock_path(path, sizeof(path), base, vm) < 0)
		return -ENAMETOOLONG;
	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				int e = errno;

				close(fd);
				return -e;
			}
		}
		if (fstat(fd, &st) < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		if (st.st_nlink > 0)
			return fd;
		close(fd); /* the previous holder unlinked it: lock the new file */
	}
}

void rundir_unlock(const char *base, const char *vm, int fd)
{
	char path[4096];

	if (fd < 0)
		return;
	if (rundir_lock_path(path, sizeof(path), base, vm) == 0)
		unlink(path);
	close(fd);
}

/* "PID PROGRAM" from an open holder file. */
static void rundir_holder_read(int fd, struct rundir_holder *who)
{
	char text[64];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	int pid = 0, end = 0;

	text[n > 0 ? n : 0] = '\0';
	who->pid = -1;
	snprintf(who->prog, sizeof(who->prog), "unknown");
	if (sscanf(text, "%d %n", &pid, &end) >= 1 && pid > 0) {
		who->pid = pid;
		if (text[end])
			snprintf(who->prog, sizeof(who->prog), "%.*s", (int)strcspn(text + end, " \n"),
				 text + end);
	}
}

int rundir_holder(const char *base, const char *vm, struct rundir_holder *who)
{
	char path[4096];
	int fd, held;

	if (rundir_path(path, sizeof(path), base, vm, RUNDIR_HOLDER) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* The holder keeps LOCK_EX for its life: a shared lock we can take means nobody is there. */
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	if (held)
		rundir_holder_read(fd, who);
	close(fd);
	return held;
}

/* BASE/VM, ours and private; made if missing.  An fd of it, or -errno. */
static int rundir_dir(const char *base, const char *vm)
{
	char path[4096];
	struct stat st;
	int fd;

	if (rundir_path(path, sizeof(path), base, vm, NULL) < 0)
		return -ENAMETOOLONG;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Somebody else's directory would give them our mount and our records. */
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int rundir_claim(const char *base, const char *vm, const char *prog, struct rundir_holder *who)
{
	int dir = -1, fd = -1, e = EAGAIN;

	/* Under the lock nobody else takes or clears the file, but a leaving holder may unlink it. */
	for (int tries = 0; tries < 16; tries++) {
		struct stat held, now;

		if (dir < 0 && (dir = rundir_dir(base, vm)) < 0)
			return dir;
		fd = openat(dir, RUNDIR_HOLDER, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno == ENOENT) {
			/* The leaving holder removed the directory itself: make it again. */
			close(dir);
			dir = -1;
			continue;
		}
		if (fd < 0) {
			e = errno;
			break;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			e = errno;
			if (e == EWOULDBLOCK)
				rundir_holder_read(fd, who);
			close(fd);
			close(dir);
			return e == EWOULDBLOCK ? -EBUSY : -e;
		}
		if (fstat(fd, &held) == 0 && fstatat(dir, RUNDIR_HOLDER, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    held.st_dev == now.st_dev && held.st_ino == now.st_ino) {
			errno = EIO;
			if (ftruncate(fd, 0) < 0 || dprintf(fd, "%ld %s\n", (long)getpid(), prog) < 0) {
				e = errno;
				close(fd);
				break;
			}
			close(dir);
			return fd;
		}
		close(fd);
	}
	if (dir >= 0)
		close(dir);
	return -e;
}

bool rundir_owns(const char *base, const char *vm, int claim_fd)
{
	char path[4096];
	struct stat a, b;

	return rundir_path(path, sizeof(path), base, vm, RUNDIR_HOLDER) == 0 &&
	       stat(path, &a) == 0 && fstat(claim_fd, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int rundir_unmount(const char *path)
{
	static char *const envp[] = { NULL };
	char mnt[4096];
	size_t n = strlen(path);
	int status = 0;
	pid_t p;

	if (umount2(path, MNT_DETACH) == 0 || errno == EINVAL || errno == ENOENT)
		return 0;
	if (errno != EPERM)
		return -errno;
	if (n >= sizeof(mnt))
		return -ENAMETOOLONG;
	memcpy(mnt, path, n + 1); /* exec's argv is not const */
	/* _Fork, not fork: this runs from signal handlers, where fork's atfork locks may be held. */
	p = _Fork();
	if (p < 0)
		return -errno;
	if (p == 0) {
		char *const argv[] = { "fusermount3", "-u", "-z", "-q", mnt, NULL };

		execve("/usr/bin/fusermount3", argv, envp);
		execve("/bin/fusermount3", argv, envp);
		_exit(127);
	}
	while (waitpid(p, &status, 0) < 0 && errno == EINTR)
		;
	/* fusermount3 fails for a path with nothing mounted, which is what we want anyway. */
	return 0;
}

int rundir_clear_view(const char *base, const char *vm, int wait_ms, pid_t *fs_pid)
{
	char dirpath[4096], view[4096];
	struct stat dir, mnt;
	int fd;

	if (rundir_path(dirpath, sizeof(dirpath), base, vm, NULL) < 0 ||
	    rundir_path(view, sizeof(view), base, vm, RUNDIR_VIEW) < 0)
		return -ENAMETOOLONG;
	fd = rundir_pidfd(base, vm, RUNDIR_FS);
	if (fd >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		/* Its holder is gone: the daemon is nobody's, and leaves on SIGTERM, unmounting. */
		*fs_pid = rundir_read_pid(base, vm, RUNDIR_FS);
		syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0);
		monotime_poll(&p, 1, wait_ms);
		close(fd);
		if (!(p.revents & POLLIN))
			return -EBUSY;
	}
	if (lstat(dirpath, &dir) < 0 || lstat(view, &mnt) < 0)
		return 0;
	/* view/ on the directory's own file system: nothing mounted there. */
	if (mnt.st_dev == dir.st_dev)
		return 0;
	return rundir_unmount(view);
}

/* Field 22 of /proc/PID/stat: the start time, which tells a recycled pid from the original. */
static int rundir_starttime(pid_t pid, unsigned long long *out)
{
	char path[64], buf[1024], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = procfile_read(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	if (!p)
		return -EIO;
	for (int field = 2; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EIO;
	}
	return sscanf(p + 1, "%llu", out) == 1 ? 0 : -EIO;
}

int rundir_write(const char *base, const char *vm, const char *leaf, const char *text)
{
	char path[4096], tmp[4096 + 8];
	size_t len = strlen(text);
	int fd, r = 0;

	if (rundir_path(path, sizeof(path), base, vm, leaf) < 0)
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s" RUNDIR_TMP, path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	errno = 0;
	if (write(fd, text, len) != (ssize_t)len)
		r = errno ? -errno : -EIO; /* a short write leaves errno alone */
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int rundir_write_pid(const char *base, const char *vm, const char *leaf, pid_t pid)
{
	unsigned long long start = 0;
	char text[64];
	int r = rundir_starttime(pid, &start);

	if (r < 0)
		return r;
	snprintf(text, sizeof(text), "%d %llu\n", (int)pid, start);
	return rundir_write(base, vm, leaf, text);
}

static int rundir_read_record(const char *base, const char *vm, const char *leaf, int *pid,
			      unsigned long long *start)
{
	char path[4096];
	FILE *f;
	int n;

	if (rundir_path(path, sizeof(path), base, vm, leaf) < 0)
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fscanf(f, "%d %llu", pid, start);
	fclose(f);
	return n >= 1 && *pid > 0 ? n : -EINVAL;
}

pid_t rundir_read_pid(const char *base, const char *vm, const char *leaf)
{
	unsigned long long start;
	int pid;

	return rundir_read_record(base, vm, leaf, &pid, &start) > 0 ? pid : -1;
}

int rundir_pidfd(const char *base, const char *vm, const char *leaf)
{
	unsigned long long start, now;
	int pid, fd, r;

	r = rundir_read_record(base, vm, leaf, &pid, &start);
	if (r < 0)
		return r;
	if (r < 2)
		return -EINVAL;
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	/* Checked after the pidfd pins the process: it cannot be recycled behind our back now. */
	if (rundir_starttime(pid, &now) < 0 || now != start) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

int rundir_each(const char *base, int (*fn)(const char *vm, void *arg), void *arg)
{
	DIR *d = opendir(base);
	struct dirent *e;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (r == 0 && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		struct stat st;
		bool dir = e->d_type == DT_DIR;

		/* The state locks, ".VM.lock": no VM name starts with a dot, so none is a VM's directory. */
		if (e->d_name[0] == '.' && n > 6 && strcmp(e->d_name + n - 5, ".lock") == 0) {
			char vm[256];

			snprintf(vm, sizeof(vm), "%.*s", (int)(n - 6), e->d_name + 1);
			r = fn(vm, arg);
			continue;
		}
		if (e->d_name[0] == '.')
			continue;
		/* Some file systems do not fill d_type in. */
		if (e->d_type == DT_UNKNOWN)
			dir = fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			      S_ISDIR(st.st_mode);
		if (dir)
			r = fn(e->d_name, arg);
	}
	closedir(d);
	return r;
}
