/* view_setup.c: phase 5: the VM claimed and its view started (or --view's attached), the console socket, and host0:. */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "boot_part.h"
#include "log.h"
#include "rundir.h"
#include "view_setup.h"

void view_setup_make(const struct view_setup *s, struct loader *l, struct cleanup *end, char *bootdir,
		     size_t len)
{
	char msg[1536], fs[PATH_MAX], name[PATH_MAX], dataset[256];
	struct view *v = &end->view;
	const char *want = s->boot_part;
	int r;

	l->host_fd = -1;
	bootdir[0] = '\0';
	if (s->view) {
		r = view_attach(v, s->view);
		if (r < 0)
			errx(EX_USAGE, "--view %s: %s", log_esc(s->view), strerror(-r));
	} else if (s->host || s->ndisks) {
		int fds[LOADER_NDISKS];
		const struct view_spec spec = {
			.prog = fs, .host = s->host,
			.disks = s->disks, .disk_fds = fds, .ndisks = s->ndisks, .user = s->user,
		};

		/* The view reads the very bytes the loader reads: our descriptors, never the paths again. */
		for (int i = 0; i < l->ndisks; i++)
			fds[i] = l->disks[i].fd;

		view_fs_program(fs, sizeof(fs));
		r = claim_take(&end->claim, s->vmname, s->disks, s->ndisks, msg, sizeof(msg));
		if (r == 0)
			r = view_start(v, &end->claim, &spec, msg, sizeof(msg));
		if (r < 0)
			errx(CLEANUP_EX_VIEW, "%s", log_esc(msg));
		cleanup_watch_view(end);
		log_debug("view of %s%s%d disk(s) at %s (kvmload-fs pid %ld)",
			  s->host ? log_esc(s->host) : "", s->host ? " and " : "", s->ndisks,
			  log_esc(v->mnt), (long)v->d.pid);
	} else {
		return; /* nothing to show: host0: stays empty, as in bhyveload without -h */
	}
	if (!want && (s->host || (s->view && boot_part_has(v->root_fd, "host0"))))
		want = "host0";
	r = boot_part_open(v->root_fd, v->mnt, want, name, sizeof(name), dataset, sizeof(dataset), msg,
			   sizeof(msg));
	if (r == -ENOENT && !want && s->named_loader) {
		/* The user's plugin may read the disks itself (ZFS, say). */
		log_warnx("%s; host0: stays empty", log_esc(msg));
		return;
	}
	if (r < 0)
		errx(1, "%s%s", s->boot_part ? "--boot-part " : "", log_esc(msg));
	l->host_fd = r;
	if ((size_t)snprintf(bootdir, len, "%s/%s", v->mnt, name) >= len)
		errx(1, "%s/%s: path too long", log_esc(v->mnt), log_esc(name));
	if (dataset[0])
		log_info("host0: is %s of the view, ZFS dataset %s (%s)", log_esc(name), log_esc(dataset),
			 log_esc(bootdir));
	else
		log_info("host0: is %s of the view (%s)", log_esc(name), log_esc(bootdir));
}

void view_setup_console(const struct view_setup *s, struct loader *l, struct cleanup *end)
{
	char sock[PATH_MAX + 16], msg[PATH_MAX + 64];
	struct consrv_spec spec = {
		.sock = sock, .log_dir = -1, .local_in = l->cons.eof ? -1 : l->cons.in_fd,
		.local_out = l->cons.out_err ? -1 : l->cons.out_fd, .vm = s->vmname,
	};
	int sv[2], r;

	if (!s->console_socket)
		return;
	if ((size_t)snprintf(sock, sizeof(sock), "%s/%s", end->claim.dir, RUNDIR_CONSOLE) >= sizeof(sock))
		errx(EX_USAGE, "%s/%s: path too long", log_esc(end->claim.dir), RUNDIR_CONSOLE);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		err(EX_OSERR, "console socket");
	spec.guest = sv[1];
	r = consrv_start(&end->consrv, &spec, msg, sizeof(msg));
	close(sv[1]);
	if (r < 0)
		errx(EX_OSERR, "--console-socket: %s", log_esc(msg));
	console_serve(&l->cons, sv[0]);
	log_debug("console on %s (kvmload-hotplug console %s)", log_esc(sock), s->vmname);
}
