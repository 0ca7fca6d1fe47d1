/* boot_part.c: which directory of a view the plugin's host0: is: the one asked for, else the first UFS partition, then ZFS boot dataset, that boots. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "beneath.h"
#include "boot_part.h"
#include "errmsg.h"
#include "viewd.h"

#define BOOT_PART_MAX 256 /* top-level directories considered */

bool boot_part_has(int root_fd, const char *name)
{
	struct stat st;

	return root_fd >= 0 && fstatat(root_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

struct boot_part {
	char name[NAME_MAX + 1];
	char dataset[256]; /* a ZFS member's node: the dataset it shows; else "" */
	unsigned long disk;
	unsigned pos;
};

/* UFS partitions before ZFS datasets, each in disk order, then in the view's order. */
static int boot_part_cmp(const void *a, const void *b)
{
	const struct boot_part *x = a, *y = b;

	if (!x->dataset[0] != !y->dataset[0])
		return x->dataset[0] ? 1 : -1;
	if (x->disk != y->disk)
		return x->disk < y->disk ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* The dataset the view directory mnt/name shows, from kvmload-fs's attribute; "" when none. */
static void boot_part_dataset(const char *mnt, const char *name, char *ds, size_t len)
{
	char path[PATH_MAX];
	ssize_t n = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", mnt, name) < sizeof(path))
		n = lgetxattr(path, VIEWD_XATTR_DATASET, ds, len - 1);
	ds[n > 0 ? n : 0] = '\0';
}

/*
 * The top-level directories of the view in its own order, "disk<N>..."
 * ones stably sorted: UFS before ZFS, then by N; names lists them all for
 * messages.
 */
static int boot_part_list(int root_fd, const char *mnt, struct boot_part *parts, unsigned *nparts,
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
		boot_part_dataset(mnt, nm, parts[*nparts].dataset, sizeof(parts[*nparts].dataset));
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
		   char *dataset, size_t dslen, char *err, size_t errlen)
{
	struct boot_part *parts;
	char names[1024];
	unsigned nparts;
	int fd, r;

	dataset[0] = '\0';
	parts = calloc(BOOT_PART_MAX, sizeof(*parts));
	if (!parts)
		return errmsg_set(err, errlen, ENOMEM, "out of memory");
	r = boot_part_list(root_fd, mnt, parts, &nparts, names, sizeof(names));
	if (r < 0) {
		free(parts);
		return errmsg_set(err, errlen, -r, "%s: %s", mnt, strerror(-r));
	}
	if (want) {
		char zpath[PATH_MAX];

		free(parts);
		snprintf(name, namelen, "%s", want);
		fd = beneath_open(root_fd, want, O_PATH | O_DIRECTORY);
		/* A ZFS dataset by its name ("zroot/ROOT/default"): its place under zfs/. */
		if (fd < 0 && errno == ENOENT &&
		    (size_t)snprintf(zpath, sizeof(zpath), "zfs/%s", want) < sizeof(zpath) &&
		    (fd = beneath_open(root_fd, zpath, O_PATH | O_DIRECTORY)) >= 0)
			snprintf(name, namelen, "%s", zpath);
		if (fd < 0) {
			r = errno;
			return errmsg_set(err, errlen, r, "%s: %s (the view has: %s)", want,
					  r == EPERM ? "not inside the view" : strerror(r),
					  *names ? names : "nothing");
		}
		boot_part_dataset(mnt, name, dataset, dslen);
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
		snprintf(dataset, dslen, "%s", parts[i].dataset);
		free(parts);
		return fd;
	}
	free(parts);
	return errmsg_set(err, errlen, ENOENT,
			  "no UFS partition or ZFS boot dataset of the disks has /boot/loader or /boot/kernel "
			  "(the view has: %s); name one with --boot-part",
			  *names ? names : "nothing");
}
