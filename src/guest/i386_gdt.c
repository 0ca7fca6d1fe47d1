/* i386_gdt.c: writing the i386 entry's GDT into guest memory, as libvmmapi's vm_setup_freebsd_registers_i386 does. */
#include <errno.h>
#include <string.h>

#include "gmem.h"
#include "i386_gdt.h"

#define SEG_S 0x10
#define SEG_TYPE_DATA_RW  0x2
#define SEG_TYPE_CODE_XR  0xa
#define SEG_TYPE_TSS_AVAIL 0x9

static uint64_t i386_gdt_desc(uint32_t base, uint32_t limit, uint8_t type_s, uint8_t flags)
{
	/* flags: G (0x8) and D/B (0x4), the descriptor's high nibble of byte 6. */
	return (uint64_t)(limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)(0x80 | type_s) << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}

int i386_gdt_write(struct gmem *g, uint64_t base)
{
	uint64_t gdt[I386_GDT_SIZE / 8];
	void *p = gmem_ptr(g, base, sizeof(gdt));
	uint32_t tss;

	if (!p || base > UINT32_MAX - I386_TSS_OFFSET ||
	    !gmem_ptr(g, base + I386_TSS_OFFSET, I386_TSS_LIMIT + 1))
		return -EFAULT;
	tss = (uint32_t)base + I386_TSS_OFFSET;
	gdt[0] = 0;
	gdt[1] = i386_gdt_desc(0, 0xfffff, SEG_S | SEG_TYPE_CODE_XR, 0xc);
	gdt[2] = i386_gdt_desc(0, 0xfffff, SEG_S | SEG_TYPE_DATA_RW, 0xc);
	gdt[3] = i386_gdt_desc(tss, I386_TSS_LIMIT, SEG_TYPE_TSS_AVAIL, 0);
	memcpy(p, gdt, sizeof(gdt));
	return 0;
}
