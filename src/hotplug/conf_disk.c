/* conf_disk.c: what a VM definition asks of the host: format = and disk = by disk.h's rules (the format's name, --check's open of each disk), and what kvmload asks of the host: its user (confine.h's rules), console and plugin directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "confine.h"
#include "disk.h"

void conf_check_formats(struct conf *c)
{
	for (size_t i = 0; i < c->nvms; i++) {
		const struct conf_vm *vm = &c->vms[i];
		const char *fmt;

		if (vm->format && disk_format_arg(vm->format, &fmt) < 0)
			conf_error(c, vm->file, vm->format_line,
				   "format '%s': expected an image format kvmload takes (%s, or auto)", vm->format,
				   disk_format_list());
	}
}

const char *conf_vm_format(const struct conf_vm *vm)
{
	const char *fmt = NULL;

	/* auto, like no format =: kvmload detects each disk's. */
	if (vm->format)
		disk_format_arg(vm->format, &fmt);
	return fmt;
}

void conf_check_disks(struct conf *c)
{
	for (size_t i = 0; i < c->nvms; i++) {
		const struct conf_vm *vm = &c->vms[i];

		for (int k = 0; k < vm->ndisks; k++) {
			struct disk_info info;
			char why[1400];

			if (disk_open(vm->disks[k].path, conf_vm_format(vm), NULL, &info, why, sizeof(why)) < 0) {
				conf_error(c, vm->file, vm->disks[k].line, "disk '%s' in [vm %s]: %s",
					   vm->disks[k].path, vm->name, why);
				continue;
			}
			disk_close(&info);
		}
	}
}

/* kvmload -c's rule: a terminal, nothing else.  NULL, or why not. */
static const char *conf_console_problem(const char *dev)
{
	struct stat st;
	int fd;
	bool tty;

	if (stat(dev, &st) < 0)
		return strerror(errno);
	if (!S_ISCHR(st.st_mode))
		return "not a terminal";
	/* O_NONBLOCK: a serial line's open does not wait for its carrier. */
	fd = open(dev, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return strerror(errno);
	tty = isatty(fd);
	close(fd);
	return tty ? NULL : "not a terminal";
}

void conf_check_host(struct conf *c)
{
	for (size_t i = 0; i < c->nvms; i++) {
		const struct conf_vm *vm = &c->vms[i];
		struct confine_user u;
		const char *why_not;
		struct stat st;
		char why[256];

		if (confine_user(vm->user, &u, why, sizeof(why)) < 0)
			conf_error(c, vm->file, vm->line, "[vm %s]: %s", vm->name, why);
		if (vm->console && (why_not = conf_console_problem(vm->console)))
			conf_error(c, vm->file, vm->line, "[vm %s]: console %s: %s", vm->name, vm->console, why_not);
		if (vm->loader_dir) {
			int e = stat(vm->loader_dir, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;

			if (e)
				conf_error(c, vm->file, vm->line, "[vm %s]: loader-dir %s: %s", vm->name,
					   vm->loader_dir, strerror(e));
		}
	}
}
