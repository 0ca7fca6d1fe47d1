/* vm_exit.h: how a guest's run ends, as bhyve(8)'s exit statuses: the one list both runners (QEMU, builtin) return. */
#ifndef KVMLOAD_VM_EXIT_H
#define KVMLOAD_VM_EXIT_H

enum vm_exit {
	VM_EXIT_RESET = 0,
	VM_EXIT_POWEROFF = 1,
	VM_EXIT_HALT = 2,
	VM_EXIT_TRIPLEFAULT = 3,
	VM_EXIT_ERROR = 4,
};

#endif
