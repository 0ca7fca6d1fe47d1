/* conf_disk.c: what a VM definition asks of the host: format = and disk = by disk.h's rules (the format's name, --check's open of each disk), and its user by confine.h's. */
#include <string.h>

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

void conf_check_users(struct conf *c)
{
	for (size_t i = 0; i < c->nvms; i++) {
		const struct conf_vm *vm = &c->vms[i];
		struct confine_user u;
		char why[256];

		if (confine_user(vm->user, &u, why, sizeof(why)) < 0)
			conf_error(c, vm->file, vm->line, "[vm %s]: %s", vm->name, why);
	}
}
