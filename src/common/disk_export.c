/* disk_export.c: a non-raw image's guest-visible bytes: qemu-storage-daemon reads the chain through our descriptors and serves it as one raw file over FUSE, detached from every mount table once opened. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "disk.h"
#include "errmsg.h"
#include "log.h"
#include "rundir.h"
#include "spawn.h"

#define DISK_EXPORT_WAIT_MS 10000 /* QEMU opening an image and mounting its export */

/* A private directory for the moment the export is mounted: $TMPDIR when JSON can carry it as is, else /tmp. */
static int disk_export_dir(char *dir, size_t len)
{
	const char *t = getenv("TMPDIR");

	/* JSON carries printable ASCII but the quote and the backslash as it is. */
	for (const char *c = t; c && *c; c++)
		if (*c < 0x20 || *c > 0x7e || *c == '"' || *c == '\\')
			t = NULL;
	if (!t || t[0] != '/' || strlen(t) > 200)
		t = "/tmp";
	snprintf(dir, len, "%s/kvmload-export.XXXXXX", t);
	return mkdtemp(dir) ? 0 : -errno;
}

/*
 * Every layer from the deepest backing file up: a protocol node on our
 * descriptor, which the child finds at 3 + its layer number (/proc/self/fd
 * reaches that very file, never a path again), and
 * a format node whose backing is the one below, or null: QEMU must not open
 * anything by a name it read in a header.
 */
static void disk_export_argv(const struct disk_info *d, const char *mnt, struct argv *a)
{
	const char *q = getenv("KVMLOAD_QSD");

	argv_add(a, q && *q ? q : "qemu-storage-daemon");
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
		  "\"growable\":false,\"writable\":false,\"allow-other\":\"off\"}", mnt);
}

#define DISK_EXPORT_EXEC_FAILED "kvmload-exec: "

/* stdin and stdout on /dev/null, stderr the pipe, the layers at 3 on, nothing else. */
static _Noreturn void disk_export_child(const struct disk_info *d, char **argv, int err_w, pid_t parent)
{
	int want[3 + DISK_MAX_LAYERS] = { 0, 1, err_w };

	for (int i = 0; i < d->nlayers; i++)
		want[3 + i] = d->layer[i].fd;
	if (spawn_prepare(parent, SIGTERM) < 0 || spawn_place(want, 3 + d->nlayers) < 0)
		_exit(126);
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, DISK_EXPORT_EXEC_FAILED "%s", strerror(errno));
	_exit(127);
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

/* The daemon ended before its export was up: not there at all, or QEMU's reason. */
static int disk_export_ended(const struct disk_info *d, int status, char *text, char *err, size_t errlen)
{
	const char *q = getenv("KVMLOAD_QSD");
	char *exec_failed = strstr(text, DISK_EXPORT_EXEC_FAILED);
	char why[1200];

	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && exec_failed)
		return errmsg_set(err, errlen, ENOPKG, "%s: %s; a %s image is read by QEMU's "
				  "qemu-storage-daemon: install Debian's qemu-system-common (with "
				  "qemu-system-x86) or set KVMLOAD_QSD", q && *q ? q : "qemu-storage-daemon",
				  exec_failed + strlen(DISK_EXPORT_EXEC_FAILED), d->layer[0].format);
	disk_export_why(text, why, sizeof(why));
	return errmsg_set(err, errlen, EMEDIUMTYPE, "QEMU cannot read it as %s: %s", d->layer[0].format, why);
}

static int64_t disk_export_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Until the mount point is a mount (its device changes), the daemon ends
 * (its standard error, our pipe, reaches end of file) or the time is up.
 * /proc/self/mountinfo polls POLLPRI at every change of the mount table, so
 * the mount is seen as it happens; reading the file re-arms it.
 */
static int disk_export_wait(struct disk_info *d, const char *dir, const char *mnt, int err_r, char *err,
			    size_t errlen)
{
	int mi = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC), status, r;
	struct pollfd p[2] = { { .fd = mi, .events = POLLPRI }, { .fd = err_r, .events = POLLIN } };
	int64_t end = disk_export_ms() + DISK_EXPORT_WAIT_MS;
	char text[2048], scratch[4096];
	size_t tlen = 0;
	struct stat base, now;

	if (stat(dir, &base) < 0)
		r = errmsg_set(err, errlen, errno, "%s: %s", dir, strerror(errno));
	else
		for (;;) {
			int64_t left = end - disk_export_ms();

			if (stat(mnt, &now) == 0 && now.st_dev != base.st_dev) {
				r = 0;
				break;
			}
			if (p[1].fd < 0) {
				while (waitpid(d->exporter, &status, 0) < 0 && errno == EINTR)
					;
				d->exporter = -1;
				text[tlen] = '\0';
				r = disk_export_ended(d, status, text, err, errlen);
				break;
			}
			if (left <= 0) {
				r = errmsg_set(err, errlen, ETIMEDOUT, "qemu-storage-daemon did not serve it "
					       "within %d s", DISK_EXPORT_WAIT_MS / 1000);
				break;
			}
			/* Without /proc, a look every millisecond. */
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

int disk_export(struct disk_info *d, char *err, size_t errlen)
{
	char dir[256], mnt[300];
	struct argv a = { 0 };
	struct stat st, dirst;
	int p[2], r, fd;
	pid_t parent = getpid();

	r = disk_export_dir(dir, sizeof(dir));
	if (r < 0)
		return errmsg_set(err, errlen, -r, "a directory for its export: %s", strerror(-r));
	snprintf(mnt, sizeof(mnt), "%s/disk", dir);
	fd = open(mnt, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || close(fd) < 0 || pipe2(p, O_CLOEXEC) < 0) {
		r = errmsg_set(err, errlen, errno, "its export: %s", strerror(errno));
		goto out;
	}
	disk_export_argv(d, mnt, &a);
	if (a.oom) {
		close(p[0]);
		close(p[1]);
		r = errmsg_set(err, errlen, ENOMEM, "its export: %s", strerror(ENOMEM));
		goto out;
	}
	/* Never a blocked daemon: what it says past the pipe's room is lost, not waited for. */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	fflush(NULL);
	d->exporter = fork();
	if (d->exporter == 0)
		disk_export_child(d, a.v, p[1], parent);
	close(p[1]);
	if (d->exporter < 0) {
		r = errmsg_set(err, errlen, errno, "fork: %s", strerror(errno));
		close(p[0]);
		goto out;
	}
	r = disk_export_wait(d, dir, mnt, p[0], err, errlen);
	if (r == 0) {
		d->fd = open(mnt, O_RDONLY | O_CLOEXEC);
		if (d->fd < 0 || fstat(d->fd, &st) < 0)
			r = errmsg_set(err, errlen, errno, "its export: %s", strerror(errno));
		else
			d->size = (uint64_t)st.st_size;
	}
	/* On failure the daemon goes first, so no mount can appear behind the clean-up. */
	if (r < 0)
		disk_export_stop(d);
	/* Reachable from now on only through d->fd and its copies; it goes with the last of them. */
	if ((rundir_unmount(mnt) < 0 || stat(mnt, &st) < 0 || stat(dir, &dirst) < 0 || st.st_dev != dirst.st_dev) &&
	    r == 0)
		r = errmsg_set(err, errlen, EBUSY, "its export at %s could not be detached", mnt);
	if (r < 0) {
		disk_export_stop(d);
		close(p[0]);
	} else {
		/* Kept for what the daemon says later (I/O errors), told when it is stopped. */
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		d->exporter_log = p[0];
	}
out:
	unlink(mnt);
	rmdir(dir);
	argv_free(&a);
	return r;
}

void disk_export_stop(struct disk_info *d)
{
	char text[4096];
	ssize_t n;

	if (d->exporter > 0) {
		/*
		 * SIGKILL: the daemon only ever read (nothing to flush), its mount is
		 * detached already, and the kernel drops its image locks as it dies; a
		 * SIGTERM'd QEMU takes ~5 ms to close its block layer, on the boot path.
		 */
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
