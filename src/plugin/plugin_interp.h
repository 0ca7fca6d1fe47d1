/* plugin_interp.h: interpreter names: the "$Interpreter:" marker in loader binaries and the bytes a name may hold. */
#ifndef KVMLOAD_PLUGIN_INTERP_H
#define KVMLOAD_PLUGIN_INTERP_H

#include <stdbool.h>

#include "span.h"

/*
 * The one limit on an interpreter name, wherever it comes from: the marker in
 * a guest's /boot/loader or a plugin, or a plugin's swap request (the sandbox's
 * result carries it, NUL included).  bhyveload has none; userboot's names are
 * 4th, lua, simp.  A longer one is refused, never cut short.
 */
#define PLUGIN_INTERP_MAX 31

/* A name becomes part of a file name (userboot_<name>.so): only plain lower-case words. */
static inline bool plugin_interp_char_ok(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* The first "$Interpreter:" in s followed by 1..PLUGIN_INTERP_MAX of [a-z0-9] and a NUL; false if none. */
bool plugin_interp_find(struct span s, char interp[PLUGIN_INTERP_MAX + 1]);

#endif
