/* mnt.c: the mount table as kvmload-fs reads it: a mount point's absolute path and the topmost mount there. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mnt.h"

/* A mountinfo field with its \ooo escapes (space, tab, newline, backslash) undone, in place. */
static void mnt_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

char *mnt_abs_path(const char *mnt)
{
	char *copy = strdup(mnt), *slash, *dir, *res = NULL;
	const char *base;
	size_t n;
	char c;

	if (!copy)
		return NULL;
	for (n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
		copy[n - 1] = '\0';
	slash = strrchr(copy, '/');
	base = slash ? slash + 1 : copy;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || readlink(copy, &c, 1) >= 0) {
		res = realpath(copy, NULL);
	} else {
		if (slash && slash != copy)
			*slash = '\0';
		dir = realpath(!slash ? "." : slash == copy ? "/" : copy, NULL);
		if (dir && asprintf(&res, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", base) < 0)
			res = NULL;
		free(dir);
	}
	free(copy);
	return res;
}

/* statx's mount id that is never reused (Linux 6.8); mountinfo's ids are, once a mount is gone. */
#define MNT_STATX_ID_UNIQUE 0x4000U

/* Later lines are mounted later: the last one at path is the one on top. */
int mnt_top(const char *path, struct mnt_top *top)
{
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *tok, *point = NULL, *end;
		unsigned field = 0;
		long id = -1;

		line[strcspn(line, "\n")] = '\0';
		for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
			if (field == 0)
				id = strtol(tok, &end, 10);
			if (field == 4)
				point = tok;
			if (field > 5 && strcmp(tok, "-") == 0)
				break;
		}
		tok = strtok_r(NULL, " ", &save);
		if (!point || !tok || id < 0 || id > INT_MAX)
			continue;
		mnt_unescape(point);
		if (strcmp(point, path) != 0)
			continue;
		top->id = (int)id;
		snprintf(top->type, sizeof(top->type), "%s", tok);
		found = 1;
	}
	free(line);
	fclose(f);
	top->unique = 0;
	if (found) {
		struct statx stx;

		/* DONT_SYNC: the cached attributes, no request to a server that may be dead or stuck. */
		if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT, MNT_STATX_ID_UNIQUE, &stx) == 0 &&
		    (stx.stx_mask & MNT_STATX_ID_UNIQUE))
			top->unique = stx.stx_mnt_id;
	}
	return found;
}
