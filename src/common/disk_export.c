/* disk_export.c: a non-raw image's guest-visible bytes: qemu-storage-daemon, jailed, reads the chain through our descriptors and serves it as one raw file over FUSE in a mount namespace of its own. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "confine.h"
#include "disk.h"
#include "errmsg.h"
#include "fdpass.h"
#include "jail.h"
#include "log.h"
#include "monotime.h"
#include "procfile.h"
#include "spawn.h"

#define DISK_EXPORT_WAIT_MS 10000 /* QEMU opening an image and mounting its export */
#define DISK_EXPORT_MNT JAIL_RUN "/disk" /* the export, in the jail */

/*
 * Every layer from the deepest backing file up: a protocol node on our
 * descriptor, which the child finds at 3 + its layer number (/proc/self/fd
 * reaches that very file, never a path again), and
 * a format node whose backing is the one below, or null: QEMU must not open
 * anything by a name it read in a header.
 */
static void disk_export_argv(const struct disk_info *d, struct argv *a)
{
	argv_add(a, "qemu-storage-daemon");
	for (int i = d->nlayers - 1; i >= 0; i--) {
		const struct disk_layer *l = &d->layer[i];
		char backing[32] = "";

		if (disk_format_cow(l->format))
			snprintf(backing, sizeof(backing), i + 1 < d->nlayers ? ",\"backing\":\"l%d\"" :
				 ",\"backing\":null", i + 1);
		argv_add(a, "--blockdev");
		argv_addf(a, "{\"driver\":\"%s\",\"node-name\":\"f%d\",\"filename\":\"/proc/self/fd/%d\","
			  "\"read-only\":true}", l->blockdev ? "host_device" : "file", i, 3 + i);
		argv_add(a, "--blockdev");
		argv_addf(a, "{\"driver\":\"%s\",\"node-name\":\"l%d\",\"file\":\"f%d\",\"read-only\":true%s}",
			  l->format, i, i, backing);
	}
	argv_add(a, "--export");
	argv_addf(a, "{\"type\":\"fuse\",\"id\":\"e\",\"node-name\":\"l0\",\"mountpoint\":\"%s\","
		  "\"growable\":false,\"writable\":false,\"allow-other\":\"off\"}", DISK_EXPORT_MNT);
}

#define DISK_EXPORT_EXEC_FAILED "kvmload-exec: "
#define DISK_EXPORT_JAIL_FAILED "kvmload-jail: "

/* What the jailed daemon runs: PID 1 of the jail, mounting nothing but its export. */
static _Noreturn void disk_export_daemon(char **argv, int prog)
{
	/* CAP_SYS_ADMIN of the jail's own namespaces alone: the export is a FUSE mount. */
	static const int keep[] = { CAP_SYS_ADMIN };
	int r;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || (r = jail_finish()) < 0 || (r = confine_caps(keep, 1)) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		dprintf(STDERR_FILENO, DISK_EXPORT_JAIL_FAILED "%s", strerror(errno));
		_exit(126);
	}
	/* Run by its descriptor, which it need not keep. */
	fcntl(prog, F_SETFD, FD_CLOEXEC);
	syscall(SYS_execveat, prog, "", argv, environ, AT_EMPTY_PATH);
	dprintf(STDERR_FILENO, DISK_EXPORT_EXEC_FAILED "%s", strerror(errno));
	_exit(127);
}

/* One byte on the keeper's socket, with a descriptor when fd >= 0. */
static int disk_export_send(int sock, char c, int fd)
{
	return fdpass_send(sock, &c, 1, fd, 0) == 1 ? 0 : -1;
}

/* One byte from the keeper's socket into *c, and the descriptor it carried into *fd (else -1); 0 at its end. */
static ssize_t disk_export_recv(int sock, char *c, int *fd)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = c, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	ssize_t n;

	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	*fd = -1;
	cm = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return n;
}

/*
 * What the keeper does once the daemon runs: wait for it, and open the
 * export when asked ('O') and send it back (FUSE lets only the user the
 * export belongs to open it: the jail's uid 0).  Its end, with the daemon's.
 */
static _Noreturn void disk_export_keep(int sock, pid_t daemon)
{
	struct pollfd p[2] = { { .fd = (int)syscall(SYS_pidfd_open, daemon, 0), .events = POLLIN },
			       { .fd = sock, .events = POLLIN } };
	int status, fd;
	char c;

	while (p[0].fd >= 0 && !(p[0].revents & POLLIN)) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (!(p[1].revents & (POLLIN | POLLHUP)))
			continue;
		if (disk_export_recv(sock, &c, &fd) <= 0) {
			p[1].fd = -1; /* the parent is done asking */
			continue;
		}
		fd = open(DISK_EXPORT_MNT, O_RDONLY | O_CLOEXEC);
		disk_export_send(sock, fd < 0 ? (char)errno : 0, fd);
		if (fd >= 0)
			close(fd);
	}
	while (waitpid(daemon, &status, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* What the keeper is given, at the numbers spawn_child placed. */
struct disk_export_jail {
	char **argv;
	int nlayers;
	pid_t parent;
};

/*
 * The jail's keeper (spawn_child placed stdin and stdout on /dev/null,
 * stderr the pipe, the layers at 3 on, the program and our socket after
 * them, nothing else): namespaces of its own, mapped by us ('U', then 'M'),
 * in which it forks the daemon.  Its death (a SIGKILL from
 * disk_export_stop, ours) takes the daemon along.
 */
static int disk_export_child(void *arg)
{
	const struct disk_export_jail *j = arg;
	int n = j->nlayers, sock = 4 + n, fd, r;
	sigset_t none;
	pid_t pid;
	char c;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fcntl(sock, F_SETFD, FD_CLOEXEC);
	prctl(PR_SET_NAME, "kvmload-jail");
	r = jail_unshare();
	if (r == 0 && (disk_export_send(sock, 'U', -1) < 0 || disk_export_recv(sock, &c, &fd) != 1 ||
		       (c != 'M' && c != 'G')))
		_exit(126); /* the parent said why */
	if (r == 0)
		r = jail_stage(c == 'G');
	/* jail_stage's change of uid cleared the parent-death signal: again, and the parent still there. */
	if (r == 0 && spawn_deathsig(j->parent, SIGKILL) < 0)
		_exit(126);
	fd = r < 0 ? -1 : open(JAIL_STAGE DISK_EXPORT_MNT, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (r < 0 || fd < 0 || close(fd) < 0 || (pid = fork()) < 0) {
		dprintf(STDERR_FILENO, DISK_EXPORT_JAIL_FAILED "%s", strerror(r < 0 ? -r : errno));
		_exit(126);
	}
	if (pid == 0)
		disk_export_daemon(j->argv, 3 + n);
	disk_export_keep(sock, pid);
}

/* The keeper started (spawn_child: its own group, SIGTERM when we die); d->exporter set.  0 or -errno. */
static int disk_export_fork(struct disk_info *d, const int *layers, char **argv, int err_w, int prog, int sock)
{
	int want[5 + DISK_MAX_LAYERS] = { SPAWN_FD_NULL, SPAWN_FD_NULL, err_w }, n = d->nlayers, r;
	struct disk_export_jail j = { .argv = argv, .nlayers = n, .parent = getpid() };
	struct spawn_spec spec = { .fds = want, .nfds = 5 + n, .deathsig = SIGTERM, .own_pgrp = true,
				   .in_child = disk_export_child, .arg = &j };
	struct spawn_proc p;

	memcpy(want + 3, layers, n * sizeof(*layers));
	want[3 + n] = prog;
	want[4 + n] = sock;
	r = spawn_child(&spec, &p);
	spawn_release(&p);
	d->exporter = p.pid;
	return r;
}

/* QEMU's complaint without its program name and our JSON: the text after the last "}: ". */
static void disk_export_why(char *text, char *buf, size_t len)
{
	char *p = text, *nl;
	size_t n;

	for (char *q; (q = strstr(p, "}: ")) != NULL;)
		p = q + 3;
	if (p == text && !strncmp(p, "qemu-storage-daemon: ", 21))
		p += 21;
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	if (!*p)
		p = "no message";
	n = strlen(p) < len ? strlen(p) : len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

/* The program is not there (why: the exec's or the search's error). */
static int disk_export_missing(const struct disk_info *d, const char *why, char *err, size_t errlen)
{
	const char *q = getenv("KVMLOAD_QSD");

	return errmsg_set(err, errlen, ENOPKG, "%s: %s; a %s image is read by QEMU's qemu-storage-daemon: "
			  "install Debian's qemu-system-common (with qemu-system-x86) or set KVMLOAD_QSD",
			  q && *q ? q : "qemu-storage-daemon", why, d->layer[0].format);
}

/* The daemon ended before its export was up: not there, no jail, or QEMU's reason. */
static int disk_export_ended(const struct disk_info *d, const struct confine_user *reader, int status, char *text,
			     char *err, size_t errlen)
{
	char *exec_failed = strstr(text, DISK_EXPORT_EXEC_FAILED), *jail_failed = strstr(text, DISK_EXPORT_JAIL_FAILED);
	char why[1200];

	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && exec_failed)
		return disk_export_missing(d, exec_failed + strlen(DISK_EXPORT_EXEC_FAILED), err, errlen);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 126 && jail_failed)
		return errmsg_set(err, errlen, ENOPKG, "qemu-storage-daemon runs in namespaces of its own (user, "
				  "mount, PID, network), which this host refused: %s (see user_namespaces(7))",
				  jail_failed + strlen(DISK_EXPORT_JAIL_FAILED));
	disk_export_why(text, why, sizeof(why));
	if (strstr(why, strerror(EACCES)) && reader && reader->drop)
		return errmsg_set(err, errlen, EMEDIUMTYPE, "QEMU cannot read it as %s: %s (qemu-storage-daemon runs "
				  "as %s: a file it reads as its owner, a device through the device's group)",
				  d->layer[0].format, why, reader->name);
	return errmsg_set(err, errlen, EMEDIUMTYPE, "QEMU cannot read it as %s: %s", d->layer[0].format, why);
}

/*
 * Until the export is a FUSE mount in the jail (seen through the keeper's
 * root), the daemon ends (its standard error, our pipe, reaches end of file)
 * or the time is up.  The jail's mountinfo polls POLLPRI at every change of
 * its mount table, so the mount is seen as it happens; reading it re-arms it.
 */
static int disk_export_wait(struct disk_info *d, const struct confine_user *reader, const char *mnt, int err_r,
			    char *err, size_t errlen)
{
	char path[64], text[2048], scratch[4096];
	int mi, status, r;
	struct pollfd p[2];
	int64_t end = monotime_ms() + DISK_EXPORT_WAIT_MS;
	size_t tlen = 0;
	struct statfs fs;

	snprintf(path, sizeof(path), "/proc/%ld/mountinfo", (long)d->exporter);
	mi = open(path, O_RDONLY | O_CLOEXEC);
	p[0] = (struct pollfd){ .fd = mi, .events = POLLPRI };
	p[1] = (struct pollfd){ .fd = err_r, .events = POLLIN };
	for (;;) {
		int64_t left = end - monotime_ms();

		if (statfs(mnt, &fs) == 0 && fs.f_type == FUSE_SUPER_MAGIC) {
			r = 0;
			break;
		}
		if (p[1].fd < 0) {
			while (waitpid(d->exporter, &status, 0) < 0 && errno == EINTR)
				;
			d->exporter = -1;
			text[tlen] = '\0';
			r = disk_export_ended(d, reader, status, text, err, errlen);
			break;
		}
		if (left <= 0) {
			r = errmsg_set(err, errlen, ETIMEDOUT, "qemu-storage-daemon did not serve it "
				       "within %d s", DISK_EXPORT_WAIT_MS / 1000);
			break;
		}
		/* Before the jail has its namespace (or without /proc), a look every millisecond. */
		if (poll(p, 2, mi < 0 ? 1 : (int)left) < 0 && errno != EINTR) {
			r = errmsg_set(err, errlen, errno, "poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents && lseek(mi, 0, SEEK_SET) == 0)
			while (read(mi, scratch, sizeof(scratch)) > 0)
				;
		if (p[1].revents) {
			ssize_t n = read(err_r, text + tlen, sizeof(text) - 1 - tlen);

			if (n <= 0)
				p[1].fd = -1;
			else if ((tlen += (size_t)n) == sizeof(text) - 1)
				tlen = 0; /* only the end matters */
		}
	}
	if (mi >= 0)
		close(mi);
	return r;
}

/*
 * Each layer as the daemon gets it: on a read-only clone of its mount, so
 * reopening it for writing fails even where the file's mode would let the
 * jail's uid write it, and, when the daemon runs as a reader, idmapped so
 * the file's owner is the reader (it reads what we could open, and only
 * that); -1 (the layer's own descriptor) where we may not clone mounts (not
 * root: the jail is then the caller's uid, which writes what it owns
 * anyway).  A device is left its device access.
 */
static int disk_export_layer(const struct disk_layer *l, const struct confine_user *reader)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC |
						(l->blockdev ? 0 : MOUNT_ATTR_NODEV) };
	int t = (int)syscall(SYS_open_tree, l->fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH), ns = -1;
	struct stat st;

	if (t >= 0 && reader && reader->drop && fstat(l->fd, &st) == 0 &&
	    (ns = jail_idmap(st.st_uid, st.st_gid, reader->uid, reader->gid)) >= 0) {
		struct mount_attr idmap = attr;

		idmap.attr_set |= MOUNT_ATTR_IDMAP;
		idmap.userns_fd = (uint64_t)ns;
		/* A file system without idmapped mounts: the plain clone, and the file's mode decides. */
		if (syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH, &idmap, sizeof(idmap)) == 0)
			attr.attr_set = 0;
		close(ns);
	}
	if (t >= 0 && attr.attr_set && syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		close(t);
		t = -1;
	}
	return t;
}

/*
 * A block device among the layers that the reader may open only through
 * its group (a device node has no idmapped mounts): that group, else -1.
 */
static gid_t disk_export_group(const struct disk_info *d, const struct confine_user *reader)
{
	for (int i = 0; i < d->nlayers; i++) {
		struct stat st;

		if (d->layer[i].blockdev && fstat(d->layer[i].fd, &st) == 0 && st.st_uid != reader->uid &&
		    (st.st_mode & 04) == 0 && (st.st_mode & 040) && st.st_gid != 0)
			return st.st_gid;
	}
	return (gid_t)-1;
}

/*
 * The keeper's jail, once it has its namespaces ('U'), mapped ('M', or 'G'
 * with a device's group): its daemon runs as the reader (when root names
 * one) or as us, and we, when another user, are its uid 1, so FUSE serves
 * our reads too.
 */
static int disk_export_map(struct disk_info *d, const struct confine_user *reader, int sock, char *err,
			   size_t errlen)
{
	uid_t me = geteuid();
	gid_t my_gid = getegid();
	bool other = reader && reader->drop;
	gid_t group;
	char c;
	int fd, r;

	if (disk_export_recv(sock, &c, &fd) != 1 || c != 'U')
		return 0; /* it ended first, and said why on its standard error */
	group = other ? disk_export_group(d, reader) : (gid_t)-1;
	r = jail_map(d->exporter, other ? reader->uid : me, other ? reader->gid : my_gid, me, my_gid, group);
	if (r < 0)
		return errmsg_set(err, errlen, -r, "qemu-storage-daemon's jail: mapping its users: %s", strerror(-r));
	return disk_export_send(sock, group == (gid_t)-1 ? 'M' : 'G', -1) < 0 ? errmsg_set(err, errlen, errno, "qemu-storage-daemon's "
								  "jail: %s", strerror(errno)) : 0;
}

/*
 * The export, opened by the keeper (as the jail's uid 0, to whom FUSE gives
 * it) and sized by seeking: the reader may stat it, we may only read it.
 */
static int disk_export_fetch(struct disk_info *d, int sock, char *err, size_t errlen)
{
	off_t end;
	char c;
	int fd;

	if (disk_export_send(sock, 'O', -1) < 0 || disk_export_recv(sock, &c, &fd) != 1)
		return errmsg_set(err, errlen, EIO, "its export: qemu-storage-daemon's jail went away");
	if (fd < 0)
		return errmsg_set(err, errlen, c, "its export: %s", strerror(c));
	end = lseek(fd, 0, SEEK_END);
	if (end < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return errmsg_set(err, errlen, errno, "its export: %s", strerror(errno));
	}
	d->fd = fd;
	d->size = (uint64_t)end;
	return 0;
}

int disk_export(struct disk_info *d, const struct confine_user *reader, char *err, size_t errlen)
{
	const char *q = getenv("KVMLOAD_QSD");
	char prog_path[4096], mnt[64];
	struct argv a = { 0 };
	int p[2] = { -1, -1 }, sock[2] = { -1, -1 }, layers[DISK_MAX_LAYERS], prog, r;

	/* The jail sees only /usr: the program is found and opened here, and run by its descriptor. */
	if (argv_which(q && *q ? q : "qemu-storage-daemon", prog_path, sizeof(prog_path)) < 0)
		return disk_export_missing(d, strerror(ENOENT), err, errlen);
	prog = open(prog_path, O_PATH | O_CLOEXEC);
	if (prog < 0)
		return disk_export_missing(d, strerror(errno), err, errlen);
	for (int i = 0; i < d->nlayers; i++)
		layers[i] = disk_export_layer(&d->layer[i], reader);
	disk_export_argv(d, &a);
	if (a.oom || pipe2(p, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0) {
		r = errmsg_set(err, errlen, a.oom ? ENOMEM : errno, "its export: %s", strerror(a.oom ? ENOMEM : errno));
		goto out;
	}
	/* Never a blocked daemon: what it says past the pipe's room is lost, not waited for. */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	for (int i = 0; i < d->nlayers; i++)
		if (layers[i] < 0)
			layers[i] = d->layer[i].fd;
	r = disk_export_fork(d, layers, a.v, p[1], prog, sock[1]);
	close(p[1]);
	p[1] = -1;
	close(sock[1]);
	sock[1] = -1;
	if (r < 0) {
		r = errmsg_set(err, errlen, -r, "%s: %s", d->exporter > 0 ? "its jail's keeper" : "fork",
			       strerror(-r));
		if (d->exporter > 0)
			disk_export_stop(d);
		goto out;
	}
	/* The keeper's root is the jail's once the daemon has moved in. */
	snprintf(mnt, sizeof(mnt), "/proc/%ld/root" DISK_EXPORT_MNT, (long)d->exporter);
	r = disk_export_map(d, reader, sock[0], err, errlen);
	if (r == 0)
		r = disk_export_wait(d, reader, mnt, p[0], err, errlen);
	if (r == 0)
		r = disk_export_fetch(d, sock[0], err, errlen);
	if (r < 0) {
		disk_export_stop(d);
	} else {
		/* Kept for what the daemon says later (I/O errors), told when it is stopped. */
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		d->exporter_log = p[0];
		p[0] = -1;
	}
out:
	for (int i = 0; i < d->nlayers; i++)
		if (layers[i] >= 0 && layers[i] != d->layer[i].fd)
			close(layers[i]);
	for (int i = 0; i < 2; i++) {
		if (p[i] >= 0)
			close(p[i]);
		if (sock[i] >= 0)
			close(sock[i]);
	}
	close(prog);
	argv_free(&a);
	return r;
}

void disk_export_stop(struct disk_info *d)
{
	char text[4096];
	ssize_t n;

	if (d->exporter > 0) {
		char path[64], kids[64];

		/*
		 * SIGKILL: the daemon only ever read (nothing to flush), its mount is
		 * in its jail, and the kernel drops its image locks as it dies; a
		 * SIGTERM'd QEMU takes ~5 ms to close its block layer, on the boot path.
		 * The daemon first (the keeper's one child), so the keeper reaps it and
		 * ends, and no orphan is left for init; the keeper at once if that fails.
		 */
		snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)d->exporter, (long)d->exporter);
		if (procfile_read(path, kids, sizeof(kids)) < 0 || kill((pid_t)atol(kids), SIGKILL) < 0)
			kill(d->exporter, SIGKILL);
		while (waitpid(d->exporter, NULL, 0) < 0 && errno == EINTR)
			;
		d->exporter = -1;
	}
	if (d->exporter_log < 0)
		return;
	while ((n = read(d->exporter_log, text, sizeof(text) - 1)) > 0) {
		text[n] = '\0';
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
			log_warnx("%s: %s", d->layer[0].path ? log_esc(d->layer[0].path) : "disk", log_esc(line));
	}
	close(d->exporter_log);
	d->exporter_log = -1;
}
