/* sandbox.h: confining the process that runs a userboot plugin: descriptors, privileges, Landlock, the seccomp allowlist. */
#ifndef KVMLOAD_SANDBOX_H
#define KVMLOAD_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "confine.h"

/* What the parent learnt once, before any plugin runs; every child is confined the same way. */
struct sandbox {
	bool enabled;      /* false with --no-sandbox: descriptors are still closed, nothing else */
	int landlock_abi;  /* the kernel's Landlock ABI version; 0 when it has none */
};

/* The allowlist, in the order the filter tests it; n gets its length. */
const struct confine_call *sandbox_calls(size_t *n);

/* Probe what the kernel offers (Landlock's ABI); says once, with -v, what will be used. */
void sandbox_init(struct sandbox *s, bool enabled);

/*
 * In the child, after everything it needs is open and before any plugin
 * code runs: close every descriptor but keep[0..nkeep), then (when
 * s->enabled) make it undumpable, set no_new_privs, chroot to root_fd's
 * directory where permitted, restrict files to reading beneath root_fd with
 * Landlock (no file access at all when root_fd < 0), drop every capability
 * (bounding set too, where permitted) and install the seccomp filter, whose
 * default is to kill the process.  Returns 0, or -errno with a message in err.
 */
int sandbox_enter(const struct sandbox *s, const int *keep, int nkeep, int root_fd, char *err,
		  size_t errlen);

#endif
