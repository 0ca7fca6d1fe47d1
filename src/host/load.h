/* load.h: phases 8-10: userboot plugins run, each in its own sandboxed child, until one reaches exec; the swap between them. */
#ifndef KVMLOAD_LOAD_H
#define KVMLOAD_LOAD_H

#include "cleanup.h"
#include "loader.h"
#include "loader_choice.h"
#include "plugin_child.h"
#include "sandbox.h"

/* What a load runs with. */
struct load_spec {
	const struct loader_choice *choice; /* the first plugin, and a swap's */
	const struct sandbox *sb;
	int timeout_s;                      /* --loader-timeout: one clock for every plugin; 0: none */
	const struct plugin_watch *watch;   /* also served while a plugin runs (the stopped QEMU); or NULL */
	struct cleanup *end;                /* the plugin's pid, for the handlers; the console, given back on exit */
};

/*
 * Run plugins until one reaches exec: 0, with l->regs and l->written
 * checked and set; -ECANCELED when the watch stopped the plugin.  Every
 * other end of the loader ends kvmload with bhyveload's status (1 after
 * `quit` or an error, 2 after `reboot`), saying why.
 */
int load_run(struct loader *l, const struct load_spec *s);

#endif
