/* load.c: phases 8-10: userboot plugins run, each in its own sandboxed child, until one reaches exec; the swap between them. */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <unistd.h>

#include "load.h"
#include "log.h"
#include "monotime.h"
#include "plugin.h"

/* A swap: the plugin the guest's interpreter asks for, opened, with the message saying so; ends the load if refused. */
static int load_swap(const struct load_spec *s, const char *interp, char *path, size_t len, int *swaps)
{
	const struct loader_choice *lc = s->choice;
	const struct plugin_pick_cand *c;
	struct plugin_pick pick;
	char why[64], origin[128];

	if (lc->loader)
		errx(1, "requested loader interpreter does not match guest userboot "
		     "(guest wants '%s'; -l %s forbids swapping)", interp, log_esc(lc->loader));
	if ((*swaps)++ > 0)
		errx(1, "%s asked to swap to '%s' after a swap already happened", log_esc(path), interp);
	snprintf(why, sizeof(why), "guest wants interpreter '%s'", interp);
	c = loader_choice_pick(lc, interp, true, why, &pick);
	snprintf(path, len, "%s", c->path);
	log_info("the guest's /boot/loader wants interpreter '%s': swapping to %s%s%s%s", interp,
		 log_esc(path), c->guest ? " (" : "",
		 c->guest ? loader_choice_origin(lc, c, interp, origin, sizeof(origin)) : "",
		 c->guest ? ")" : "");
	return c->fd;
}

/*
 * Each plugin is read through the descriptor its choice opened and mapped
 * here, before its child is confined; no plugin code runs in this process.
 */
int load_run(struct loader *l, const struct load_spec *s)
{
	char path[PATH_MAX], msg[512];
	struct sandbox_result res;
	int64_t deadline = -1;
	struct plugin p;
	int swaps = 0, fd, r;

	fd = loader_choice_first(s->choice, path, sizeof(path));
	for (;;) {
		r = plugin_load_fd(&p, fd, path, msg, sizeof(msg));
		close(fd);
		if (r < 0)
			errx(1, "%s", log_esc(msg)); /* msg names the path */
		log_info("plugin %s: %s", log_esc(path), p.gen.label);
		/* One clock for the whole load, from the first plugin's start: a swap gets no more. */
		if (s->timeout_s && deadline < 0)
			deadline = monotime_ms() + (int64_t)s->timeout_s * 1000;
		r = plugin_child_run(l, &p, path, s->sb, deadline, s->watch, &s->end->child, &res, msg,
				     sizeof(msg));
		plugin_unload(&p);
		if (r == -ECANCELED)
			return r;
		if (r == -ETIMEDOUT)
			errx(1, "the loader did not finish within %d s (--loader-timeout); stopped it",
			     s->timeout_s);
		if (r < 0)
			errx(1, "%s", log_esc(msg));
		switch (res.leave) {
		case LEAVE_EXEC:
			l->regs = res.regs;
			l->written = res.written;
			return 0;
		case LEAVE_EXIT:
			/* bhyveload's status: 1 after `quit`, 2 after `reboot`. */
			cleanup_console(s->end);
			exit(res.exit_value);
		case LEAVE_SWAP:
			fd = load_swap(s, res.interp, path, sizeof(path), &swaps);
			/* A fresh plugin gets fresh guest memory, as after bhyveload's vm_reinit. */
			if (gmem_reset(&l->gmem) < 0)
				err(EX_OSERR, "resetting guest memory");
			continue;
		case LEAVE_ERROR:
		case LEAVE_NONE:
			/* The child said why on stderr. */
			exit(1);
		}
	}
}
