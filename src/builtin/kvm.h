/* kvm.h: the KVM backend seen from main.c: one VM, its memory and ports, one vCPU, its run loop. */
#ifndef KVMLOAD_KVM_H
#define KVMLOAD_KVM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kvm_io.h"
#include "vm_exit.h"

struct gmem;
struct boot_regs;
struct console;
struct kvm_run;

/* Where KVM keeps its real-mode helpers (Intel): inside the 3-4 GiB MMIO hole, never RAM. */
#define KVM_TSS_ADDR          0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL

struct kvm_vm {
	int sys_fd;  /* /dev/kvm */
	int vm_fd;
	int vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	/*
	 * Optional, set by the caller after kvm_vm_create: a flag a signal
	 * handler sets to end the run loop.  The loop checks it before every
	 * KVM_RUN and after KVM_RUN returns EINTR.  A handler should also call
	 * kvm_vcpu_kick() so that a signal arriving just before KVM_RUN is
	 * not lost.
	 */
	volatile sig_atomic_t *stop;
	/* The port map: devices register in it after kvm_vm_create (uart_register, chipset_register). */
	struct kvm_io io;
};

/*
 * Open /dev/kvm, check the API, create the VM and map gmem's regions
 * (lowmem at 0, highmem at 4 GiB).  No in-kernel irqchip: HLT must reach
 * us.  Returns 0 or -errno (logged).  On failure vm is safe to destroy.
 */
int kvm_vm_create(struct kvm_vm *vm, const struct gmem *g);
/* Create vCPU 0 with KVM's supported CPUID. Returns 0 or -errno (logged). */
int kvm_vcpu_create(struct kvm_vm *vm);
/*
 * Program the FreeBSD entry state as libvmmapi does: long mode when cr3 != 0
 * (vm_setup_freebsd_registers), else the i386 entry, which also writes its
 * GDT into guest memory at the recorded gdt_base.  Returns 0 or -errno (logged).
 */
int kvm_x86_apply(struct kvm_vm *vm, const struct boot_regs *r, struct gmem *g);
/*
 * Run vCPU 0 (after kvm_vcpu_create and kvm_x86_apply) until the guest
 * stops; port I/O goes to the devices registered in vm->io.  Once cons has
 * lost its output the guest is stopped (VM_EXIT_ERROR): nobody could see it.
 * Logs the reason for triple faults and errors.
 */
enum vm_exit kvm_vcpu_run(struct kvm_vm *vm, const struct console *cons);
/* Async-signal-safe: make the current or next KVM_RUN return at once with EINTR. */
void kvm_vcpu_kick(struct kvm_vm *vm);
/*
 * Print the vCPU's registers, one "name value" per line, in this fixed order:
 *   rax rbx rcx rdx rsi rdi rbp rsp r8 .. r15 rip rflags   "rip 0x<hex>"
 *   cr0 cr2 cr3 cr4 efer                                    "cr0 0x<hex>"
 *   cs ds es fs gs ss tr ldtr
 *     "cs sel=0x08 base=0x0 limit=0x0 type=0xb s=1 dpl=0 p=1 db=0 l=1 g=0 unusable=0"
 *   gdtr idtr                                               "gdtr base=0x5000 limit=0x17"
 * All numbers are lower-case hex with 0x, no padding (selectors: at least
 * two digits).  Returns 0 or -errno when the registers cannot be read.
 */
int kvm_vcpu_dump(struct kvm_vm *vm, FILE *out);
/* Close everything; idempotent. */
void kvm_vm_destroy(struct kvm_vm *vm);

#endif
