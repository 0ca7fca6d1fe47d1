/* kvm_x86.c: the FreeBSD entry state (libvmmapi's long-mode and i386 set-ups) applied to vCPU 0. */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "boot_regs.h"
#include "gmem.h"
#include "i386_gdt.h"
#include "kvm.h"
#include "log.h"

#define CR0_PE 0x00000001ULL
#define CR0_NE 0x00000020ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x00000020ULL
#define EFER_LME 0x00000100ULL
#define EFER_LMA 0x00000400ULL

#define SEL_CODE 0x08
#define SEL_DATA 0x10

#define GDT64_LIMIT (3 * 8 - 1) /* null, code, data */

/* Segment types (without the S bit). */
#define SEG_TYPE_DATA_RWA 0x3
#define SEG_TYPE_CODE_XRA 0xb
#define SEG_TYPE_TSS_BUSY 0xb

static struct kvm_segment kvm_x86_seg(uint16_t sel, uint64_t base, uint32_t limit, uint8_t type,
				      uint8_t s, uint8_t db, uint8_t l, uint8_t g)
{
	return (struct kvm_segment){
		.base = base, .limit = limit, .selector = sel, .type = type, .present = 1,
		.dpl = 0, .db = db, .s = s, .l = l, .g = g,
	};
}

static int kvm_x86_set(struct kvm_vm *vm, struct kvm_sregs *sregs, struct kvm_regs *regs)
{
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, sregs) < 0) {
		log_warn("KVM_SET_SREGS");
		return -errno;
	}
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, regs) < 0) {
		log_warn("KVM_SET_REGS");
		return -errno;
	}
	return 0;
}

/* Start from KVM's own state so fields we do not own (APIC base, pending interrupts) stay valid. */
static int kvm_x86_get(struct kvm_vm *vm, struct kvm_sregs *sregs)
{
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, sregs) < 0) {
		log_warn("KVM_GET_SREGS");
		return -errno;
	}
	return 0;
}

static void kvm_x86_gprs(const struct boot_regs *r, struct kvm_regs *regs)
{
	/* Order of enum fbsd_vm_reg RAX..R15 (bhyve's vm_reg_name). */
	__u64 *slot[15] = {
		&regs->rax, &regs->rbx, &regs->rcx, &regs->rdx, &regs->rsi, &regs->rdi, &regs->rbp,
		&regs->r8, &regs->r9, &regs->r10, &regs->r11, &regs->r12, &regs->r13, &regs->r14,
		&regs->r15,
	};

	for (unsigned i = 0; i < 15; i++)
		if (r->gpr_set & (1u << i))
			*slot[i] = r->gpr[i];
}

/* vm_setup_freebsd_registers: userboot already wrote the GDT and page tables. */
static int kvm_x86_long(struct kvm_vm *vm, const struct boot_regs *r)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	struct kvm_segment data;
	int err;

	err = kvm_x86_get(vm, &sregs);
	if (err)
		return err;
	sregs.cr0 = CR0_PG | CR0_NE | CR0_PE;
	/*
	 * userboot asks for 0x2020 (PAE|VMXE).  libvmmapi programs PAE only,
	 * and KVM on this AMD host rejects VMXE with EINVAL (measured), since
	 * the guest's CPUID has no VMX.  So CR4 is PAE alone.
	 */
	sregs.cr4 = CR4_PAE;
	sregs.cr3 = r->cr3;
	sregs.cr2 = 0;
	sregs.efer = EFER_LME | EFER_LMA;
	sregs.cs = kvm_x86_seg(SEL_CODE, 0, 0, SEG_TYPE_CODE_XRA, 1, 0, 1, 0);
	data = kvm_x86_seg(SEL_DATA, 0, 0, SEG_TYPE_DATA_RWA, 1, 0, 0, 0);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	/* libvmmapi leaves TR's selector null but its cached descriptor usable. */
	sregs.tr = kvm_x86_seg(0, 0, 0, SEG_TYPE_TSS_BUSY, 0, 0, 0, 0);
	sregs.ldt = (struct kvm_segment){ .unusable = 1 };
	sregs.gdt = (struct kvm_dtable){
		.base = r->gdt_base,
		.limit = (uint16_t)(r->gdt_set && r->gdt_size ? r->gdt_size - 1 : GDT64_LIMIT),
	};
	sregs.idt = (struct kvm_dtable){ 0 };
	kvm_x86_gprs(r, &regs);
	regs.rip = r->rip;
	regs.rsp = r->rsp;
	regs.rflags = 0x2;
	return kvm_x86_set(vm, &sregs, &regs);
}

/*
 * vm_setup_freebsd_registers_i386: flat 32-bit protected mode, paging off,
 * with a GDT of our own written at the base userboot recorded (0x3000).
 */
static int kvm_x86_i386(struct kvm_vm *vm, const struct boot_regs *r, struct gmem *g)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	struct kvm_segment data;
	uint32_t tss;
	int err;

	if (i386_gdt_write(g, r->gdt_base) < 0) {
		log_warnx("i386 entry: GDT base 0x%llx is not in guest memory",
			  (unsigned long long)r->gdt_base);
		return -EFAULT;
	}
	tss = (uint32_t)r->gdt_base + I386_TSS_OFFSET;

	err = kvm_x86_get(vm, &sregs);
	if (err)
		return err;
	sregs.cr0 = CR0_NE | CR0_PE;
	sregs.cr4 = 0;
	sregs.cr3 = 0;
	sregs.cr2 = 0;
	sregs.efer = 0;
	sregs.cs = kvm_x86_seg(I386_SEL_CODE, 0, 0xffffffff, SEG_TYPE_CODE_XRA, 1, 1, 0, 1);
	data = kvm_x86_seg(I386_SEL_DATA, 0, 0xffffffff, SEG_TYPE_DATA_RWA, 1, 1, 0, 1);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.tr = kvm_x86_seg(I386_SEL_TSS, tss, I386_TSS_LIMIT, SEG_TYPE_TSS_BUSY, 0, 0, 0, 0);
	sregs.ldt = (struct kvm_segment){ .unusable = 1 };
	sregs.gdt = (struct kvm_dtable){ .base = r->gdt_base, .limit = I386_GDT_SIZE - 1 };
	sregs.idt = (struct kvm_dtable){ 0 };
	kvm_x86_gprs(r, &regs);
	regs.rip = (uint32_t)r->rip;
	regs.rsp = (uint32_t)r->rsp;
	regs.rflags = 0x2;
	return kvm_x86_set(vm, &sregs, &regs);
}

int kvm_x86_apply(struct kvm_vm *vm, const struct boot_regs *r, struct gmem *g)
{
	if (boot_regs_long_mode(r))
		return kvm_x86_long(vm, r);
	return kvm_x86_i386(vm, r, g);
}
