/* mb_exec.c: hand over to an amd64 kernel the way userboot's elf64_exec does (stack, page tables, GDT, registers). */
#include "mb.h"

#define PG_V  0x001ull
#define PG_RW 0x002ull
#define PG_PS 0x080ull

#define STACK_GPA 0x1000u
#define PML4_GPA  0x2000u
#define PDPT_GPA  0x3000u
#define PD_GPA    0x4000u
#define GDT_GPA   0x5000u

#define CR0_PE 0x00000001ull
#define CR0_NE 0x00000020ull
#define CR0_PG 0x80000000ull
#define CR4_PAE  0x0020ull
#define CR4_VMXE 0x2000ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull

static void exec_copyin(struct mb *mb, const void *src, uint64_t to, size_t n)
{
	int err = mb->cb->copyin(mb->arg, src, to, n);

	if (err)
		mb_fatal(mb, "copyin of %lu bytes to guest 0x%lx failed: %s", (uint64_t)n, to,
			 mb_strerror(err));
}

void mb_exec(struct mb *mb, uint64_t entry, uint64_t modulep, uint64_t kernend)
{
	uint32_t *stack = mb_alloc(mb, MB_PAGE);
	uint64_t *pml4 = mb_alloc(mb, 3 * MB_PAGE), *pdpt = pml4 + 512, *pd = pdpt + 512;
	static const uint64_t gdt[3] = { 0, 0x0020980000000000ull, 0x0000900000000000ull };

	if (!stack || !pml4)
		mb_fatal(mb, "out of memory");
	/* The kernel finds modulep and kernend (physical) above a fake return address. */
	memset(stack, 0, MB_PAGE);
	stack[1] = (uint32_t)modulep;
	stack[2] = (uint32_t)kernend;
	/* Every 1 GiB of virtual space maps guest-physical 0-1 GiB with 2 MiB pages. */
	for (uint64_t i = 0; i < 512; i++) {
		pml4[i] = PDPT_GPA | PG_V | PG_RW;
		pdpt[i] = PD_GPA | PG_V | PG_RW;
		pd[i] = (i << 21) | PG_V | PG_RW | PG_PS;
	}
	exec_copyin(mb, stack, STACK_GPA, MB_PAGE);
	exec_copyin(mb, pml4, PML4_GPA, MB_PAGE);
	exec_copyin(mb, pdpt, PDPT_GPA, MB_PAGE);
	exec_copyin(mb, pd, PD_GPA, MB_PAGE);

	mb->cb->setreg(mb->arg, UB_REG_RSP, STACK_GPA);
	mb->cb->setmsr(mb->arg, (int)X86_MSR_EFER, EFER_LME | EFER_LMA);
	/* userboot sets VMXE too; hosts are expected to drop it (libvmmapi does). */
	mb->cb->setcr(mb->arg, 4, CR4_PAE | CR4_VMXE);
	mb->cb->setcr(mb->arg, 3, PML4_GPA);
	mb->cb->setcr(mb->arg, 0, CR0_PG | CR0_NE | CR0_PE);
	exec_copyin(mb, gdt, GDT_GPA, sizeof(gdt));
	mb->cb->setgdt(mb->arg, GDT_GPA, sizeof(gdt));
	mb->cb->exec(mb->arg, entry);
	mb_fatal(mb, "exec returned");
}
