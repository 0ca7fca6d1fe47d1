/* qemu_confine.c: QEMU as an unprivileged process: its user and group, its namespaces and read-only view of the host, its memory limit, and the tap kvmload attaches for it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "qemu.h"

#define MiB (1ULL << 20)

/*
 * What QEMU 7.2 maps beside the guest's RAM (VmPeak minus -m, the test
 * kernel running, -m 64M to 4G: the same at every size): 1358 MiB under TCG
 * (its code buffer alone is 1 GiB) and 334 MiB under KVM at one vCPU; each
 * further vCPU 26-58 MiB (its stack, a malloc arena).  The bases leave room
 * for the block layer's worker threads (up to 64, 8 MiB stacks each), which
 * QEMU cannot do without: a thread it fails to start aborts it.
 */
#define QEMU_AS_TCG  (2048 * MiB)
#define QEMU_AS_KVM  (1024 * MiB)
#define QEMU_AS_VCPU (64 * MiB)
#define QEMU_STACK   (8 * MiB) /* each thread's stack is RLIMIT_STACK: the figures above assume 8 MiB */

/* Hidden behind an empty tmpfs: where files are written, kept private or handed between processes
 * (kvmload's runtime directory is under /run); /dev/shm goes with /dev. */
static const char *const qemu_hidden[] = { "/tmp", "/var/tmp", "/run", "/home", "/root" };
/* The nodes of QEMU's /dev; /dev/kvm too under --accel kvm. */
static const char *const qemu_devs[] = { "null", "zero", "full", "random", "urandom", "kvm" };
#define QEMU_NDEVS (sizeof(qemu_devs) / sizeof(qemu_devs[0]))

int qemu_confine_plan(const struct qemu_spec *s, struct qemu_confine *c, char *err, size_t errlen)
{
	uint64_t base = s->accel == QEMU_ACCEL_TCG ? QEMU_AS_TCG : QEMU_AS_KVM;
	struct rlimit as;
	struct stat st;

	memset(c, 0, sizeof(*c));
	c->user = *s->user;
	c->kvm = s->accel == QEMU_ACCEL_KVM;
	c->netns = !s->net || strcmp(s->net, "user") != 0; /* user-mode NAT needs the host's network */
	c->as_limit = s->memsize + base + (uint64_t)s->cpus * QEMU_AS_VCPU;
	/* A lower limit of our own stays: the pre-flight asked QEMU whether it starts under it. */
	if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY && as.rlim_cur < c->as_limit)
		c->as_limit = as.rlim_cur;
	if (!c->kvm || !c->user.drop || stat("/dev/kvm", &st) < 0)
		return 0; /* not root, or no /dev/kvm: qemu_check says what is wrong with it */
	/* Debian's udev rule gives /dev/kvm to group kvm, 0660: that group and no other. */
	if (st.st_gid != 0) {
		c->groups[0] = st.st_gid;
		c->ngroups = 1;
	}
	if ((st.st_mode & 06) == 06 || (c->ngroups && (st.st_mode & 060) == 060) ||
	    (st.st_uid == c->user.uid && (st.st_mode & 0600) == 0600))
		return 0;
	return errmsg_set(err, errlen, EACCES, "--accel kvm: /dev/kvm (mode %04o, uid %u, gid %u) is not "
			  "usable by QEMU, which runs as %s (uid %u) with /dev/kvm's group only if that is not "
			  "root's; give /dev/kvm to a group of its own (Debian: kvm, 0660), or use --accel tcg",
			  (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid,
			  c->user.name, (unsigned)c->user.uid);
}

/* An empty tmpfs over path, when path is a directory; read-only once / is. */
static int qemu_confine_hide(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	return mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4k") < 0
		       ? -errno : 0;
}

/* A tmpfs /dev holding the host's null, zero, full, random, urandom (and kvm) as bind mounts. */
static int qemu_confine_dev(const struct qemu_confine *c)
{
	size_t ndevs = c->kvm ? QEMU_NDEVS : QEMU_NDEVS - 1;
	int tree[QEMU_NDEVS], r = 0;
	char path[32];

	/* Each node is taken (a detached copy of its mount) before the tmpfs covers the host's /dev. */
	for (size_t i = 0; i < ndevs; i++) {
		snprintf(path, sizeof(path), "/dev/%s", qemu_devs[i]);
		tree[i] = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (tree[i] < 0 && r == 0)
			r = -errno;
	}
	if (r == 0 && mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    "mode=0755,size=4k,nr_inodes=16") < 0)
		r = -errno;
	for (size_t i = 0; i < ndevs && r == 0; i++) {
		int fd;

		snprintf(path, sizeof(path), "/dev/%s", qemu_devs[i]);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || close(fd) < 0 ||
		    move_mount(tree[i], "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			r = -errno;
	}
	for (size_t i = 0; i < ndevs; i++)
		if (tree[i] >= 0)
			close(tree[i]);
	return r;
}

/* The mount namespace: nothing propagates either way, the private directories and /dev replaced, all read-only. */
static int qemu_confine_mounts(const struct qemu_confine *c)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	int r;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if ((r = qemu_confine_dev(c)) < 0)
		return r;
	for (size_t i = 0; i < sizeof(qemu_hidden) / sizeof(qemu_hidden[0]); i++)
		if ((r = qemu_confine_hide(qemu_hidden[i])) < 0)
			return r;
	/* Device nodes stay writable on a read-only mount: /dev/null and /dev/kvm still work. */
	if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof(ro)) < 0)
		return -errno;
	/* kvmload's working directory may be one just hidden: relative paths would still reach it. */
	return chdir("/") < 0 ? -errno : 0;
}

int qemu_confine_enter(const struct qemu_confine *c)
{
	struct rlimit as = { c->as_limit, c->as_limit }, stack;
	int r;

	if (c->user.drop) {
		if (unshare(CLONE_NEWNS | CLONE_NEWIPC | (c->netns ? CLONE_NEWNET : 0)) < 0)
			return -errno;
		if ((r = qemu_confine_mounts(c)) < 0)
			return r;
	}
	if (getrlimit(RLIMIT_STACK, &stack) == 0 && (stack.rlim_cur == RLIM_INFINITY || stack.rlim_cur > QEMU_STACK)) {
		stack.rlim_cur = QEMU_STACK;
		if (setrlimit(RLIMIT_STACK, &stack) < 0)
			return -errno;
	}
	if (setrlimit(RLIMIT_AS, &as) < 0)
		return -errno;
	return confine_drop(&c->user, c->groups, c->ngroups);
}

int qemu_confine_spawned(void *arg)
{
	const struct qemu_confined *q = arg;
	int r = 0;

	/* QEMU opens its log again through /proc/self/fd (-D takes a path): the pipe must be its user's. */
	if (q->conf->user.drop && q->log_fd >= 0 && fchown(q->log_fd, q->conf->user.uid, q->conf->user.gid) < 0)
		r = -errno;
	if (r == 0)
		r = qemu_confine_enter(q->conf);
	if (r < 0)
		dprintf(q->err_w, "kvmload: confining QEMU: %s\n", strerror(-r));
	return r;
}

int qemu_tap_open(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd, r;

	if (strlen(name) >= sizeof(ifr.ifr_name))
		return -EINVAL;
	memcpy(ifr.ifr_name, name, strlen(name));
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNGETIFF, &ifr) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	/* The host's taps are persistent (ip tuntap add); one that is not was made just now. */
	if (!(ifr.ifr_flags & IFF_PERSIST)) {
		close(fd);
		return -ENODEV;
	}
	return fd;
}
