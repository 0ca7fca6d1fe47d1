/* i386_gdt.h: the GDT that FreeBSD's i386 entry gets from its VMM (libvmmapi's): flat code, flat data, a TSS a page above. */
#ifndef KVMLOAD_I386_GDT_H
#define KVMLOAD_I386_GDT_H

#include <stdint.h>

struct gmem;

#define I386_SEL_CODE 0x08
#define I386_SEL_DATA 0x10
#define I386_SEL_TSS  0x18
#define I386_GDT_SIZE 32      /* null, code, data, TSS */
#define I386_TSS_OFFSET 0x1000 /* the TSS sits one page above the GDT */
#define I386_TSS_LIMIT 103    /* sizeof(struct i386tss) - 1 */

/* Write the four descriptors at base (userboot's setgdt address).  Returns 0, or -EFAULT when [base, +32) or the TSS is not guest memory below 4 GiB. */
int i386_gdt_write(struct gmem *g, uint64_t base);

#endif
