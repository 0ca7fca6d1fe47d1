/* spawn.h: the first steps of every supervised child kvmload's programs start (the view daemon, the image exporter). */
#ifndef KVMLOAD_SPAWN_H
#define KVMLOAD_SPAWN_H

#include <signal.h>
#include <sys/types.h>

/*
 * In a freshly forked child, before exec (async-signal-safe): its own
 * process group (a terminal's Ctrl-C reaches the parent alone, which stops
 * its children in order), deathsig when the parent dies (checked against a
 * parent that died before it was armed), the parent's handlers back to
 * their defaults (they clean up the parent's files and must never run here),
 * an empty signal mask, stdin and stdout on /dev/null.  0, or -1 (the child
 * should _exit(127)).
 */
int spawn_prepare(pid_t parent, int deathsig);

/*
 * In a child (async-signal-safe): sig when the parent dies, then the parent
 * checked to be there still (it may have died before this).  A change of
 * uid clears it: call it again after one.  0, -errno (prctl), or -ESRCH
 * (the parent is gone).
 */
int spawn_deathsig(pid_t parent, int sig);

/*
 * In a freshly forked child (async-signal-safe): every handler the parent
 * installed back to its default (they clean up the parent's files and must
 * never run there); ignored signals stay ignored.  spawn_prepare does it too.
 */
void spawn_default_signals(void);

/*
 * Also before exec (async-signal-safe): want[k] at descriptor k for k < n
 * (-1: k closed), and nothing else open from n on, so a child inherits
 * exactly what its argument vector names.  Every source is first copied to
 * n or above, so no placement overwrites a source still to be placed.
 * 0, or -1 (the child should _exit(127)).
 */
int spawn_place(const int *want, int n);

#endif
