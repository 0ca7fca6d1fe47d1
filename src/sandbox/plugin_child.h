/* plugin_child.h: one userboot plugin run in a sandboxed child process, and its result taken back by the parent. */
#ifndef KVMLOAD_LOADER_CHILD_H
#define KVMLOAD_LOADER_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "loader.h"
#include "plugin.h"
#include "sandbox.h"
#include "sandbox_msg.h"

/* Another descriptor the parent serves while it waits for the plugin (QEMU, started early, is one). */
struct plugin_watch {
	int fd;               /* polled for reading */
	int (*fn)(void *arg); /* called when it is readable: 0 to go on, < 0 to stop the plugin */
	void *arg;
};

/*
 * Fork; the child keeps the console, stderr, the disks and l->host_fd,
 * enters the sandbox, runs p's loader_main with the callbacks on its copy
 * of l (guest memory is shared: copyin lands in l->gmem), sends how the
 * plugin left and exits.  The parent waits for it (*pid holds the child's
 * pid meanwhile, for signal handlers to kill) and checks what it sent.
 * deadline (monotime_ms; < 0: none) bounds the wait for the result and
 * for the child's end; past it the child is killed (SIGKILL, wherever it is:
 * at a console read, in a loop) and reaped.  While it waits the parent also
 * serves watch (may be NULL); when its function returns < 0 the child is
 * killed and reaped the same way.  path names the plugin in messages.
 * Returns 0 with res filled, or -ECHILD (the child died or exited without a
 * result) / -EPROTO (it sent something that is not a valid result) /
 * -ETIMEDOUT (the deadline passed) / -ECANCELED (the watch stopped it) /
 * -errno, with a message in err.
 */
int plugin_child_run(struct loader *l, struct plugin *p, const char *path, const struct sandbox *sb,
		     int64_t deadline, const struct plugin_watch *watch, volatile pid_t *pid,
		     struct sandbox_result *res, char *err, size_t errlen);

#endif
