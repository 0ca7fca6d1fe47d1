/* cb_guest.c: guest-memory copies and the register callbacks, recorded into struct boot_regs until exec. */
#include <string.h>

#include "cb.h"
#include "freebsd_abi.h"
#include "loader.h"
#include "log.h"

/*
 * userboot hands over kernel virtual addresses (KERNBASE 0xffffffff80000000
 * plus the physical load address) for the kernel image and its metadata.
 * Keeping the low 31 bits maps them onto guest-physical 0-2 GiB, exactly as
 * bhyveload does; the price, shared with bhyve, is that only the low 2 GiB
 * of guest memory are reachable through copyin/copyout (GMEM_ADDR_MASK).
 */
static void *guest_ptr(struct loader *l, uint64_t addr, size_t size)
{
	return gmem_ptr(&l->gmem, addr & GMEM_ADDR_MASK, size);
}

int cb_copyin(void *arg, const void *from, uint64_t to, size_t size)
{
	void *p = guest_ptr(arg, to, size);

	if (!p)
		return FBSD_EFAULT;
	memcpy(p, from, size);
	footprint_add(&((struct loader *)arg)->written, to & GMEM_ADDR_MASK, size);
	return 0;
}

int cb_copyout(void *arg, uint64_t from, void *to, size_t size)
{
	const void *p = guest_ptr(arg, from, size);

	if (!p)
		return FBSD_EFAULT;
	memcpy(to, p, size);
	return 0;
}

/*
 * A register request we cannot honour: starting the guest in a state nobody
 * asked for would fail later and obscurely, so stop here and say why.
 */
static _Noreturn void guest_refuse(struct loader *l)
{
	l->leave = LEAVE_ERROR;
	plugin_leave(&l->recover);
}

void cb_setreg(void *arg, int reg, uint64_t val)
{
	struct loader *l = arg;

	/* Like bhyveload: userboot only ever sets the stack pointer this way. */
	if (reg != UB_REG_RSP) {
		log_warnx("the loader set register %d; only %d (rsp) is supported", reg, UB_REG_RSP);
		guest_refuse(l);
	}
	l->regs.rsp = val;
}

void cb_setmsr(void *arg, int msr, uint64_t val)
{
	struct loader *l = arg;

	if ((unsigned int)msr != X86_MSR_EFER) {
		log_warnx("the loader set MSR %#x; only EFER (%#x) is supported", (unsigned int)msr,
			  X86_MSR_EFER);
		guest_refuse(l);
	}
	l->regs.efer = val;
}

void cb_setcr(void *arg, int cr, uint64_t val)
{
	struct loader *l = arg;

	switch (cr) {
	case 0: l->regs.cr0 = val; break;
	case 3: l->regs.cr3 = val; break;
	case 4: l->regs.cr4 = val; break;
	default:
		log_warnx("the loader set control register cr%d; only cr0, cr3 and cr4 are supported",
			  cr);
		guest_refuse(l);
	}
}

void cb_setgdt(void *arg, uint64_t base, size_t size)
{
	struct loader *l = arg;

	l->regs.gdt_base = base;
	l->regs.gdt_size = size;
	l->regs.gdt_set = true;
}

void cb_exec(void *arg, uint64_t pc)
{
	struct loader *l = arg;

	l->regs.rip = pc;
	l->leave = LEAVE_EXEC;
	plugin_leave(&l->recover);
}

int cb_vm_set_register(void *arg, int vcpu, int reg, uint64_t val)
{
	struct loader *l = arg;

	if (vcpu != 0)
		return FBSD_EINVAL;
	if (reg >= VM_REG_GUEST_RAX && reg <= VM_REG_GUEST_R15) {
		l->regs.gpr[reg] = val;
		l->regs.gpr_set |= 1u << reg;
		return 0;
	}
	switch (reg) {
	case VM_REG_GUEST_CR0: l->regs.cr0 = val; return 0;
	case VM_REG_GUEST_CR3: l->regs.cr3 = val; return 0;
	case VM_REG_GUEST_CR4: l->regs.cr4 = val; return 0;
	case VM_REG_GUEST_EFER: l->regs.efer = val; return 0;
	case VM_REG_GUEST_RSP: l->regs.rsp = val; return 0;
	case VM_REG_GUEST_RIP: l->regs.rip = val; return 0;
	default: return FBSD_EINVAL;
	}
}

int cb_vm_set_desc(void *arg, int vcpu, int reg, uint64_t base, unsigned int limit,
		   unsigned int access)
{
	(void)arg;
	(void)base;
	(void)limit;
	(void)access;
	/*
	 * Accepted and not recorded: exec programs every segment, GDTR and
	 * IDTR from scratch the way libvmmapi's FreeBSD entry does, so a
	 * descriptor set here could not survive to the guest anyway.
	 */
	if (vcpu != 0 || reg < VM_REG_GUEST_ES || reg > VM_REG_GUEST_GDTR)
		return FBSD_EINVAL;
	return 0;
}
