/* kvm.h: the KVM backend seen from main.c: one VM, its memory slots, one vCPU and its run loop. */
#ifndef KVMLOAD_KVM_H
#define KVMLOAD_KVM_H

#include <stddef.h>
#include <stdio.h>

struct gmem;
struct boot_regs;
struct uart;
struct kvm_run;

struct kvm_vm {
	int sys_fd;  /* /dev/kvm */
	int vm_fd;
	int vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
};

/* bhyve(8)'s exit statuses, returned by the run loop. */
enum vm_exit {
	VM_EXIT_RESET = 0,
	VM_EXIT_POWEROFF = 1,
	VM_EXIT_HALT = 2,
	VM_EXIT_TRIPLEFAULT = 3,
	VM_EXIT_ERROR = 4,
};

/* Open /dev/kvm, check the API, create the VM and map gmem's regions. Returns 0 or -errno (logged). */
int kvm_vm_create(struct kvm_vm *vm, const struct gmem *g);
/* Create vCPU 0 with KVM's supported CPUID. Returns 0 or -errno (logged). */
int kvm_vcpu_create(struct kvm_vm *vm);
/*
 * Program the FreeBSD entry state as libvmmapi does: long mode when cr3 != 0
 * (vm_setup_freebsd_registers), else the i386 entry, which also writes its
 * GDT into guest memory at the recorded gdt_base.  Returns 0 or -errno (logged).
 */
int kvm_x86_apply(struct kvm_vm *vm, const struct boot_regs *r, struct gmem *g);
/* Run until the guest stops; the console/UART serve COM1. Logs the reason. */
enum vm_exit kvm_vcpu_run(struct kvm_vm *vm, struct uart *u);
/* Print the vCPU's registers (for triple faults and errors). */
void kvm_vcpu_dump(struct kvm_vm *vm, FILE *out);
void kvm_vm_destroy(struct kvm_vm *vm);

#endif
