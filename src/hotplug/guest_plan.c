/* guest_plan.c: --dry-run: what add or remove would do for a VM, on stdout, from the same command lines a start runs. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "guest_int.h"
#include "log.h"

/* A pool VM's devices as add would find them now, said; 0, or -errno (-ENOSPC not yet said). */
static int guest_plan_pool(const struct hotplug *h, const struct conf_vm *vm, const struct dev *d,
			   struct guest_disks *g)
{
	const struct dev_member *dup;
	char list[4096];
	int r = guest_disks_find(h, vm, d, g, &dup);

	if (r == -EEXIST) {
		printf("vm %s: pool %s: %s and %s carry the same vdev GUID %" PRIu64 "; not starting\n",
		       vm->name, g->name, dup[-1].d.node, dup->d.node, dup->vdev);
	} else if (r == -E2BIG) {
		printf("vm %s: pool %s: its devices are on more than %d disks; not starting\n", vm->name,
		       g->name, CONF_ZPOOL_MEMBERS_MAX);
	} else if (r < 0 && r != -ENOSPC) {
		printf("vm %s: looking for the pool's devices: %s; not starting\n", vm->name, strerror(-r));
	} else {
		printf("vm %s: pool %s (guid %" PRIu64 "): %zu of %d devices present: %s\n", vm->name,
		       g->name, g->guid, g->npool, vm->zpool_members, guest_pool_list(g, list, sizeof(list)));
		if (g->npool < (size_t)vm->zpool_members)
			printf("wait up to %d s for the rest; then, with all of them:\n", vm->zpool_wait);
	}
	return r;
}

/* The guest's disks, each opened as kvmload would open it; 0, or -errno once the plan said why not. */
static int guest_plan_disks(const struct hotplug *h, const struct conf_vm *vm, const struct dev *d,
			    struct guest_disks *g)
{
	char why[1400], name[PATH_MAX + 64];
	int r, bad;

	if (d->disknode && conf_vm_zpool(vm))
		r = guest_plan_pool(h, vm, d, g);
	else
		r = guest_disks_extra(vm, g);
	if (r == -ENOSPC)
		printf("vm %s: %d disk(s) of its device(s) and %d disk = lines are more than kvmload's "
		       "%d disks; not starting\n", vm->name, g->ndev, vm->ndisks, VIEWD_MAXDISKS);
	if (r == 0 && d->disknode && guest_disks_open(vm, g, NULL, &bad, why, sizeof(why)) < 0) {
		printf("vm %s: disk %s: %s; not starting\n", vm->name,
		       guest_disk_name(vm, g, bad, name, sizeof(name)), log_esc(why));
		r = -ENOMEDIUM;
	}
	return r;
}

/* What a start on the disks g runs, from the command lines guest_argv.c makes for it, and what follows. */
static void guest_plan_start(const struct hotplug *h, const struct conf_vm *vm, const struct guest_disks *g)
{
	struct argv fs = { 0 }, loader = { 0 };
	struct viewd_spec spec;
	char dir[4096], mnt[PATH_MAX];
	int plan_fds[VIEWD_MAXDISKS];

	rundir_path(dir, sizeof(dir), h->run_dir, vm->name, NULL);
	/* The plan names the descriptors add would pass (viewd_argv numbers them itself). */
	for (int i = 0; i < g->n; i++)
		plan_fds[i] = GUEST_FD_DISK0 + i;
	if (guest_fs_spec(h, vm, g, plan_fds, mnt, &spec) == 0 && viewd_argv(&spec, &fs) == 0 &&
	    guest_loader_args(h, vm, g, &loader) == 0) {
		printf("console server: %s/%s, log %s/%s%s%s\n", dir, RUNDIR_CONSOLE, dir, STATE_CONSOLE,
		       vm->console ? ", terminal " : "", vm->console ? vm->console : "");
		printf("mkdir %s/%s\n", dir, RUNDIR_VIEW);
		guest_print_args(&fs);
		printf("\n");
		guest_print_args(&loader);
		printf(" <>console-server\n");
		printf("on '%c' from fd %d: stop kvmload-fs, umount %s/%s, answer '%c'\n", RELEASE_ASK,
		       RELEASE_FD, dir, RUNDIR_VIEW, RELEASE_DONE);
		if (vm->restart)
			printf("on exit: load again after a reset (status 0): at once after a run of %d s"
			       " or more, else after %d s doubling per quick reset in a row, stopping at the"
			       " %dth; else stop\n", GUEST_QUICK_S, GUEST_BACKOFF_S, GUEST_QUICK_MAX);
		else
			printf("on exit: stop\n");
	}
	argv_free(&fs);
	argv_free(&loader);
}

void guest_plan_add(const struct hotplug *h, const struct conf_vm *vm, const struct dev *d)
{
	struct guest_disks g = { .v = { d->disknode ? d->disknode : "?" }, .n = 1 };
	struct rundir_holder who;

	printf("vm %s: %s matches (%s:%d)\n", vm->name, d->node, vm->file, vm->line);
	if (rundir_holder(h->run_dir, vm->name, &who) == 1) {
		printf(strcmp(who.prog, STATE_PROG) == 0 ? "vm %s: already running; nothing to do\n"
							  : "vm %s: held by %s (pid %ld); not starting\n",
		       vm->name, log_esc(who.prog), (long)who.pid);
		return;
	}
	if (guest_plan_disks(h, vm, d, &g) == 0)
		guest_plan_start(h, vm, &g);
	guest_disks_free(&g);
}

void guest_plan_remove(const struct hotplug *h, const char *vm)
{
	char dir[4096];

	rundir_path(dir, sizeof(dir), h->run_dir, vm, NULL);
	printf("vm %s: stop kvmload pid %d (SIGTERM, SIGKILL after %d s)\n", vm,
	       (int)rundir_read_pid(h->run_dir, vm, STATE_GUEST), guest_stop_seconds(h));
	printf("vm %s: stop kvmload-fs pid %d\n", vm, (int)rundir_read_pid(h->run_dir, vm, RUNDIR_FS));
	printf("umount %s/%s\n", dir, RUNDIR_VIEW);
	printf("rm -r %s\n", dir);
}
