/* loader_choice.h: which userboot plugin kvmload runs: -l as given, else the one the guest's /boot/loader asks for, by plugin_pick's rules. */
#ifndef KVMLOAD_LOADER_CHOICE_H
#define KVMLOAD_LOADER_CHOICE_H

#include <stdbool.h>
#include <stddef.h>

#include "plugin_pick.h"

/* What the choice depends on. */
struct loader_choice {
	const char *loader;                    /* -l, or NULL */
	bool no_sandbox;                       /* --no-sandbox: a guest's plugin needs trust_guest */
	bool trust_guest;                      /* --trust-guest-loader */
	const struct plugin_pick_where *where; /* the plugin directory and the guest's /boot */
};

/*
 * The plugin to start with, opened (what is found is what is loaded):
 * path gets its path.  Ends the load naming what was tried when there is
 * none.
 */
int loader_choice_first(const struct loader_choice *lc, char *path, size_t len);

/* Phase 6: choose among the candidates for interp, or end the load naming what was tried. */
const struct plugin_pick_cand *loader_choice_pick(const struct loader_choice *lc, const char *interp,
						  bool swap, const char *why, struct plugin_pick *p);

/* Where a chosen plugin came from, for the message saying why it was chosen. */
const char *loader_choice_origin(const struct loader_choice *lc, const struct plugin_pick_cand *c,
				 const char *interp, char *buf, size_t len);

#endif
