/* plugin_pick.c: reading the guest's /boot/loader for its interpreter and searching the plugin directories in order. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "plugin_interp.h"
#include "plugin_pick.h"
#include "userboot.h"

/* A regular file beneath root: 0, or the errno that rules it out. */
static int pick_regular(int root, const char *path, struct stat *st)
{
	int fd = beneath_open(root, path, O_RDONLY | O_NOCTTY | O_NONBLOCK), e = 0;

	if (fd < 0)
		return errno;
	if (fstat(fd, st) < 0)
		e = errno;
	else if (!S_ISREG(st->st_mode))
		e = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
	close(fd);
	return e;
}

enum plugin_pick_said plugin_pick_interp(int root_fd, char interp[PLUGIN_INTERP_MAX + 1])
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	bool found;
	int fd;

	interp[0] = '\0';
	if (root_fd < 0 || pick_regular(root_fd, "boot/loader", &st) != 0 ||
	    (uint64_t)st.st_size > PLUGIN_PICK_LOADER_MAX)
		return PLUGIN_PICK_NOLOADER;
	fd = beneath_open(root_fd, "boot/loader", O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return PLUGIN_PICK_NOLOADER;
	buf = malloc((size_t)st.st_size + 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	/* As userboot: a loader that cannot be read whole is not looked into. */
	if (!buf || got != (size_t)st.st_size) {
		free(buf);
		return PLUGIN_PICK_NOLOADER;
	}
	found = plugin_interp_find(span_make(buf, got), interp);
	free(buf);
	if (found)
		return PLUGIN_PICK_MARKER;
	strcpy(interp, "4th");
	return PLUGIN_PICK_NOMARKER;
}

static void pick_add(struct plugin_pick *p, const struct plugin_pick_where *w, bool guest,
		     const char *file)
{
	struct plugin_pick_cand *c = &p->c[p->n];
	char rel[64];
	struct stat st;
	int n;

	if (guest && w->guest_fd < 0)
		return;
	memset(c, 0, sizeof(*c));
	c->guest = guest;
	c->generic = strcmp(file, "userboot.so") == 0;
	snprintf(rel, sizeof(rel), "boot/%s", file);
	n = snprintf(c->path, sizeof(c->path), "%s/%s", guest ? w->guest_dir : w->loader_dir,
		     guest ? rel : file);
	if (n < 0 || (size_t)n >= sizeof(c->path))
		c->err = ENAMETOOLONG;
	else if (guest)
		c->err = pick_regular(w->guest_fd, rel, &st);
	else
		c->err = access(c->path, R_OK) < 0 ? errno : 0;
	p->n++;
}

int plugin_pick_find(struct plugin_pick *p, const struct plugin_pick_where *w, const char *interp,
		     bool swap)
{
	char named[sizeof("userboot_.so") + PLUGIN_INTERP_MAX];

	p->n = 0;
	snprintf(named, sizeof(named), "userboot_%.*s.so", PLUGIN_INTERP_MAX, interp);
	for (int guest = 0; guest <= 1; guest++) {
		if (*interp)
			pick_add(p, w, guest, named);
		if (!swap || !*interp)
			pick_add(p, w, guest, "userboot.so");
	}
	for (int i = 0; i < p->n; i++)
		if (p->c[i].err == 0)
			return i;
	return -ENOENT;
}
