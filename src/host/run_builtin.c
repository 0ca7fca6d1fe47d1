/* run_builtin.c: kvmload's use of its own KVM machine: the VM made before the loader runs, the registers applied and the guest run in this process. */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sysexits.h>

#include "chipset.h"
#include "confine.h"
#include "run_builtin.h"
#include "uart.h"

void run_builtin_make(struct kvm_vm *vm, const struct loader *l)
{
	if (kvm_vm_create(vm, &l->gmem) < 0 || kvm_vcpu_create(vm) < 0)
		exit(EX_OSERR);
	/*
	 * The plugin's process never holds it: its descriptors are closed
	 * there (plugin_child.c) and the vCPU's shared kvm_run page is not
	 * inherited at all.
	 */
	if (madvise(vm->run, vm->run_size, MADV_DONTFORK) < 0)
		err(EX_OSERR, "madvise(kvm_run, MADV_DONTFORK)");
}

enum vm_exit run_builtin_guest(struct kvm_vm *vm, struct loader *l, const struct opts *o)
{
	struct uart uart;
	int r;

	if (kvm_x86_apply(vm, &l->regs, &l->gmem) < 0)
		exit(1);
	if (o->load_only) {
		if (kvm_vcpu_dump(vm, stdout) < 0)
			exit(EX_OSERR);
		return 0; /* the status of a load that succeeded */
	}
	uart_init(&uart, &l->cons);
	r = uart_register(&uart, &vm->io);
	if (r == 0)
		r = chipset_register(&vm->io);
	if (r < 0)
		errx(EX_SOFTWARE, "builtin machine ports: %s", strerror(-r));
	/*
	 * The guest runs in this process: no capability from here on (the
	 * VM's descriptors are open, and what is left to remove is root's own
	 * files), and nothing gained by exec.
	 */
	r = confine_caps(NULL, 0);
	if (r < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		errx(EX_OSERR, "giving up capabilities before the guest runs: %s",
		     strerror(r < 0 ? -r : errno));
	return kvm_vcpu_run(vm, &l->cons);
}
