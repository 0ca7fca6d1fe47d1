/* plugin_pick.h: which userboot plugin to start: the interpreter the guest's /boot/loader names, and where that plugin is found. */
#ifndef KVMLOAD_LOADER_PICK_H
#define KVMLOAD_LOADER_PICK_H

#include <limits.h>
#include <stdbool.h>

#include "plugin_interp.h"

#define PLUGIN_PICK_MAX 4         /* candidates in one search */
#define PLUGIN_PICK_LOADER_MAX (64u << 20) /* a /boot/loader larger than this is not read */

enum plugin_pick_said {
	PLUGIN_PICK_MARKER,   /* /boot/loader carries "$Interpreter:<name>" */
	PLUGIN_PICK_NOMARKER, /* /boot/loader without a usable marker: 4th */
	PLUGIN_PICK_NOLOADER, /* no /boot/loader to read (or no guest tree at all) */
};

/*
 * Read boot/loader beneath root_fd (-1: there is no guest tree).  interp
 * gets the marker's name, "4th" without a marker, "" without a loader.
 */
enum plugin_pick_said plugin_pick_interp(int root_fd, char interp[PLUGIN_INTERP_MAX + 1]);

/* Where plugins may come from. */
struct plugin_pick_where {
	const char *loader_dir; /* the host's (--loader-dir or the installed one): trusted */
	int guest_fd;           /* the guest's boot directory in the view, -1 if none */
	const char *guest_dir;  /* its path, for loading and for messages */
};

struct plugin_pick_cand {
	char path[PATH_MAX];
	bool guest;   /* from the guest's /boot: untrusted code */
	bool generic; /* userboot.so, not userboot_<interp>.so */
	int err;      /* why it cannot be used (errno), 0 if it can */
	int fd;       /* the usable candidate, open: what is loaded (plugin_load_fd); else -1 */
};

struct plugin_pick {
	struct plugin_pick_cand c[PLUGIN_PICK_MAX];
	int n;
};

/*
 * Try the candidates for interp in search order until one opens: the host
 * directory's userboot_<interp>.so and userboot.so (any file that opens for
 * reading), then the same two in the guest's boot/ (regular files beneath
 * guest_fd only, opened through it, never by path).  A swap looks for
 * userboot_<interp>.so only (the generic plugin is what asked); an empty
 * interp for userboot.so only.  Returns the index of the usable candidate,
 * the last one listed, whose fd the caller loads and closes; or -ENOENT
 * with every candidate listed and no fd open.
 */
int plugin_pick_find(struct plugin_pick *p, const struct plugin_pick_where *w, const char *interp,
		     bool swap);

/*
 * A plugin file of the host (the plugin directory, -l), opened read-only as
 * plugin_pick_find opens the host's candidates.  Returns the fd or -errno.
 */
int plugin_pick_open(const char *path);

#endif
