/* view_setup.h: phase 5: the VM claimed and its view started (or --view's attached), the console socket, and the view's directory the loader sees as host0:. */
#ifndef KVMLOAD_VIEW_SETUP_H
#define KVMLOAD_VIEW_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"
#include "loader.h"

/* The options phase 5 follows. */
struct view_setup {
	const char *vmname;
	const char *view;          /* --view: an existing view, not ours to unmount; else NULL */
	const char *host;          /* -h, or NULL */
	const char *const *disks;  /* -d, --disk-fd: the names, as given */
	int ndisks;
	const char *user;          /* --user: the view's daemon runs as it; NULL: its default */
	const char *boot_part;     /* --boot-part, or NULL */
	bool named_loader;         /* -l: host0: may stay empty (the plugin may read the disks itself) */
	bool console_socket;       /* --console-socket */
};

/*
 * With -h or -d: end->claim taken and end->view started on l's disk
 * descriptors (the very bytes the loader reads), its daemon's death
 * watched; with --view: that view attached.  Then l->host_fd is the
 * view's directory served as host0:, and bootdir its path; -1 and "" when
 * there is none.  Ends kvmload with its message on failure (status
 * CLEANUP_EX_VIEW when the view cannot be made); what was made is undone
 * by the clean-up.
 */
void view_setup_make(const struct view_setup *s, struct loader *l, struct cleanup *end, char *bootdir,
		     size_t len);

/*
 * --console-socket, once the VM's runtime directory is ours: a console
 * server there (consrv) serves what the console had so far (terminal or
 * stdio) and the socket; the console becomes the server's guest side.
 */
void view_setup_console(const struct view_setup *s, struct loader *l, struct cleanup *end);

#endif
