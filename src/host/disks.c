/* disks.c: phase 3: the guest's disks, each opened once, for the loader, the view and QEMU. */
#include <err.h>
#include <errno.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "disks.h"
#include "log.h"

void disks_open(const struct disks_spec *s, struct loader *l, struct qemu_disk *qd)
{
	for (int i = 0; i < s->n; i++) {
		struct loader_disk *d = &l->disks[i];
		struct qemu_disk *q = &qd[i];
		char msg[1400];
		int r;

		r = disk_open_fd(s->fds[i], s->paths[i], s->formats[i], s->user, &d->info, msg, sizeof(msg));
		/* disk_open_fd opened its own copy: the caller's descriptor is done with. */
		if (s->fds[i] >= 0)
			close(s->fds[i]);
		if (r < 0)
			errx(r == -ENOMEM ? EX_OSERR : r == -ETIMEDOUT || r == -ENOPKG ? EX_UNAVAILABLE :
			     r == -EIO ? EX_IOERR : EX_USAGE, "-d %s: %s",
			     log_esc(s->paths[i]), log_esc(msg));
		d->path = s->paths[i];
		d->fd = d->info.fd;
		d->size = d->info.size;
		d->secsize = d->info.secsize;
		l->ndisks++;
		if (strcmp(d->info.layer[0].format, "raw") != 0)
			log_debug("-d %s: %s, %llu bytes for the guest, %d backing file(s)", log_esc(d->path),
				  d->info.layer[0].format, (unsigned long long)d->size, d->info.nlayers - 1);
		q->info = &d->info;
		q->rw_fd = -1;
		if (!s->writable)
			continue;
		r = disk_reopen_rw(&d->info, &q->rw_fd, msg, sizeof(msg));
		if (r == -EROFS || r == -EACCES || r == -EPERM)
			log_info("-d %s: read-only (%s): the guest gets it read-only", log_esc(d->path),
				 log_esc(msg));
		else if (r < 0)
			errx(EX_OSERR, "-d %s: opening it for the guest to write: %s", log_esc(d->path),
			     log_esc(msg));
	}
}
