/* release.h: the view-release protocol between kvmload --view and the view's owner (kvmload-hotplug): the bytes, the descriptor, the wait. */
#ifndef KVMLOAD_RELEASE_H
#define KVMLOAD_RELEASE_H

/*
 * The guest may write its disks, so the read-only view of them must be gone
 * before QEMU opens them.  The view's owner mounts it, starts
 * kvmload --view DIR --view-release-fd RELEASE_FD with one end of a
 * SOCK_STREAM socket pair as that descriptor, and keeps the other end.
 * Once per kvmload:
 *   kvmload, the loader done and all it held in the view closed, writes
 *     RELEASE_ASK (release_ask) and waits up to RELEASE_WAIT_MS for the
 *     answer (release_await);
 *   the owner reads RELEASE_ASK (release_heard), stops the view's daemon,
 *     unmounts the view, and only then writes RELEASE_DONE (release_answer);
 *     when the view cannot be stopped it closes its end without answering;
 *   kvmload gives QEMU the disks on RELEASE_DONE alone: another byte, the
 *     owner's end closed or no answer in time, and it exits (status 4)
 *     without starting the guest.
 * A kvmload that closes its end without RELEASE_ASK (it ended before the
 * loader was done: a loader error) releases nothing: the view stays.
 *
 * The owner has no wait of its own: it answers once its view is down, which
 * its view daemon's stop timeout bounds (kvmload-hotplug --stop-timeout,
 * then SIGKILL; its default fits in RELEASE_WAIT_MS, guest_sup.c asserts);
 * past RELEASE_WAIT_MS kvmload has given up.
 */
#define RELEASE_ASK 'R'        /* kvmload: the view is no longer needed */
#define RELEASE_DONE 'K'       /* the owner: the view is gone */
#define RELEASE_FD 3           /* kvmload-hotplug's choice: right after stderr, the disks from 4 on */
#define RELEASE_WAIT_MS 30000  /* kvmload's wait for RELEASE_DONE */

/*
 * kvmload: write RELEASE_ASK on fd.  0 or -errno (-EPIPE: the owner closed
 * its end; the caller ignores SIGPIPE, as kvmload does).
 */
int release_ask(int fd);

/*
 * kvmload: wait up to timeout_ms for RELEASE_DONE on fd.  0; -ETIMEDOUT
 * when nothing came in time, -EPROTO when another byte came, -EPIPE when
 * the owner closed its end, -errno when poll or read failed (-ECONNRESET:
 * the owner's end closed with RELEASE_ASK unread).
 */
int release_await(int fd, int timeout_ms);

/*
 * The owner: read kvmload's byte from fd (readable: poll said so).  1:
 * RELEASE_ASK; 0: kvmload closed its end (nothing to release); -EPROTO:
 * another byte, stored in *got; -errno when read failed.
 */
int release_heard(int fd, unsigned char *got);

/* The owner: RELEASE_DONE on fd, never a SIGPIPE.  0 or -errno (-EPIPE: kvmload is gone). */
int release_answer(int fd);

#endif
