/* boot_regs.h: the vCPU entry state recorded from the plugin's register callbacks, applied at exec. */
#ifndef KVMLOAD_BOOT_REGS_H
#define KVMLOAD_BOOT_REGS_H

#include <stdbool.h>
#include <stdint.h>

struct boot_regs {
	uint64_t rip;       /* exec(pc) */
	uint64_t rsp;       /* setreg(4, ...) */
	uint64_t cr0, cr3, cr4;
	uint64_t efer;      /* setmsr(0xc0000080, ...) */
	uint64_t gdt_base;  /* setgdt(base, size) */
	uint64_t gdt_size;  /* as the plugin passed it; the descriptor limit is size - 1 */
	bool gdt_set;
	/*
	 * General registers set through the v4 vm_set_register callback
	 * (bhyve-multiboot sets RBX).  Index = enum fbsd_vm_reg RAX..R15;
	 * gpr_set has bit i set when gpr[i] was given.
	 */
	uint64_t gpr[15];
	uint32_t gpr_set;
};

/* FreeBSD's rule (bhyveload): long mode when the plugin set a non-zero cr3, else the i386 entry. */
static inline bool boot_regs_long_mode(const struct boot_regs *r)
{
	return r->cr3 != 0;
}

#endif
