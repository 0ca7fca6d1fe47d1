/* boot_part.c: which directory of a view the plugin's host0: is: the one asked for, else the first UFS partition that boots. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "boot_part.h"
#include "errmsg.h"

#define BOOT_PART_MAX 256 /* top-level directories considered */

bool boot_part_has(int root_fd, const char *name)
{
	struct stat st;

	return root_fd >= 0 && fstatat(root_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

struct boot_part {
	char name[NAME_MAX + 1];
	unsigned long disk;
	unsigned pos;
};

static int boot_part_cmp(const void *a, const void *b)
{
	const struct boot_part *x = a, *y = b;

	if (x->disk != y->disk)
		return x->disk < y->disk ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * The top-level directories of the view in its own order, "disk<N>..."
 * ones stably sorted by N; names lists them all for messages.
 */
static int boot_part_list(int root_fd, struct boot_part *parts, unsigned *nparts,
		      char *names, size_t namelen)
{
	struct dirent *d;
	DIR *dir;
	size_t at = 0;
	int fd;

	*nparts = 0;
	names[0] = '\0';
	fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return -e;
	}
	while ((d = readdir(dir))) {
		const char *nm = d->d_name;
		char *end;

		if (nm[0] == '.' || strcmp(nm, "by-label") == 0)
			continue;
		at += (size_t)snprintf(names + at, at < namelen ? namelen - at : 0, "%s%s",
				       at ? " " : "", nm);
		if (at >= namelen)
			at = namelen - 1;
		if (strncmp(nm, "disk", 4) != 0 || nm[4] < '0' || nm[4] > '9' ||
		    *nparts == BOOT_PART_MAX || strlen(nm) > NAME_MAX)
			continue;
		parts[*nparts].disk = strtoul(nm + 4, &end, 10);
		parts[*nparts].pos = *nparts;
		strcpy(parts[*nparts].name, nm);
		(*nparts)++;
	}
	closedir(dir);
	qsort(parts, *nparts, sizeof(*parts), boot_part_cmp);
	return 0;
}

static bool boot_part_boots(int root_fd, const char *name)
{
	static const char *const marks[] = { "boot/loader", "boot/kernel" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		int fd;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", name, marks[i]) >= sizeof(path))
			return false;
		fd = beneath_open(root_fd, path, O_PATH);
		if (fd >= 0) {
			close(fd);
			return true;
		}
	}
	return false;
}

int boot_part_open(int root_fd, const char *mnt, const char *want, char *name, size_t namelen,
		   char *err, size_t errlen)
{
	struct boot_part *parts;
	char names[1024];
	unsigned nparts;
	int fd, r;

	parts = calloc(BOOT_PART_MAX, sizeof(*parts));
	if (!parts)
		return errmsg_set(err, errlen, ENOMEM, "out of memory");
	r = boot_part_list(root_fd, parts, &nparts, names, sizeof(names));
	if (r < 0) {
		free(parts);
		return errmsg_set(err, errlen, -r, "%s: %s", mnt, strerror(-r));
	}
	if (want) {
		free(parts);
		fd = beneath_open(root_fd, want, O_PATH | O_DIRECTORY);
		if (fd < 0) {
			r = errno;
			return errmsg_set(err, errlen, r, "%s: %s (the view has: %s)", want,
					  r == EPERM ? "not inside the view" : strerror(r),
					  *names ? names : "nothing");
		}
		snprintf(name, namelen, "%s", want);
		return fd;
	}
	for (unsigned i = 0; i < nparts; i++) {
		if (!boot_part_boots(root_fd, parts[i].name))
			continue;
		fd = beneath_open(root_fd, parts[i].name, O_PATH | O_DIRECTORY);
		if (fd < 0) {
			r = errmsg_set(err, errlen, errno, "%s: %s", parts[i].name, strerror(errno));
			free(parts);
			return r;
		}
		snprintf(name, namelen, "%s", parts[i].name);
		free(parts);
		return fd;
	}
	free(parts);
	return errmsg_set(err, errlen, ENOENT,
			  "no UFS partition of the disks has /boot/loader or /boot/kernel "
			  "(the view has: %s); name one with --boot-part",
			  *names ? names : "nothing");
}
