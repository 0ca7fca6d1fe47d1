/* jail.c: namespaces of a child's own (user, mount, PID, network, IPC, UTS) and a root that holds only /usr. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jail.h"

/* The top-level names a program's loader and libraries are found under (links to usr/ where merged). */
static const char *const jail_usr_names[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };
static const char *const jail_devs[] = { "null", "zero", "urandom", "fuse" };

/* write(2) all of s to path: the namespace's maps and setgroups. */
static int jail_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;
	size_t n = strlen(s);

	if (fd < 0)
		return -errno;
	if (write(fd, s, n) != (ssize_t)n)
		r = -errno;
	close(fd);
	return r;
}

/* "/proc/PID/NAME" written with "0 id0 1", "1 id1 1" when id1 is another id, "2 id2 1" when id2 is one. */
static int jail_map_one(pid_t pid, const char *name, unsigned id0, unsigned id1, unsigned id2)
{
	char path[64], map[96];
	int n;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
	n = snprintf(map, sizeof(map), "0 %u 1\n", id0);
	if (id1 != id0)
		n += snprintf(map + n, sizeof(map) - (size_t)n, "1 %u 1\n", id1);
	if (id2 != (unsigned)-1)
		snprintf(map + n, sizeof(map) - (size_t)n, "2 %u 1\n", id2);
	return jail_write(path, map);
}

int jail_map(pid_t pid, uid_t uid0, gid_t gid0, uid_t uid1, gid_t gid1, gid_t group)
{
	char path[64];
	int r;

	if ((r = jail_map_one(pid, "uid_map", uid0, uid1, (unsigned)-1)) < 0)
		return r;
	/* Required before gid_map without privilege; with no group to keep, none is wanted in there. */
	snprintf(path, sizeof(path), "/proc/%ld/setgroups", (long)pid);
	if (group == (gid_t)-1 && (r = jail_write(path, "deny")) < 0)
		return r;
	return jail_map_one(pid, "gid_map", gid0, gid1, group);
}

/* src bound at JAIL_STAGE/name; read-only, nosuid and nodev beneath it too. */
static int jail_bind(const char *src, const char *name, bool dir)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID };
	char dst[64];
	int fd;

	snprintf(dst, sizeof(dst), JAIL_STAGE "/%s", name);
	if (dir ? mkdir(dst, 0755) < 0 : (fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
						 close(fd) < 0)
		return -errno;
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	/* Device nodes are what /dev is for; everywhere else they are refused too. */
	if (dir)
		attr.attr_set |= MOUNT_ATTR_NODEV;
	return syscall(SYS_mount_setattr, AT_FDCWD, dst, AT_RECURSIVE, &attr, sizeof(attr)) < 0 ? -errno : 0;
}

/* /bin, /lib... as the host has them: a link into usr/ is the same link, a directory is bound. */
static int jail_usr(void)
{
	char host[16], link[64], dst[64];
	int r;

	if ((r = jail_bind("/usr", "usr", true)) < 0)
		return r;
	for (size_t i = 0; i < sizeof(jail_usr_names) / sizeof(jail_usr_names[0]); i++) {
		struct stat st;
		ssize_t n;

		snprintf(host, sizeof(host), "/%s", jail_usr_names[i]);
		if (lstat(host, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if ((r = jail_bind(host, jail_usr_names[i], true)) < 0)
				return r;
			continue;
		}
		n = readlink(host, link, sizeof(link) - 1);
		if (n <= 0 || !S_ISLNK(st.st_mode))
			continue;
		link[n] = '\0';
		snprintf(dst, sizeof(dst), JAIL_STAGE "/%s", jail_usr_names[i]);
		if (symlink(link, dst) < 0)
			return -errno;
	}
	return 0;
}

int jail_idmap(uid_t from, gid_t gfrom, uid_t to, gid_t gto)
{
	char path[64], map[48], c;
	int up[2], hold[2], fd = -1, r = 0;
	pid_t pid;

	if (pipe2(up, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(hold, O_CLOEXEC) < 0) {
		r = -errno;
		close(up[0]);
		close(up[1]);
		return r;
	}
	/* A child makes the namespace, says so and waits (for the end of hold) while we map it and take it. */
	pid = fork();
	if (pid == 0) {
		close(up[0]);
		close(hold[1]);
		if (unshare(CLONE_NEWUSER) < 0 || write(up[1], "U", 1) != 1 || read(hold[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(up[1]);
	close(hold[0]);
	if (pid < 0 || read(up[0], &c, 1) != 1)
		r = pid < 0 ? -errno : -ECHILD;
	snprintf(path, sizeof(path), "/proc/%ld/uid_map", (long)pid);
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)from, (unsigned)to);
	if (r == 0 && (r = jail_write(path, map)) == 0) {
		snprintf(path, sizeof(path), "/proc/%ld/setgroups", (long)pid);
		r = jail_write(path, "deny");
	}
	snprintf(path, sizeof(path), "/proc/%ld/gid_map", (long)pid);
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gfrom, (unsigned)gto);
	if (r == 0)
		r = jail_write(path, map);
	snprintf(path, sizeof(path), "/proc/%ld/ns/user", (long)pid);
	if (r == 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		r = -errno;
	close(up[0]);
	close(hold[1]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return r < 0 ? r : fd;
}

int jail_unshare(void)
{
	int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;

	return unshare(flags) < 0 ? -errno : 0;
}

int jail_stage(bool group)
{
	const gid_t groups[] = { JAIL_GROUP };
	char host[32], name[32];
	int r;

	if (syscall(SYS_setgroups, group ? (size_t)1 : (size_t)0, groups) < 0 && group)
		return -errno;
	/*
	 * The jail's uid 0 (the reader outside): a caller mapped as uid 1 (root
	 * naming a reader) is not it yet.  Raw calls: a forked child.
	 */
	if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0)
		return -errno;
	/* Nothing mounted from here on is seen outside. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("jail", JAIL_STAGE, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") < 0 ||
	    mkdir(JAIL_STAGE "/dev", 0755) < 0 || mkdir(JAIL_STAGE "/proc", 0555) < 0 ||
	    mkdir(JAIL_STAGE JAIL_RUN, 0700) < 0)
		return -errno;
	if ((r = jail_usr()) < 0)
		return r;
	for (size_t i = 0; i < sizeof(jail_devs) / sizeof(jail_devs[0]); i++) {
		snprintf(host, sizeof(host), "/dev/%s", jail_devs[i]);
		snprintf(name, sizeof(name), "dev/%s", jail_devs[i]);
		if ((r = jail_bind(host, name, false)) < 0)
			return r;
	}
	return 0;
}

int jail_finish(void)
{
	/* While the host's /proc is still in sight: the kernel mounts a new one only then. */
	if (mount("proc", JAIL_STAGE "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
	    chdir(JAIL_STAGE) < 0)
		return -errno;
	/* The stage on top of the old root, which is then detached from under it. */
	if (syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return -errno;
	return 0;
}
