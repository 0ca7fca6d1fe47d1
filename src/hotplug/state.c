/* state.c: kvmload-hotplug's records in a VM's runtime directory: the claim with its device, retiring, clearing. */
#include <errno.h>
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
	char path[4096];

	for (size_t i = 0; i < n; i++) {
		if (rundir_path(path, sizeof(path), run, vm, leaves[i]) < 0)
			return -ENAMETOOLONG;
		if ((dir[i] ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

int state_clear(const char *run, const char *vm)
{
	/* The holder's file last: until then nobody takes the VM for free. */
	static const char *const leaves[] = { STATE_GUEST, RUNDIR_FS, STATE_DEVICE, STATE_CONSOLE,
					      STATE_CONSOLE_OLD, RUNDIR_CONSOLE, STATE_STATUS,
					      RUNDIR_VIEW, RUNDIR_HOLDER };
	static const bool dir[] = { false, false, false, false, false, false, false, true, false };
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

int state_retire(const char *run, const char *vm, const char *status)
{
	/* The holder's file goes last: until then nobody takes the VM for ended. */
	static const char *const leaves[] = { STATE_GUEST, RUNDIR_FS, RUNDIR_CONSOLE, RUNDIR_VIEW,
					      RUNDIR_HOLDER };
	static const bool dir[] = { false, false, false, true, false };
	int r = rundir_write(run, vm, STATE_STATUS, status);

	return r < 0 ? r : state_remove(run, vm, leaves, dir, STATE_N(leaves));
}
