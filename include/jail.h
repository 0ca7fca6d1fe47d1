/* jail.h: a child in namespaces of its own that sees only /usr: how the image exporter runs without a capability on the host. */
#ifndef KVMLOAD_JAIL_H
#define KVMLOAD_JAIL_H

#include <sys/types.h>

/* In the jail: an empty writable directory for what the jailed program makes (the export's mount point). */
#define JAIL_RUN "/run"

/*
 * In a forked, single-threaded child, async-signal-safe: a user namespace
 * of its own in which uid and gid 0 are outer_uid and outer_gid (the
 * caller's; no capability outside it), and mount, PID, network, IPC and UTS
 * namespaces it owns; nothing mounted propagates back.  The jail's root is
 * staged: /usr (read-only, nosuid, nodev) with the top-level links to it
 * (/bin, /lib, ...), a /dev of null, zero, urandom and fuse, an empty
 * JAIL_RUN.  The PID namespace is for children: fork, and call jail_finish
 * in that child (PID 1 of the jail).  0 or -errno.
 */
int jail_enter(uid_t outer_uid, gid_t outer_gid);

/*
 * In the child forked after jail_enter: a /proc of the jail's own PID
 * namespace, then the staged root becomes the root and the host's tree is
 * detached.  0 or -errno.
 */
int jail_finish(void);

#endif
