/* state.c: kvmload-hotplug's records in a VM's runtime directory: the claim with its device, the VM's state, its exits with their console tails, retiring, clearing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

#define STATE_N(a) (sizeof(a) / sizeof((a)[0]))

bool state_exists(const char *run, const char *vm)
{
	char path[4096];
	struct stat st;

	return rundir_path(path, sizeof(path), run, vm, NULL) == 0 && lstat(path, &st) == 0;
}

int state_claim(const char *run, const char *vm, const char *node, const char *disknode,
		struct rundir_holder *who)
{
	char *dev;
	int fd = rundir_claim(run, vm, STATE_PROG, who), r;

	if (fd < 0)
		return fd;
	if (asprintf(&dev, "%s\n%s\n", node, disknode) < 0) {
		close(fd);
		return -ENOMEM;
	}
	r = rundir_write(run, vm, STATE_DEVICE, dev);
	free(dev);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int state_device(const char *run, const char *vm, char *node, size_t nlen, char *disk, size_t dlen)
{
	char path[4096];
	FILE *f;
	int r = 0;

	if (rundir_path(path, sizeof(path), run, vm, STATE_DEVICE) < 0)
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

/* Remove each leaf (a directory where dir[i]); ENOENT is fine.  0 or the first -errno. */
static int state_remove(const char *run, const char *vm, const char *const *leaves, const bool *dir,
			size_t n)
{
	char path[4096], tmp[4096 + 8];

	for (size_t i = 0; i < n; i++) {
		if (rundir_path(path, sizeof(path), run, vm, leaves[i]) < 0)
			return -ENAMETOOLONG;
		/* A record's write that a kill cut short (rundir_write's PATH.tmp) goes too. */
		snprintf(tmp, sizeof(tmp), "%s" RUNDIR_TMP, path);
		if (!dir[i] && unlink(tmp) < 0 && errno != ENOENT)
			return -errno;
		if ((dir[i] ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

int state_clear(const char *run, const char *vm)
{
	/* The holder's file last: until then nobody takes the VM for free. */
	static const char *const leaves[] = { STATE_GUEST, RUNDIR_FS, STATE_DEVICE, STATE_CONSOLE,
					      STATE_CONSOLE_OLD, RUNDIR_CONSOLE, STATE_STATUS, STATE_RECORD,
					      RUNDIR_DISK, RUNDIR_VIEW, RUNDIR_HOLDER };
	static const bool dir[] = { false, false, false, false, false, false, false, false,
				    false, true, false };
	char path[4096];
	int r = state_remove(run, vm, leaves, dir, STATE_N(leaves));

	if (r < 0)
		return r;
	if (rundir_path(path, sizeof(path), run, vm, NULL) < 0)
		return -ENAMETOOLONG;
	return rmdir(path) < 0 && errno != ENOENT ? -errno : 0;
}

int state_view_gone(const char *run, const char *vm)
{
	static const char *const leaves[] = { RUNDIR_FS, RUNDIR_VIEW };
	static const bool dir[] = { false, true };

	return state_remove(run, vm, leaves, dir, STATE_N(leaves));
}

int state_retire(const char *run, const char *vm)
{
	/* The holder's file goes last: until then nobody takes the VM for ended. */
	static const char *const leaves[] = { STATE_GUEST, RUNDIR_FS, RUNDIR_CONSOLE, RUNDIR_VIEW,
					      RUNDIR_HOLDER };
	static const bool dir[] = { false, false, false, true, false };

	return state_remove(run, vm, leaves, dir, STATE_N(leaves));
}

static const char *const state_names[] = {
	[STATE_LOADING] = "loading",
	[STATE_RUNNING] = "running",
	[STATE_RESTARTING] = "restarting",
	[STATE_STOPPED] = "stopped",
};

const char *state_name(enum state_kind kind)
{
	return (size_t)kind < STATE_N(state_names) ? state_names[kind] : "?";
}

/* "2026-12-07T08:00:01.123Z" */
static void state_time_text(const struct timespec *t, char *buf, size_t len)
{
	struct tm tm;
	char s[32];

	if (!gmtime_r(&t->tv_sec, &tm) || strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(s, sizeof(s), "1970-01-01T00:00:00");
	snprintf(buf, len, "%s.%03uZ", s, (unsigned)(t->tv_nsec / 1000000) % 1000);
}

/* The inverse of state_time_text.  0 or -EINVAL. */
static int state_time_parse(const char *text, struct timespec *t)
{
	struct tm tm = { 0 };
	const char *end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	unsigned ms;
	int n = 0;

	if (!end || sscanf(end, ".%3u%n", &ms, &n) != 1 || strcmp(end + n, "Z") != 0)
		return -EINVAL;
	t->tv_sec = timegm(&tm);
	t->tv_nsec = (long)ms * 1000000;
	return 0;
}

int state_set(const char *run, const char *vm, const struct state_rec *rec)
{
	char text[1024], since[40];
	size_t at;

	state_time_text(&rec->since, since, sizeof(since));
	at = (size_t)snprintf(text, sizeof(text), "state: %s\nsince: %s\n", state_name(rec->kind), since);
	if (rec->exited && at < sizeof(text))
		at += (size_t)snprintf(text + at, sizeof(text) - at, "last-exit: %s\nlast-run: %ld.%03ld s\n",
				       rec->last.status, rec->last.ran_ms / 1000, rec->last.ran_ms % 1000);
	if (rec->why[0] && at < sizeof(text))
		at += (size_t)snprintf(text + at, sizeof(text) - at, "why: %s\n", rec->why);
	if (at >= sizeof(text))
		return -ENAMETOOLONG;
	return rundir_write(run, vm, STATE_RECORD, text);
}

/* One "key: value" line of RUN/VM/state into rec; unknown keys are left for newer readers. */
static int state_get_line(char *line, struct state_rec *rec, bool *have_state, bool *have_since)
{
	char *value = strstr(line, ": ");
	long s, ms;

	line[strcspn(line, "\n")] = '\0';
	if (!value)
		return line[0] ? -EINVAL : 0;
	*value = '\0';
	value += 2;
	if (strcmp(line, "state") == 0) {
		for (size_t k = 0; k < STATE_N(state_names); k++)
			if (strcmp(value, state_names[k]) == 0) {
				rec->kind = (enum state_kind)k;
				*have_state = true;
			}
		return *have_state ? 0 : -EINVAL;
	}
	if (strcmp(line, "since") == 0) {
		*have_since = state_time_parse(value, &rec->since) == 0;
		return *have_since ? 0 : -EINVAL;
	}
	if (strcmp(line, "last-exit") == 0) {
		rec->exited = true;
		snprintf(rec->last.status, sizeof(rec->last.status), "%s", value);
	} else if (strcmp(line, "last-run") == 0) {
		if (sscanf(value, "%ld.%3ld s", &s, &ms) != 2 || s < 0 || ms < 0)
			return -EINVAL;
		rec->last.ran_ms = s * 1000 + ms;
	} else if (strcmp(line, "why") == 0) {
		snprintf(rec->why, sizeof(rec->why), "%s", value);
	}
	return 0;
}

int state_get(const char *run, const char *vm, struct state_rec *rec)
{
	bool have_state = false, have_since = false;
	char path[4096], line[512];
	FILE *f;
	int r = 0;

	memset(rec, 0, sizeof(*rec));
	if (rundir_path(path, sizeof(path), run, vm, STATE_RECORD) < 0)
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (r == 0 && fgets(line, sizeof(line), f))
		r = state_get_line(line, rec, &have_state, &have_since);
	fclose(f);
	return r < 0 || !have_state || !have_since ? -EINVAL : 0;
}

/* Append c as log_esc would show it; false when out[*at..len) has no room for it and a NUL. */
static bool state_esc_byte(char *out, size_t len, size_t *at, unsigned char c)
{
	if (*at + 5 > len)
		return false;
	if (c == '\\') {
		out[(*at)++] = '\\';
		out[(*at)++] = '\\';
	} else if (c >= 0x20 && c < 0x7f) {
		out[(*at)++] = (char)c;
	} else {
		*at += (size_t)snprintf(out + *at, 5, "\\x%02x", c);
	}
	return true;
}

/*
 * The last want bytes (at most) of RUN/VM/leaf into raw, *n how many could be
 * read, *more whether the file has bytes before them.  None there: 0, *n 0.
 */
static int state_tail_file(const char *run, const char *vm, const char *leaf, char *raw, size_t want,
			   size_t *n, bool *more)
{
	char path[4096];
	struct stat st;
	off_t from = 0;
	ssize_t got;
	int fd, r = 0;

	*n = 0;
	*more = false;
	if (rundir_path(path, sizeof(path), run, vm, leaf) < 0)
		return -ENAMETOOLONG;
	/* Non-blocking: something other than a file in its place must not hang the supervisor. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if (st.st_size > (off_t)want)
		from = st.st_size - (off_t)want;
	*more = from > 0;
	/* A log truncated meanwhile reads short or empty: what was there is all there is. */
	while (r == 0 && *n < want) {
		got = pread(fd, raw + *n, want - *n, from + (off_t)*n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			r = -errno;
		if (got <= 0)
			break;
		*n += (size_t)got;
	}
	close(fd);
	return r;
}

int state_console_tail(const char *run, const char *vm, char *buf, size_t len)
{
	char raw[STATE_TAIL_BYTES], now[STATE_TAIL_BYTES], *first;
	size_t n = 0, n_now, start = 0, at = 0, lines = 0;
	bool cut;
	int r;

	if (len == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	r = state_tail_file(run, vm, STATE_CONSOLE, now, STATE_TAIL_BYTES, &n_now, &cut);
	if (r < 0)
		return r;
	/* A log just rotated holds less than the window: the rest is the end of the one before. */
	if (!cut && n_now < STATE_TAIL_BYTES) {
		r = state_tail_file(run, vm, STATE_CONSOLE_OLD, raw, STATE_TAIL_BYTES - n_now, &n, &cut);
		if (r < 0)
			return r;
	}
	memcpy(raw + n, now, n_now);
	n += n_now;
	/* A line the window cut off at its start is not shown half (unless it is all there is). */
	first = memchr(raw, '\n', n);
	if (cut && first && first < raw + n - 1)
		start = (size_t)(first - raw) + 1;
	/* Which lines: the last STATE_TAIL_LINES, counting back from the end. */
	for (size_t i = n; i > start; i--)
		if (raw[i - 1] == '\n' && i != n && ++lines == STATE_TAIL_LINES) {
			start = i;
			break;
		}
	for (size_t i = start; i < n;) {
		size_t end = i, stop;

		while (end < n && raw[end] != '\n')
			end++;
		/* A console ends its lines with \r\n: the \r goes with the newline. */
		stop = end > i && raw[end - 1] == '\r' ? end - 1 : end;
		for (size_t j = i; j < stop; j++)
			if (!state_esc_byte(buf, len, &at, (unsigned char)raw[j]))
				goto nobufs;
		if (at + 2 > len)
			goto nobufs;
		buf[at++] = '\n';
		i = end + 1;
	}
	buf[at] = '\0';
	return 0;
nobufs:
	buf[0] = '\0';
	return -ENOBUFS;
}

/* Up to keep whole entries (each ending in a blank line) from the start of old. */
static size_t state_entries_len(const char *old, size_t n, int keep)
{
	size_t at = 0;

	for (int i = 0; i < keep; i++) {
		const char *end = memmem(old + at, n - at, "\n\n", 2);

		if (!end)
			break;
		at = (size_t)(end - old) + 2;
	}
	return at;
}

/* RUN/VM/status as it is (at most max bytes) into a new buffer, *n its length; "" when none. */
static int state_status_read(const char *run, const char *vm, size_t max, char **old, size_t *n)
{
	char path[4096];
	ssize_t got;
	int fd;

	*n = 0;
	*old = malloc(max + 1);
	if (!*old)
		return -ENOMEM;
	if (rundir_path(path, sizeof(path), run, vm, STATE_STATUS) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	while (*n < max && ((got = read(fd, *old + *n, max - *n)) > 0 || (got < 0 && errno == EINTR)))
		if (got > 0)
			*n += (size_t)got;
	close(fd);
	return 0;
}

int state_exit_add(const char *run, const char *vm, const struct state_exit *e, const char *tail)
{
	/* An entry: its four header lines (well under 512 bytes), its tail with "| " before each line. */
	size_t max = STATE_HISTORY * (512 + STATE_TAIL_MAX + 2 * STATE_TAIL_LINES), n, at, keep;
	char when[40], *old, *text = NULL;
	FILE *f;
	int r;

	r = state_status_read(run, vm, max, &old, &n);
	if (r < 0) {
		free(old);
		return r;
	}
	keep = state_entries_len(old, n, STATE_HISTORY - 1);
	f = open_memstream(&text, &at);
	if (!f) {
		free(old);
		return -ENOMEM;
	}
	state_time_text(&e->at, when, sizeof(when));
	fprintf(f, "exited: %s\nat: %s\nran: %ld.%03ld s\nconsole:\n", e->status, when,
		e->ran_ms / 1000, e->ran_ms % 1000);
	for (const char *line = tail; *line;) {
		size_t len = strcspn(line, "\n");

		fprintf(f, "| %.*s\n", (int)len, line);
		line += len + (line[len] == '\n');
	}
	fprintf(f, "\n%.*s", (int)keep, old);
	r = fclose(f) == 0 ? 0 : -ENOMEM;
	free(old);
	if (r == 0)
		r = rundir_write(run, vm, STATE_STATUS, text);
	free(text);
	return r;
}
