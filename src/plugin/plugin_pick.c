/* plugin_pick.c: reading the guest's /boot/loader for its interpreter and searching the plugin directories in order. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beneath.h"
#include "plugin_interp.h"
#include "plugin_pick.h"
#include "userboot.h"

enum plugin_pick_said plugin_pick_interp(int root_fd, char interp[PLUGIN_INTERP_MAX + 1])
{
	uint8_t *buf;
	size_t len;
	bool found;

	interp[0] = '\0';
	/* As userboot: a loader that cannot be read whole is not looked into. */
	if (root_fd < 0 || beneath_read_all(root_fd, "boot/loader", PLUGIN_PICK_LOADER_MAX, &buf, &len) < 0)
		return PLUGIN_PICK_NOLOADER;
	found = plugin_interp_find(span_make(buf, len), interp);
	free(buf);
	if (found)
		return PLUGIN_PICK_MARKER;
	strcpy(interp, "4th");
	return PLUGIN_PICK_NOMARKER;
}

int plugin_pick_open(const char *path)
{
	/* The host's own files: symlinks are followed, as any program's would be. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	return fd < 0 ? -errno : fd;
}

/* Add one candidate and try to open it; true when it is usable (its fd open). */
static bool pick_add(struct plugin_pick *p, const struct plugin_pick_where *w, bool guest,
		     const char *file)
{
	struct plugin_pick_cand *c = &p->c[p->n];
	char rel[64];
	int n, fd;

	if (guest && w->guest_fd < 0)
		return false;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->guest = guest;
	c->generic = strcmp(file, "userboot.so") == 0;
	snprintf(rel, sizeof(rel), "boot/%s", file);
	n = snprintf(c->path, sizeof(c->path), "%s/%s", guest ? w->guest_dir : w->loader_dir,
		     guest ? rel : file);
	p->n++;
	if (n < 0 || (size_t)n >= sizeof(c->path))
		fd = -ENAMETOOLONG;
	else if (guest)
		fd = beneath_open_file(w->guest_fd, rel); /* never by path: the view is the guest's */
	else
		fd = plugin_pick_open(c->path);
	if (fd < 0) {
		c->err = -fd;
		return false;
	}
	c->fd = fd;
	return true;
}

int plugin_pick_find(struct plugin_pick *p, const struct plugin_pick_where *w, const char *interp,
		     bool swap)
{
	char named[sizeof("userboot_.so") + PLUGIN_INTERP_MAX];

	p->n = 0;
	snprintf(named, sizeof(named), "userboot_%.*s.so", PLUGIN_INTERP_MAX, interp);
	for (int guest = 0; guest <= 1; guest++) {
		if (*interp && pick_add(p, w, guest, named))
			return p->n - 1;
		if ((!swap || !*interp) && pick_add(p, w, guest, "userboot.so"))
			return p->n - 1;
	}
	return -ENOENT;
}
