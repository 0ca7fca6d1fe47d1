/* jail.h: a child in namespaces of its own that sees only /usr: how the image exporter runs without a capability on the host. */
#ifndef KVMLOAD_JAIL_H
#define KVMLOAD_JAIL_H

#include <stdbool.h>
#include <sys/types.h>

/* In the jail: an empty writable directory for what the jailed program makes (the export's mount point). */
#define JAIL_RUN "/run"
/* Where jail_stage puts the root together until jail_finish makes it the root (a mount point every host has). */
#define JAIL_STAGE "/tmp"
/* In the jail: the one supplementary group jail_map may give it (a device's group outside). */
#define JAIL_GROUP 2

/*
 * In a forked, single-threaded child, async-signal-safe: a user namespace
 * of its own (no capability outside it) and mount, PID, network, IPC and
 * UTS namespaces it owns.  Its uids and gids mean nothing until its parent
 * has called jail_map; then jail_stage.  0 or -errno.
 */
int jail_unshare(void);

/*
 * In the parent, for the child pid that called jail_unshare: uid and gid 0
 * in the jail are uid0/gid0 outside (who the jailed program runs as), and 1
 * is uid1/gid1 when that is another user (someone else who must be able to
 * read what it serves: FUSE refuses requests from users its mount's
 * namespace cannot name); gid JAIL_GROUP is group outside unless that is
 * (gid_t)-1 (a device's group, when the program must reopen a device the
 * user has no right to but through it).  Two users or a group take root's
 * privilege to map.  0 or -errno.
 */
int jail_map(pid_t pid, uid_t uid0, gid_t gid0, uid_t uid1, gid_t gid1, gid_t group);

/*
 * In the child, once mapped: it becomes the jail's uid 0 (with group
 * JAIL_GROUP alone as supplementary group when group, none else), nothing
 * mounted propagates back, and the
 * jail's root is staged: /usr (read-only, nosuid, nodev) with the top-level
 * links to it (/bin, /lib, ...), a /dev of null, zero, urandom and fuse, an
 * empty JAIL_RUN.  The PID namespace is for children: fork, and call
 * jail_finish in that child (PID 1 of the jail).  0 or -errno.
 */
int jail_stage(bool group);

/*
 * As root: a user namespace (its descriptor, or -errno) whose only ids are
 * uid/gid `to`, standing for `from` outside: through a mount idmapped with
 * it, a file `from` owns is `to`'s.  Nothing runs in it.
 */
int jail_idmap(uid_t from, gid_t gfrom, uid_t to, gid_t gto);

/*
 * In the child forked after jail_stage: a /proc of the jail's own PID
 * namespace, then the staged root becomes the root and the host's tree is
 * detached.  0 or -errno.
 */
int jail_finish(void);

#endif
