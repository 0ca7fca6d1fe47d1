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

int guest_loader_args(const struct hotplug *h, const struct conf_vm *vm,
			     const struct guest_disks *g, struct argv *a)
{
	char view[4096];

	if (rundir_path(view, sizeof(view), h->run_dir, vm->name, RUNDIR_VIEW) < 0)
		return -ENAMETOOLONG;
	argv_add(a, h->kvmload);
	argv_add(a, "--view");
	argv_add(a, view);
	argv_add(a, "--view-release-fd");
	argv_addf(a, "%d", RELEASE_FD);
	if (conf_vm_format(vm)) {
		argv_add(a, "--format");
		argv_add(a, conf_vm_format(vm));
	}
	for (int i = 0; i < g->n; i++) {
		argv_add(a, "--disk-fd");
		argv_addf(a, "%d:%s", GUEST_FD_DISK0 + i, g->v[i]);
	}
	if (vm->memory) {
		argv_add(a, "-m");
		argv_add(a, vm->memory);
	}
	if (vm->loader) {
		argv_add(a, "-l");
		argv_add(a, vm->loader);
	}
	if (vm->loader_dir) {
		argv_add(a, "--loader-dir");
		argv_add(a, vm->loader_dir);
	}
	if (vm->boot_part) {
		argv_add(a, "--boot-part");
		argv_add(a, vm->boot_part);
	}
	if (vm->cpus) {
		char n[16];

		snprintf(n, sizeof(n), "%d", vm->cpus);
		argv_add(a, "--cpus");
		argv_add(a, n);
	}
	if (vm->net) {
		argv_add(a, "--net");
		argv_add(a, vm->net);
	}
	if (vm->accel) {
		argv_add(a, "--accel");
		argv_add(a, vm->accel);
	}
	if (vm->ro)
		argv_add(a, "--ro");
	if (vm->user) {
		argv_add(a, "--user");
		argv_add(a, vm->user);
	}
	if (vm->mac) {
		argv_add(a, "--mac");
		argv_add(a, vm->mac);
	}
	if (vm->loader_timeout) {
		argv_add(a, "--loader-timeout");
		argv_addf(a, "%d", vm->loader_timeout);
	}
	for (int i = 0; i < vm->nenv; i++) {
		argv_add(a, "-e");
		argv_add(a, vm->env[i]);
	}
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
