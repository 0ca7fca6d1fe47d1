/* guest_int.h: guest*.c's own: a VM's disks, its supervisor's state, and the functions the files share (the public ones are hotplug.h's). */
#ifndef KVMLOAD_GUEST_INT_H
#define KVMLOAD_GUEST_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include "argv.h"
#include "consrv.h"
#include "hotplug.h"
#include "release.h"
#include "state.h"
#include "viewd.h"

#define GUEST_FD_DISK0 (RELEASE_FD + 1) /* kvmload finds the disks from here on */
_Static_assert(RELEASE_FD == STDERR_FILENO + 1, "guest_spawn places the release socket after stderr");
/*
 * restart = yes: a guest that reset within GUEST_QUICK_S of its kvmload's
 * start is loaded again only after GUEST_BACKOFF_S << (n - 1) seconds, n its
 * consecutive quick resets (1, 2, 4, 8, 16 s); the GUEST_QUICK_MAX-th in a
 * row retires it (a reset loop: a kernel that panics at boot, say).  One that
 * ran longer starts the count again and is loaded again at once.  The limits
 * are kvmload-hotplug(8)'s and kvmload.conf(5)'s (restart).
 */
#define GUEST_QUICK_S 60
#define GUEST_BACKOFF_S 1
#define GUEST_QUICK_MAX 6

/*
 * The disks a guest gets: its device's whole disk, or each of its pool's
 * devices' whole disks; then the definition's disk = lines.
 */
struct guest_disks {
	const char *v[VIEWD_MAXDISKS];
	int n;
	int ndev; /* v[0..ndev) are the device's disk(s), the rest the disk = lines */
	struct dev_member *pool; /* the pool's devices (they own the strings in v) */
	size_t npool;
	uint64_t guid;    /* the pool's GUID, from the device that started the VM */
	const char *name; /* the pool's name, likewise */
};

/* A supervisor's state: everything guest_add started and must stop. */
struct guest_sup {
	struct hotplug *h;
	const struct conf_vm *vm;
	const struct dev *d;
	sigset_t oldmask;
	int sfd, claim_fd;
	int release_fd; /* our end of kvmload's --view-release-fd socket, -1 once done with */
	pid_t guest;
	struct viewd fs;
	/*
	 * kvmload said 'R' and the view was stopped for it: no view and no
	 * kvmload-fs on purpose, which is not a view that died.  A restart
	 * mounts a fresh one.
	 */
	bool view_released;
	struct argv loader;
	struct guest_disks disks;
	int images[VIEWD_MAXDISKS]; /* the disks, opened for one start of the view and kvmload */
	struct consrv cons;         /* the console's server, for every kvmload this supervisor starts */
	int failed; /* kvmload's own failure (a sysexits status, 64 and up) that ended it; 0: none */
	long loaded_ms;  /* CLOCK_MONOTONIC ms of this kvmload's start: a run's length */
	int quick;       /* consecutive quick resets (GUEST_QUICK_S) */
	long restart_at; /* CLOCK_MONOTONIC ms at which a back-off wait ends; 0: none */
	bool exited;     /* last holds the latest end of a kvmload */
	struct state_exit last;
};

/* guest_disks.c */
void guest_disks_free(struct guest_disks *g);
int guest_disks_extra(const struct conf_vm *vm, struct guest_disks *g);
int guest_disks_find(const struct hotplug *h, const struct conf_vm *vm, const struct dev *d,
		     struct guest_disks *g, const struct dev_member **dup);
int guest_disks_open(const struct conf_vm *vm, const struct guest_disks *g, const int *fds, int *bad,
		     char *why, size_t len);
int guest_images_open(const struct guest_disks *g, int *fds, int *bad, char *why, size_t len);
void guest_images_close(const struct guest_disks *g, int *fds);
const char *guest_disk_name(const struct conf_vm *vm, const struct guest_disks *g, int i, char *buf,
			    size_t len);
const char *guest_pool_list(const struct guest_disks *g, char *buf, size_t len);

/* guest_argv.c: the one place the view's and kvmload's command lines are made, for a start and a plan */
int guest_fs_spec(const struct hotplug *h, const struct conf_vm *vm, const struct guest_disks *g,
		  const int *fds, char *mnt, struct viewd_spec *spec);
int guest_loader_args(const struct hotplug *h, const struct conf_vm *vm, const struct guest_disks *g,
		      struct argv *a);
void guest_print_args(const struct argv *a);
int guest_spawn(pid_t *pid, const struct argv *a, int in_fd, int out_fd, int release_fd, const int *fds,
		int nfds, const sigset_t *mask);

/* guest_stop.c */
int guest_stop_seconds(const struct hotplug *h);
void guest_stop_loader(const struct hotplug *h, const char *vm, pid_t *pid);
int guest_stop_fs(const struct hotplug *h, const char *vm, struct viewd *fs, bool detach);
int guest_teardown(const struct hotplug *h, const char *vm);

/* guest_sup.c: under the VM lock unless said otherwise */
int guest_claim(struct guest_sup *s);
int guest_start(struct guest_sup *s);
void guest_state(struct guest_sup *s, enum state_kind kind, const char *why);
void guest_release(struct guest_sup *s);
void guest_release_close(struct guest_sup *s);
int guest_reload_view(struct guest_sup *s);
int guest_reload(struct guest_sup *s);
void guest_sup_retire(struct guest_sup *s, const char *why);
void guest_sup_teardown(struct guest_sup *s);

/* guest_pool.c */
int guest_find_disks(struct guest_sup *s, int *lock_fd);

/* guest_restart.c: from a started guest until the supervisor is done with it */
void guest_supervise(struct guest_sup *s);

#endif
