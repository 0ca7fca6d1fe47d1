/* confine.c: giving up privilege and confining a process: the unprivileged user, capabilities, no_new_privs, Landlock, seccomp allowlists. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "confine.h"

/* Network rights and scopes newer than the build host's linux/landlock.h (ABI 4, 6); confine.h has the file rights. */
#define CONFINE_NET_TCP 3ULL    /* LANDLOCK_ACCESS_NET_BIND_TCP | _CONNECT_TCP */
#define CONFINE_SCOPES 3ULL     /* LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | _SIGNAL */
/* What a rule on a file (not a directory) may hold. */
#define CONFINE_FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
			     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
			     LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* landlock_ruleset_attr as of ABI 6; the size passed says how much of it the kernel reads. */
struct confine_ruleset {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

/* Syscall numbers with this bit are the x32 ABI: same arch value, other meanings. */
#define CONFINE_X32_BIT 0x40000000u

int confine_user(const char *name, struct confine_user *u, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	const char *want = name ? name : CONFINE_USER_DEFAULT;
	int r;

	memset(u, 0, sizeof(*u));
	if (strlen(want) > CONFINE_USER_MAX || !*want) {
		snprintf(err, errlen, "user '%s': not a user name (1-%d characters)", want, CONFINE_USER_MAX);
		return -EINVAL;
	}
	r = getpwnam_r(want, &pw, buf, sizeof(buf), &res);
	if (geteuid() != 0) {
		/* Already unprivileged: nothing to become, and no one else to become. */
		if (name && (!res || pw.pw_uid != getuid())) {
			snprintf(err, errlen, "--user %s: only root can run as another user", name);
			return -EPERM;
		}
		u->uid = getuid();
		u->gid = getgid();
		snprintf(u->name, sizeof(u->name), "%s", res ? pw.pw_name : "");
		return 0;
	}
	if (!res) {
		snprintf(err, errlen, "user %s %s; create it (./setup.sh, or systemd-sysusers with kvmload's "
			 "sysusers.d file) or name another with --user", want,
			 r ? strerror(r) : "does not exist");
		return -ENOENT;
	}
	if (pw.pw_uid == 0 || pw.pw_gid == 0) {
		snprintf(err, errlen, "user %s has uid %u, gid %u: guest bytes are never handled as root; "
			 "name an unprivileged user", want, (unsigned)pw.pw_uid, (unsigned)pw.pw_gid);
		return -EPERM;
	}
	u->drop = true;
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw.pw_name);
	return 0;
}

static bool confine_kept(int cap, const int *keep, int nkeep)
{
	for (int i = 0; i < nkeep; i++)
		if (keep[i] == cap)
			return true;
	return false;
}

/* The bounding set cut to keep; EPERM (no CAP_SETPCAP) leaves it as it is. */
static int confine_bounding(const int *keep, int nkeep)
{
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (!confine_kept(cap, keep, nkeep) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM)
			return -errno;
	return 0;
}

int confine_caps(const int *keep, int nkeep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int r = confine_bounding(keep, nkeep);

	if (r < 0)
		return r;
	/* Kernels before 4.3 have no ambient set: nothing to clear there. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	memset(data, 0, sizeof(data));
	for (int i = 0; i < nkeep; i++) {
		if (keep[i] < 0 || keep[i] >= 32 * _LINUX_CAPABILITY_U32S_3)
			return -EINVAL;
		data[keep[i] / 32].effective |= 1u << (keep[i] % 32);
		data[keep[i] / 32].permitted |= 1u << (keep[i] % 32);
	}
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

int confine_drop(const struct confine_user *u, const gid_t *groups, int ngroups)
{
	int r;

	if (u->drop) {
		/* Raw calls: this runs in a forked child, where glibc's set*id broadcast has no business. */
		if (syscall(SYS_setgroups, (size_t)ngroups, groups) < 0)
			return -errno;
		/* Before the uid changes: cutting the bounding set needs CAP_SETPCAP. */
		if ((r = confine_bounding(NULL, 0)) < 0)
			return r;
		if (syscall(SYS_setresgid, u->gid, u->gid, u->gid) < 0 ||
		    syscall(SYS_setresuid, u->uid, u->uid, u->uid) < 0)
			return -errno;
	}
	if ((r = confine_caps(NULL, 0)) < 0)
		return r;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

int confine_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

int confine_landlock(const struct confine_path *rules, int nrules)
{
	struct confine_ruleset attr = { 0 };
	size_t attr_size = sizeof(attr.handled_access_fs);
	int abi = confine_landlock_abi(), rfd, r = 0;

	if (abi < 1)
		return 0;
	attr.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0-12 */
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 4) {
		/* No rule allows TCP: binding and connecting are refused. */
		attr.handled_access_net = CONFINE_NET_TCP;
		attr_size = offsetof(struct confine_ruleset, scoped);
	}
	if (abi >= 5)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (abi >= 6) {
		attr.scoped = CONFINE_SCOPES;
		attr_size = sizeof(attr);
	}
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (rfd < 0)
		return -errno;
	for (int i = 0; i < nrules && r == 0; i++) {
		struct landlock_path_beneath_attr beneath = {
			.allowed_access = rules[i].access & attr.handled_access_fs,
			.parent_fd = rules[i].fd,
		};
		struct stat st;

		if (fstat(rules[i].fd, &st) < 0) {
			r = -errno;
			break;
		}
		if (!S_ISDIR(st.st_mode))
			beneath.allowed_access &= CONFINE_FILE_RIGHTS;
		if (beneath.allowed_access &&
		    syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) < 0)
			r = -errno;
	}
	if (r == 0 && syscall(SYS_landlock_restrict_self, rfd, 0) < 0)
		r = -errno;
	close(rfd);
	return r;
}

size_t confine_calls_count(const struct confine_call *t, size_t n)
{
	size_t distinct = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < i && t[j].nr != t[i].nr)
			j++;
		distinct += j == i;
	}
	return distinct;
}

/* Append one instruction (classic BPF's macros, as statements). */
#define CF_STMT(code, k) (f[at++] = (struct sock_filter)BPF_STMT(code, k))
#define CF_JUMP(code, k, jt, jf) (f[at++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define CF_LOAD(off) CF_STMT(BPF_LD | BPF_W | BPF_ABS, off)
#define CF_RET(action) CF_STMT(BPF_RET | BPF_K, action)

int confine_seccomp(const struct confine_call *t, size_t n, unsigned tags)
{
	const unsigned nr_at = offsetof(struct seccomp_data, nr);
	struct sock_filter f[7 + 6 * n];
	struct sock_fprog prog = { .filter = f };
	size_t at = 0;

	/* Classic BPF: arch check, x32 refused, one test per row, kill by default. */
	CF_LOAD(offsetof(struct seccomp_data, arch));
	CF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	CF_RET(SECCOMP_RET_KILL_PROCESS);
	CF_LOAD(nr_at);
	CF_JUMP(BPF_JMP | BPF_JGE | BPF_K, CONFINE_X32_BIT, 0, 1);
	CF_RET(SECCOMP_RET_KILL_PROCESS);
	for (size_t i = 0; i < n; i++) {
		const struct confine_call *c = &t[i];

		if ((c->tags & ~tags) != 0)
			continue;
		if (c->arg < 0) {
			CF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)c->nr, 0, 1);
			CF_RET(SECCOMP_RET_ALLOW);
			continue;
		}
		/* x86-64 is little-endian: an argument's low half comes first. */
		CF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)c->nr, 0, 5);
		CF_LOAD(offsetof(struct seccomp_data, args) + 8u * (unsigned)c->arg);
		CF_STMT(BPF_ALU | BPF_AND | BPF_K, c->mask);
		CF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, c->eq, 0, 1);
		CF_RET(SECCOMP_RET_ALLOW);
		/* A mismatch reloads the number and goes on: another row may allow the call. */
		CF_LOAD(nr_at);
	}
	CF_RET(SECCOMP_RET_KILL_PROCESS);
	prog.len = (unsigned short)at;
	/* TSYNC: every thread, so a thread started earlier is no way around the filter. */
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);

	/* Above 0: a thread that could not be synchronised (it runs another filter). */
	return r < 0 ? -errno : r > 0 ? -EAGAIN : 0;
}
