/* confine.h: the one way kvmload's programs give up privilege (the unprivileged user, capabilities, no_new_privs) and confine a process (Landlock, a seccomp allowlist). */
#ifndef KVMLOAD_CONFINE_H
#define KVMLOAD_CONFINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/landlock.h>
#include <sys/types.h>

/* File rights newer than the build host's linux/landlock.h (ABI 3, 5), for confine_path.access. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

/* The system user that parses guest bytes and runs guest code; setup.sh and sysusers.d create it. */
#define CONFINE_USER_DEFAULT "kvmload"
#define CONFINE_USER_MAX 32

/* Who a confined process runs as. */
struct confine_user {
	bool drop;  /* we are root: become uid/gid below; false: not root, nothing to change */
	char name[CONFINE_USER_MAX + 1];
	uid_t uid;
	gid_t gid;
};

/*
 * Before fork (NSS is not async-signal-safe): the user a confined child
 * becomes.  name NULL means CONFINE_USER_DEFAULT.  As root the user must
 * exist (-ENOENT) and not be root (uid or gid 0: -EPERM); not as root no
 * user is changed (u->drop false) and a name other than our own is -EPERM.
 * The message in err names the user and what to do.
 */
int confine_user(const char *name, struct confine_user *u, char *err, size_t errlen);

/*
 * Async-signal-safe (a forked child): when u->drop, supplementary groups
 * exactly groups[0..ngroups), then the gid and the uid (real, effective,
 * saved); then every capability is cleared (confine_caps with none kept)
 * and no_new_privs is set.  0 or -errno.  A change of uid clears the
 * parent-death signal: arm it again after this.
 */
int confine_drop(const struct confine_user *u, const gid_t *groups, int ngroups);

/*
 * Async-signal-safe: keep[0..nkeep) (CAP_* numbers) stay effective and
 * permitted, every other capability leaves every set; the bounding set is
 * cut where we may (CAP_SETPCAP), the ambient set cleared.  0 or -errno.
 */
int confine_caps(const int *keep, int nkeep);

/* One Landlock rule: fd (any descriptor of a directory or file) and the rights beneath it. */
struct confine_path {
	int fd;
	uint64_t access; /* LANDLOCK_ACCESS_FS_*; rights this kernel lacks are dropped */
};

/* The kernel's Landlock ABI version; 0 when it has none. */
int confine_landlock_abi(void);

/*
 * Async-signal-safe: from now on this process (and what it starts) may
 * reach files only as rules[0..nrules) allow, for every right this
 * kernel's Landlock knows; on ABI 6 and later it may also not signal
 * processes outside its domain or connect to abstract sockets.  Only the
 * calling thread is restricted: call it before starting threads.  0
 * (nothing done when the kernel has no Landlock), or -errno.
 */
int confine_landlock(const struct confine_path *rules, int nrules);

/* One system call an allowlist lets through, and why. */
struct confine_call {
	int nr;
	const char *name;
	unsigned tags;     /* the row counts only when every tag is asked for (0: always) */
	int arg;           /* -1: any arguments; else the argument checked: */
	unsigned mask, eq; /*   allowed when (low 32 bits of arg & mask) == eq */
	const char *why;
};

#define CONFINE_ANY(call, tags, why) { __NR_##call, #call, tags, -1, 0, 0, why }
#define CONFINE_ARG(call, tags, a, m, e, why) { __NR_##call, #call, tags, a, m, e, why }

/* Distinct system calls in t (a call allowed for several argument values counts once). */
size_t confine_calls_count(const struct confine_call *t, size_t n);

/*
 * Async-signal-safe: install t[0..n) (the rows whose tags are all in
 * tags) as a seccomp filter on every thread of the process; any other call,
 * another architecture or x32 kills the process with SIGSYS.  Needs
 * no_new_privs or CAP_SYS_ADMIN.  0 or -errno.
 */
int confine_seccomp(const struct confine_call *t, size_t n, unsigned tags);

#endif
