/* guest_argv.c: kvmload's and kvmload-fs's command lines for a VM, shared by the real start and the --dry-run plan, and kvmload's spawn. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guest_int.h"
#include "log.h"
#include "spawn.h"

/*
 * The view's daemon on the whole disk (nosuid,nodev,noexec, as every
 * kvmload-fs mount: kvmload reads its userboot.so and maps it itself), serving
 * as the VM's user.  mnt (PATH_MAX) receives the mount point the spec points to.
 */
int guest_fs_spec(const struct hotplug *h, const struct conf_vm *vm,
			 const struct guest_disks *g, const int *fds, char *mnt, struct viewd_spec *spec)
{
	if (rundir_path(mnt, PATH_MAX, h->run_dir, vm->name, RUNDIR_VIEW) < 0)
		return -ENAMETOOLONG;
	*spec = (struct viewd_spec){ .prog = h->kvmload_fs, .mnt = mnt, .disks = g->v, .disk_fds = fds,
				     .format = conf_vm_format(vm), .ndisks = g->n, .user = vm->user };
	return 0;
}

/* flag and value, when the definition has the setting (value not NULL). */
static void guest_argv_opt(struct argv *a, const char *flag, const char *value)
{
	if (!value)
		return;
	argv_add(a, flag);
	argv_add(a, value);
}

/* kvmload and what a start hands it: the view, its release socket, each disk at the descriptor guest_spawn gives it. */
static int guest_loader_head(const struct hotplug *h, const struct conf_vm *vm, const struct guest_disks *g,
			     struct argv *a)
{
	char view[4096];

	if (rundir_path(view, sizeof(view), h->run_dir, vm->name, RUNDIR_VIEW) < 0)
		return -ENAMETOOLONG;
	argv_add(a, h->kvmload);
	argv_add(a, "--view");
	argv_add(a, view);
	argv_add(a, "--view-release-fd");
	argv_addf(a, "%d", RELEASE_FD);
	guest_argv_opt(a, "--format", conf_vm_format(vm));
	for (int i = 0; i < g->n; i++) {
		argv_add(a, "--disk-fd");
		argv_addf(a, "%d:%s", GUEST_FD_DISK0 + i, g->v[i]);
	}
	return 0;
}

/* The definition's guest settings as kvmload's options; one it lacks passes nothing. */
static void guest_loader_settings(const struct conf_vm *vm, struct argv *a)
{
	guest_argv_opt(a, "-m", vm->memory);
	guest_argv_opt(a, "-l", vm->loader);
	guest_argv_opt(a, "--loader-dir", vm->loader_dir);
	guest_argv_opt(a, "--boot-part", vm->boot_part);
	if (vm->cpus) {
		argv_add(a, "--cpus");
		argv_addf(a, "%d", vm->cpus);
	}
	guest_argv_opt(a, "--net", vm->net);
	guest_argv_opt(a, "--accel", vm->accel);
	if (vm->ro)
		argv_add(a, "--ro");
	guest_argv_opt(a, "--user", vm->user);
	guest_argv_opt(a, "--mac", vm->mac);
	if (vm->loader_timeout) {
		argv_add(a, "--loader-timeout");
		argv_addf(a, "%d", vm->loader_timeout);
	}
	for (int i = 0; i < vm->nenv; i++) {
		argv_add(a, "-e");
		argv_add(a, vm->env[i]);
	}
}

/* kvmload's command line for vm on the disks g, into a.  0, -ENAMETOOLONG or -ENOMEM. */
int guest_loader_args(const struct hotplug *h, const struct conf_vm *vm, const struct guest_disks *g,
		      struct argv *a)
{
	if (guest_loader_head(h, vm, g, a) < 0)
		return -ENAMETOOLONG;
	guest_loader_settings(vm, a);
	argv_add(a, vm->name);
	return a->oom ? -ENOMEM : 0;
}

void guest_print_args(const struct argv *a)
{
	for (int i = 0; i < a->n; i++)
		printf("%s%s", i ? " " : "", a->v[i]);
}

/*
 * kvmload with stdin/stdout given, release_fd as 3 (its view-release
 * socket) and the disks' descriptors from GUEST_FD_DISK0 on, nothing else.
 * The child gets the caller's original signal mask back and SIGTERM when
 * its parent dies, so a killed supervisor never leaves a guest behind.
 * *pid set (reaped by the supervisor's waitpid loop, even if it failed to
 * exec), or -errno with *pid -1.
 */
int guest_spawn(pid_t *pid, const struct argv *a, int in_fd, int out_fd, int release_fd, const int *fds,
		       int nfds, const sigset_t *mask)
{
	int want[GUEST_FD_DISK0 + VIEWD_MAXDISKS] = { in_fd, out_fd, STDERR_FILENO, release_fd };
	struct spawn_spec spec = { .argv = a->v, .fds = want, .nfds = GUEST_FD_DISK0 + nfds,
				   .deathsig = SIGTERM, .mask = mask };
	struct spawn_proc p;
	int r;

	for (int i = 0; i < nfds; i++)
		want[GUEST_FD_DISK0 + i] = fds[i];
	r = spawn_child(&spec, &p);
	spawn_release(&p);
	if (r < 0 && p.failed == SPAWN_EXEC)
		dprintf(STDERR_FILENO, "kvmload-hotplug: %s: %s\n", log_esc(a->v[0]), strerror(-r));
	/* A child that failed has ended 127: the waitpid loop reaps it as any kvmload that ended. */
	*pid = p.pid;
	return p.pid > 0 ? 0 : r;
}
