/* loader_choice.c: which userboot plugin kvmload runs, and the messages saying why or what was tried. */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "loader_choice.h"
#include "log.h"
#include "plugin.h"

/* "P: why; P2: why ..." for the candidates that were tried. */
static void loader_choice_tried(const struct plugin_pick *p, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int i = 0; i < p->n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s: %s", i ? "; " : "", p->c[i].path,
				       strerror(p->c[i].err));
}

const char *loader_choice_origin(const struct loader_choice *lc, const struct plugin_pick_cand *c,
				 const char *interp, char *buf, size_t len)
{
	if (c->guest)
		return lc->no_sandbox ? "the guest's own /boot: untrusted, allowed without the sandbox by "
				       "--trust-guest-loader"
				     : "the guest's own /boot: untrusted, confined by the sandbox";
	if (c->generic && *interp) {
		snprintf(buf, len, "host plugin directory, which has no userboot_%s.so", interp);
		return buf;
	}
	return "host plugin directory";
}

const struct plugin_pick_cand *loader_choice_pick(const struct loader_choice *lc, const char *interp,
						  bool swap, const char *why, struct plugin_pick *p)
{
	char tried[4 * (PATH_MAX + 64)];
	int i = plugin_pick_find(p, lc->where, interp, swap);

	if (i < 0) {
		loader_choice_tried(p, tried, sizeof(tried));
		errx(1, "%s: %s", why, log_esc(tried));
	}
	/* Without the sandbox, code from the guest's disk needs the user's word. */
	if (p->c[i].guest && lc->no_sandbox && !lc->trust_guest)
		errx(1, "%s: the only plugin found is the guest's own %s, untrusted code that would run "
		     "with kvmload's privileges under --no-sandbox; pass --trust-guest-loader to use it",
		     why, log_esc(p->c[i].path));
	return &p->c[i];
}

/*
 * -l: a path as given; a bare name (no slash) in the plugin directory first,
 * where bhyveload's users keep userboot.so, then in the current directory.
 * Returns the plugin's fd, opened once: what is found is what is loaded.
 */
static int loader_choice_named(const struct loader_choice *lc, char *path, size_t len)
{
	char tried[4 * (PATH_MAX + 64)];
	struct plugin_pick p = { .n = 0 };
	int fd;

	if (strchr(lc->loader, '/')) {
		if ((size_t)snprintf(path, len, "%s", lc->loader) >= len)
			errx(EX_USAGE, "-l %s: path too long", log_esc(lc->loader));
		fd = plugin_pick_open(path);
		if (fd < 0)
			errx(1, "%s: %s", log_esc(path), strerror(-fd));
		return fd;
	}
	for (int i = 0; i < 2; i++) {
		struct plugin_pick_cand *c = &p.c[p.n++];
		int n = snprintf(c->path, sizeof(c->path), "%s/%s", i == 0 ? lc->where->loader_dir : ".",
				 lc->loader);

		fd = n < 0 || (size_t)n >= sizeof(c->path) ? -ENAMETOOLONG : plugin_pick_open(c->path);
		if (fd >= 0) {
			snprintf(path, len, "%s", c->path);
			return fd;
		}
		c->err = -fd;
	}
	loader_choice_tried(&p, tried, sizeof(tried));
	errx(1, "-l %s: not in the plugin directory or the current directory: %s", log_esc(lc->loader),
	     log_esc(tried));
}

int loader_choice_first(const struct loader_choice *lc, char *path, size_t len)
{
	char interp[PLUGIN_INTERP_MAX + 1], why[128], origin[128];
	const struct plugin_pick_cand *c;
	struct plugin_pick p;

	if (lc->loader)
		return loader_choice_named(lc, path, len);
	switch (plugin_pick_interp(lc->where->guest_fd, interp)) {
	case PLUGIN_PICK_MARKER:
		snprintf(why, sizeof(why), "guest /boot/loader says %s", interp);
		break;
	case PLUGIN_PICK_NOMARKER:
		snprintf(why, sizeof(why), "guest /boot/loader has no $Interpreter: marker, so 4th");
		break;
	case PLUGIN_PICK_NOLOADER:
		snprintf(why, sizeof(why), "%s", lc->where->guest_fd < 0 ? "no guest /boot to read"
								 : "the guest has no /boot/loader");
		break;
	}
	c = loader_choice_pick(lc, interp, false, why, &p);
	log_info("%s: using %s (%s)", why, log_esc(c->path),
		 loader_choice_origin(lc, c, interp, origin, sizeof(origin)));
	snprintf(path, len, "%s", c->path);
	return c->fd;
}
