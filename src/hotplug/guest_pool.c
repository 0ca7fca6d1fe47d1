/* guest_pool.c: a VM's disks found by its supervisor, and a pool VM's wait for the rest of its devices. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "guest_int.h"
#include "log.h"
#include "monotime.h"

#define GUEST_POOL_POLL_MS 250 /* how often a pool's supervisor looks for its devices */

/* The guest's disks as they are now (a pool's, complete or not); trouble is logged. */
static int guest_disks_look(struct guest_sup *s)
{
	const struct dev_member *dup;
	char list[4096];
	int r = guest_disks_find(s->h, s->vm, s->d, &s->disks, &dup);

	if (r == -EEXIST)
		log_warnx("vm %s: pool %s: %s and %s carry the same vdev GUID %" PRIu64
			  " (a copied disk?); not starting", s->vm->name, log_esc(s->disks.name),
			  log_esc(dup[-1].d.node), log_esc(dup->d.node), dup->vdev);
	else if (r == -E2BIG)
		log_warnx("vm %s: pool %s: its devices are on more than %d disks (%s); not starting",
			  s->vm->name, log_esc(s->disks.name), CONF_ZPOOL_MEMBERS_MAX,
			  guest_pool_list(&s->disks, list, sizeof(list)));
	else if (r == -ENOSPC)
		log_warnx("vm %s: %d disk(s) of its device(s) and %d disk = lines are more than "
			  "kvmload's %d disks; not starting", s->vm->name, s->disks.ndev,
			  s->vm->ndisks, VIEWD_MAXDISKS);
	else if (r < 0)
		log_warnx("vm %s: looking for the pool's devices: %s", s->vm->name, strerror(-r));
	return r;
}

/*
 * A pool VM whose devices are not all there yet: wait for them, holding the
 * VM but not its lock (another add finds it running, a remove may take it;
 * the monitor goes on with other events).  Looks every GUEST_POOL_POLL_MS
 * until zpool-wait seconds have passed.  0 with s->disks complete;
 * -ETIMEDOUT (logged: who is there, how many are missing), -EINTR (a signal:
 * stop), -ECANCELED (a remove took the VM), or another -errno (logged).
 */
static int guest_pool_wait(struct guest_sup *s)
{
	const struct conf_vm *vm = s->vm;
	long deadline = monotime_ms() + vm->zpool_wait * 1000L;
	char list[4096];
	int r;

	log_info("vm %s: pool %s: %zu of %d devices present (%s); waiting up to %d s for the rest",
		 vm->name, log_esc(s->disks.name), s->disks.npool, vm->zpool_members,
		 guest_pool_list(&s->disks, list, sizeof(list)), vm->zpool_wait);
	for (;;) {
		struct pollfd p = { .fd = s->sfd, .events = POLLIN };
		struct signalfd_siginfo si;
		long left = deadline - monotime_ms();

		if (left <= 0) {
			log_warnx("vm %s: pool %s: %zu of %d devices present after %d s (%s), %zu "
				  "missing; not starting", vm->name, log_esc(s->disks.name),
				  s->disks.npool, vm->zpool_members, vm->zpool_wait,
				  guest_pool_list(&s->disks, list, sizeof(list)),
				  (size_t)vm->zpool_members - s->disks.npool);
			return -ETIMEDOUT;
		}
		r = poll(&p, 1, left < GUEST_POOL_POLL_MS ? (int)left : GUEST_POOL_POLL_MS);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && read(s->sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD) {
			log_info("vm %s: stopping on signal %u while waiting for the pool", vm->name,
				 si.ssi_signo);
			return -EINTR;
		}
		if (!rundir_owns(s->h->run_dir, vm->name, s->claim_fd))
			return -ECANCELED;
		r = guest_disks_look(s);
		if (r < 0)
			return r;
		if (s->disks.npool >= (size_t)vm->zpool_members)
			return 0;
	}
}

/*
 * The guest's disks: a pool VM's devices, waited for unless all are there.
 * Called with the VM lock *lock_fd held, which the wait lets go of and takes
 * again (*lock_fd is then the new one, or -1 when it could not be had).
 */
int guest_find_disks(struct guest_sup *s, int *lock_fd)
{
	const struct conf_vm *vm = s->vm;
	char list[4096];
	int r = guest_disks_look(s);

	if (r < 0 || !conf_vm_zpool(vm))
		return r;
	if (s->disks.npool < (size_t)vm->zpool_members) {
		rundir_unlock(s->h->run_dir, vm->name, *lock_fd);
		r = guest_pool_wait(s);
		*lock_fd = rundir_lock(s->h->run_dir, vm->name);
		if (*lock_fd < 0) {
			log_warnx("vm %s: lock in %s: %s", vm->name, s->h->run_dir, strerror(-*lock_fd));
			return *lock_fd;
		}
		/* A remove cleared the VM meanwhile (perhaps someone holds it anew): nothing is ours. */
		if (!rundir_owns(s->h->run_dir, vm->name, s->claim_fd)) {
			log_info("vm %s: stopped while waiting for the pool's devices", vm->name);
			close(s->claim_fd);
			s->claim_fd = -1;
			return -ECANCELED;
		}
		if (r < 0)
			return r;
		log_info("vm %s: pool %s: all %d devices present (%s)", vm->name,
			 log_esc(s->disks.name), vm->zpool_members,
			 guest_pool_list(&s->disks, list, sizeof(list)));
	}
	if (s->disks.npool > (size_t)vm->zpool_members)
		log_warnx("vm %s: pool %s: %zu devices present, more than zpool-members = %d; "
			  "the guest gets all of them (%s)", vm->name, log_esc(s->disks.name),
			  s->disks.npool, vm->zpool_members,
			  guest_pool_list(&s->disks, list, sizeof(list)));
	return 0;
}
