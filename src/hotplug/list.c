/* list.c: kvmload-hotplug list: every VM in the runtime directory's base, its holder, state, disk, uptime and last exit, as text or JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hotplug.h"
#include "log.h"
#include "state.h"

/* What list shows of one VM. */
struct list_vm {
	const char *name;
	const char *state;     /* state_name(); "starting": a supervisor before its first kvmload;
				* "unknown": its records cannot be read */
	bool held;             /* who is its live holder */
	struct rundir_holder who;
	char disk[4096];       /* "" when nothing says */
	bool has_uptime;
	long uptime;           /* seconds ... */
	const char *uptime_of; /* ... in its "state" (the supervisor's record) or of its "holder" */
	bool exited;           /* last holds the latest end */
	struct state_exit last;
};

/* The VMs' names, gathered by rundir_each. */
struct list_names {
	const char *run;
	char **v;
	size_t n, cap;
};

/* A VM with a directory (a lock file alone is a VM being set up, or just gone): its name, maybe twice. */
static int list_name_add(const char *vm, void *arg)
{
	struct list_names *l = arg;

	if (!state_exists(l->run, vm))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(vm);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int list_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_names_free(struct list_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* The first line of RUN/VM/LEAF into buf ("" when there is none). */
static void list_first_line(const char *run, const char *vm, const char *leaf, char *buf, size_t len)
{
	char path[4096];
	FILE *f;

	buf[0] = '\0';
	if (rundir_path(path, sizeof(path), run, vm, leaf) < 0)
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static bool list_has(const char *run, const char *vm, const char *leaf)
{
	char path[4096];
	struct stat st;

	return rundir_path(path, sizeof(path), run, vm, leaf) == 0 && lstat(path, &st) == 0;
}

/*
 * A VM as its records say: a supervisor's (holder kvmload-hotplug) from its
 * state record and its device; a kvmload started by hand from its view
 * (loading while it is there, running once released), its disk record and
 * its holder file's age (it was written at the claim); no live holder:
 * stopped (retired, or a holder that died); records we may not read: unknown.
 */
static void list_vm_read(const char *run, const char *vm, struct list_vm *l)
{
	struct timespec now;
	struct state_rec rec;
	bool rec_ok = state_get(run, vm, &rec) == 0;
	bool sup;
	int r;

	memset(l, 0, sizeof(*l));
	l->name = vm;
	r = rundir_holder(run, vm, &l->who);
	if (r < 0) {
		/* Its directory is its holder's (0700): another user cannot tell what it does. */
		l->state = "unknown";
		return;
	}
	l->held = r == 1;
	sup = l->held && strcmp(l->who.prog, STATE_PROG) == 0;
	clock_gettime(CLOCK_REALTIME, &now);
	if (l->held && !sup) {
		char path[4096];
		struct stat st;

		l->state = list_has(run, vm, RUNDIR_VIEW) || list_has(run, vm, RUNDIR_FS)
				   ? state_name(STATE_LOADING)
				   : state_name(STATE_RUNNING);
		list_first_line(run, vm, RUNDIR_DISK, l->disk, sizeof(l->disk));
		if (rundir_path(path, sizeof(path), run, vm, RUNDIR_HOLDER) == 0 && stat(path, &st) == 0) {
			l->has_uptime = true;
			l->uptime = (long)(now.tv_sec - st.st_mtim.tv_sec);
			l->uptime_of = "holder";
		}
	} else {
		l->state = sup ? (rec_ok ? state_name(rec.kind) : "starting") : state_name(STATE_STOPPED);
		list_first_line(run, vm, STATE_DEVICE, l->disk, sizeof(l->disk));
		/* A holder that died left a record of what it did then: no time to show for "stopped". */
		if (rec_ok && (sup || rec.kind == STATE_STOPPED)) {
			l->has_uptime = true;
			l->uptime = (long)(now.tv_sec - rec.since.tv_sec);
			l->uptime_of = "state";
		}
	}
	if (l->has_uptime && l->uptime < 0)
		l->uptime = 0; /* the clock was set back */
	if (rec_ok && rec.exited) {
		l->exited = true;
		l->last = rec.last;
	}
}

/* "1h02m03s", "5m07s", "42s" */
static const char *list_duration(long s, char *buf, size_t len)
{
	if (s >= 3600)
		snprintf(buf, len, "%ldh%02ldm%02lds", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, len, "%lds", s);
	return buf;
}

static void list_text_row(const struct list_vm *l)
{
	char pid[24] = "-", up[48] = "-", d[32], last[128] = "-";

	if (l->held)
		snprintf(pid, sizeof(pid), "%ld", (long)l->who.pid);
	if (l->has_uptime)
		snprintf(up, sizeof(up), "%s (%s)", list_duration(l->uptime, d, sizeof(d)), l->uptime_of);
	if (l->exited)
		snprintf(last, sizeof(last), "%s, ran %ld.%03ld s", l->last.status, l->last.ran_ms / 1000,
			 l->last.ran_ms % 1000);
	printf("%-16s %-10s %-15s %7s %-20s %-14s %s\n", log_esc(l->name), l->state,
	       l->held ? log_esc(l->who.prog) : "-", pid, l->disk[0] ? log_esc(l->disk) : "-", up,
	       log_esc(last));
}

/*
 * s as a JSON string: '"', '\\' and control bytes escaped, valid UTF-8 as it
 * is, every byte of an invalid sequence as U+FFFD (a path is bytes, JSON is
 * Unicode).
 */
static void list_json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	while (*p) {
		unsigned char c = *p;
		size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
		bool valid = n > 0;

		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c < 0x20 || c == 0x7f) {
			printf("\\u%04x", c);
		} else if (c < 0x80) {
			putchar(c);
		} else {
			for (size_t i = 1; valid && i < n; i++)
				valid = (p[i] & 0xc0) == 0x80;
			/* Overlong forms, surrogates and past U+10FFFF are not UTF-8 either. */
			if (valid && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
				      (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f)))
				valid = false;
			if (valid) {
				fwrite(p, 1, n, stdout);
				p += n;
				continue;
			}
			fputs("\\ufffd", stdout);
		}
		p++;
	}
	putchar('"');
}

/* A string member, or null when s is NULL. */
static void list_json_member(const char *key, const char *s, bool more)
{
	printf("\"%s\": ", key);
	if (s)
		list_json_str(s);
	else
		fputs("null", stdout);
	fputs(more ? ", " : "", stdout);
}

static void list_json_row(const struct list_vm *l, bool more)
{
	fputs("  {", stdout);
	list_json_member("vm", l->name, true);
	list_json_member("state", l->state, true);
	list_json_member("holder", l->held ? l->who.prog : NULL, true);
	if (l->held)
		printf("\"pid\": %ld, ", (long)l->who.pid);
	else
		fputs("\"pid\": null, ", stdout);
	list_json_member("disk", l->disk[0] ? l->disk : NULL, true);
	if (l->has_uptime)
		printf("\"uptime\": %ld, ", l->uptime);
	else
		fputs("\"uptime\": null, ", stdout);
	list_json_member("uptime_of", l->has_uptime ? l->uptime_of : NULL, true);
	list_json_member("last_exit", l->exited ? l->last.status : NULL, true);
	if (l->exited)
		printf("\"last_run\": %ld.%03ld", l->last.ran_ms / 1000, l->last.ran_ms % 1000);
	else
		fputs("\"last_run\": null", stdout);
	printf("}%s\n", more ? "," : "");
}

int list_run(const struct hotplug *h, bool json)
{
	struct list_names names = { .run = h->run_dir };
	int r = rundir_each(h->run_dir, list_name_add, &names);

	if (r < 0) {
		list_names_free(&names);
		return r;
	}
	if (names.n) /* qsort's base may not be NULL, even for no element */
		qsort(names.v, names.n, sizeof(*names.v), list_name_cmp);
	if (json)
		fputs(names.n ? "[\n" : "[", stdout);
	else
		printf("%-16s %-10s %-15s %7s %-20s %-14s %s\n", "VM", "STATE", "HOLDER", "PID", "DISK",
		       "UPTIME", "LAST EXIT");
	for (size_t i = 0; i < names.n; i++) {
		struct list_vm l;
		bool more;

		if (i > 0 && strcmp(names.v[i], names.v[i - 1]) == 0)
			continue; /* a VM seen by its lock file and its directory */
		more = false;
		for (size_t j = i + 1; j < names.n && !more; j++)
			more = strcmp(names.v[j], names.v[i]) != 0;
		list_vm_read(h->run_dir, names.v[i], &l);
		if (json)
			list_json_row(&l, more);
		else
			list_text_row(&l);
	}
	if (json)
		fputs("]\n", stdout);
	list_names_free(&names);
	return fflush(stdout) == 0 ? 0 : -EIO;
}
