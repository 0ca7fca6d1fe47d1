/* state.c: the runtime directory: per-VM lock, supervisor claim, pid and device records, cleanup. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "state.h"

int state_path(char *buf, size_t len, const char *run, const char *vm, const char *leaf)
{
	int n = leaf ? snprintf(buf, len, "%s/%s/%s", run, vm, leaf)
		     : snprintf(buf, len, "%s/%s", run, vm);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int state_lock(const char *run, const char *vm)
{
	char path[4096];
	struct stat st;
	int fd;

	if (mkdir(run, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (snprintf(path, sizeof(path), "%s/%s.lock", run, vm) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				int e = errno;

				close(fd);
				return -e;
			}
		}
		if (fstat(fd, &st) == 0 && st.st_nlink > 0)
			return fd;
		close(fd); /* the previous holder unlinked it: lock the new file */
	}
}

void state_unlock(const char *run, const char *vm, int fd)
{
	char path[4096];

	if (fd < 0)
		return;
	if (snprintf(path, sizeof(path), "%s/%s.lock", run, vm) < (int)sizeof(path))
		unlink(path);
	close(fd);
}

bool state_exists(const char *run, const char *vm)
{
	char path[4096];
	struct stat st;

	return state_path(path, sizeof(path), run, vm, NULL) == 0 && lstat(path, &st) == 0;
}

bool state_supervised(const char *run, const char *vm)
{
	char path[4096];
	bool held;
	int fd;

	if (state_path(path, sizeof(path), run, vm, STATE_SUPERVISOR) < 0)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

static int state_write(const char *run, const char *vm, const char *leaf, const char *text)
{
	char path[4096], tmp[4096 + 8];
	size_t len = strlen(text);
	int fd, r = 0;

	if (state_path(path, sizeof(path), run, vm, leaf) < 0)
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	/* Renamed into place: a reader sees the whole record or none. */
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int state_claim(const char *run, const char *vm, const char *node, const char *disknode)
{
	char path[4096], text[64], *dev;
	int fd, r;

	if (state_path(path, sizeof(path), run, vm, NULL) < 0)
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) < 0)
		return -errno;
	if (state_path(path, sizeof(path), run, vm, STATE_SUPERVISOR) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		r = errno ? -errno : -EIO;
		close(fd);
		return r;
	}
	if (asprintf(&dev, "%s\n%s\n", node, disknode) < 0) {
		close(fd);
		return -ENOMEM;
	}
	r = state_write(run, vm, STATE_DEVICE, dev);
	free(dev);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

bool state_owns(const char *run, const char *vm, int claim_fd)
{
	char path[4096];
	struct stat a, b;

	return state_path(path, sizeof(path), run, vm, STATE_SUPERVISOR) == 0 &&
	       stat(path, &a) == 0 && fstat(claim_fd, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* Field 22 of /proc/PID/stat: the start time, which tells a recycled pid from the original. */
static int state_starttime(pid_t pid, unsigned long long *out)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
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

int state_write_pid(const char *run, const char *vm, const char *leaf, pid_t pid)
{
	unsigned long long start = 0;
	char text[64];
	int r = state_starttime(pid, &start);

	if (r < 0)
		return r;
	snprintf(text, sizeof(text), "%d %llu\n", (int)pid, start);
	return state_write(run, vm, leaf, text);
}

static int state_read_record(const char *run, const char *vm, const char *leaf, int *pid,
			     unsigned long long *start)
{
	char path[4096];
	FILE *f;
	int n;

	if (state_path(path, sizeof(path), run, vm, leaf) < 0)
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fscanf(f, "%d %llu", pid, start);
	fclose(f);
	return n >= 1 && *pid > 0 ? n : -EINVAL;
}

pid_t state_read_pid(const char *run, const char *vm, const char *leaf)
{
	unsigned long long start;
	int pid;

	return state_read_record(run, vm, leaf, &pid, &start) > 0 ? pid : -1;
}

int state_pidfd(const char *run, const char *vm, const char *leaf)
{
	unsigned long long start, now;
	int pid, fd, r;

	r = state_read_record(run, vm, leaf, &pid, &start);
	if (r < 0)
		return r;
	if (r < 2)
		return -EINVAL;
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	/* Checked after the pidfd pins the process: it cannot be recycled behind our back now. */
	if (state_starttime(pid, &now) < 0 || now != start) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

int state_device(const char *run, const char *vm, char *node, size_t nlen, char *disk, size_t dlen)
{
	char path[4096];
	FILE *f;
	int r = 0;

	if (state_path(path, sizeof(path), run, vm, STATE_DEVICE) < 0)
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(node, (int)nlen, f) || !fgets(disk, (int)dlen, f))
		r = -EINVAL;
	fclose(f);
	if (r == 0) {
		node[strcspn(node, "\n")] = '\0';
		disk[strcspn(disk, "\n")] = '\0';
	}
	return r;
}

int state_clear(const char *run, const char *vm)
{
	static const char *leaves[] = { STATE_GUEST, STATE_FS, STATE_DEVICE, STATE_CONSOLE,
					STATE_STATUS, STATE_SUPERVISOR };
	char path[4096];

	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		if (state_path(path, sizeof(path), run, vm, leaves[i]) < 0)
			return -ENAMETOOLONG;
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
	}
	if (state_path(path, sizeof(path), run, vm, STATE_VIEW) < 0)
		return -ENAMETOOLONG;
	if (rmdir(path) < 0 && errno != ENOENT)
		return -errno;
	if (state_path(path, sizeof(path), run, vm, NULL) < 0)
		return -ENAMETOOLONG;
	if (rmdir(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int state_view_gone(const char *run, const char *vm)
{
	char path[4096];

	if (state_path(path, sizeof(path), run, vm, STATE_FS) < 0)
		return -ENAMETOOLONG;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	if (state_path(path, sizeof(path), run, vm, STATE_VIEW) < 0)
		return -ENAMETOOLONG;
	if (rmdir(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int state_retire(const char *run, const char *vm, const char *status)
{
	/* The supervisor's file goes last: until then nobody takes the VM for ended. */
	static const char *leaves[] = { STATE_GUEST, STATE_FS, STATE_VIEW, STATE_SUPERVISOR };
	char path[4096];
	int r = state_write(run, vm, STATE_STATUS, status);

	for (size_t i = 0; r == 0 && i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		if (state_path(path, sizeof(path), run, vm, leaves[i]) < 0)
			return -ENAMETOOLONG;
		if ((i == 2 ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
			r = -errno;
	}
	return r;
}

int state_each(const char *run, int (*fn)(const char *vm, void *arg), void *arg)
{
	DIR *d = opendir(run);
	struct dirent *e;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (r == 0 && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		if (e->d_type == DT_DIR) {
			r = fn(e->d_name, arg);
		} else if (n > 5 && strcmp(e->d_name + n - 5, ".lock") == 0) {
			char vm[256];

			snprintf(vm, sizeof(vm), "%.*s", (int)(n - 5), e->d_name);
			r = fn(vm, arg);
		}
	}
	closedir(d);
	return r;
}
