/* tp_i386.c: a test plugin that boots tests/guest/i386k.S through the i386 entry exactly as userboot's elf32_exec does (stack at 0x1000, GDT at 0x3000, cr3 0). */
#include <stddef.h>
#include <stdint.h>

#include "freebsd_abi.h"
#include "userboot.h"

/* The flat i386k.bin (linked at 0x400000), embedded; tests/meson.build passes its path. */
#ifndef TP_I386K_BIN
#error "TP_I386K_BIN: the path of i386k.bin"
#endif
__asm__(".pushsection .rodata\n"
	".balign 16\n"
	".globl tp_i386k\n.hidden tp_i386k\n"
	"tp_i386k:\n"
	".incbin \"" TP_I386K_BIN "\"\n"
	".globl tp_i386k_end\n.hidden tp_i386k_end\n"
	"tp_i386k_end:\n"
	".popsection\n");
extern const uint8_t tp_i386k[] __attribute__((visibility("hidden")));
extern const uint8_t tp_i386k_end[] __attribute__((visibility("hidden")));

#define KERNEL_ENTRY 0xc0400000ULL /* i386 KERNBASE + 4 MiB; elf32_exec jumps to entry & 0xffffff */
#define KERNEL_PHYS  0x400000ULL
#define MODULEP      0x410000ULL /* the metadata, after the kernel as the loader puts it */
#define KERNEND      0x411000ULL
#define KERNEL_MAX   (MODULEP - KERNEL_PHYS)
#define STACK_BASE   0x1000ULL
#define STACK_SIZE   4096
#define STACK_WORDS  9           /* ret, howto, bootdev, 0, 0, 0, bootinfo, modulep, kernend */
#define GDT_BASE     0x3000ULL
#define HOWTO        0x800       /* RB_SERIAL */
#define BOOTDEV      0xa0200000  /* B_DEVMAGIC, slice 2 */
#define BOOTINFOP    0x2000
#define EBX_MARK     0x1386b0b   /* through vm_set_register: kvmload carries GPRs to the entry */

static uint32_t stack[STACK_SIZE / 4];  /* .bss: zero, as elf32_exec's stack is */
static uint8_t md[256];

static void say(struct loader_callbacks *cb, void *arg, const char *s)
{
	while (*s)
		cb->putc(arg, *s++);
}

/* Byte stores through volatile: no loop the compiler could turn into a memcpy import. */
static void put32(volatile uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(volatile uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* A metadata record (u32 type, u32 size, data padded to 8) at md + off; returns the next offset. */
static size_t record(size_t off, uint32_t type, const uint8_t *data, uint32_t size)
{
	volatile uint8_t *d = md + off + 8;

	put32(md + off, type);
	put32(md + off + 4, size);
	for (uint32_t i = 0; i < size; i++)
		d[i] = data[i];
	return off + 8 + ((size + 7) & ~7u);
}

void loader_main(struct loader_callbacks *cb, void *arg, int version, int ndisks);
void loader_main(struct loader_callbacks *cb, void *arg, int version, int ndisks)
{
	static const char name[] = "/boot/kernel/kernel";
	uint8_t smap[2 * 20];
	uint64_t lowmem = 0, highmem = 0;
	size_t ksize = (size_t)(tp_i386k_end - tp_i386k), off;
	uint32_t sp = (uint32_t)(STACK_BASE + STACK_SIZE - STACK_WORDS * 4), *w;

	(void)version;
	(void)ndisks;
	say(cb, arg, "tp_i386: loading i386k\n");
	if (ksize == 0 || ksize > KERNEL_MAX) {
		say(cb, arg, "tp_i386: i386k.bin is empty or runs into the metadata\n");
		cb->exit(arg, 1);
		return;
	}
	if (cb->copyin(arg, tp_i386k, KERNEL_PHYS, ksize) != 0) {
		say(cb, arg, "tp_i386: copyin of the kernel failed\n");
		cb->exit(arg, 1);
		return;
	}

	/* The metadata: the kernel's name, the SMAP as userboot builds it from getmem, the end. */
	cb->getmem(arg, &lowmem, &highmem);
	put64(smap, 0);
	put64(smap + 8, 0xa0000);
	put32(smap + 16, FBSD_SMAP_TYPE_MEMORY);
	put64(smap + 20, 0x100000);
	put64(smap + 28, lowmem - 0x100000);
	put32(smap + 36, FBSD_SMAP_TYPE_MEMORY);
	off = record(0, MODINFO_NAME, (const uint8_t *)name, sizeof(name));
	off = record(off, MODINFO_METADATA | MODINFOMD_SMAP, smap, sizeof(smap));
	off = record(off, MODINFO_END, NULL, 0);
	if (cb->copyin(arg, md, MODULEP, off) != 0) {
		say(cb, arg, "tp_i386: copyin of the metadata failed\n");
		cb->exit(arg, 1);
		return;
	}

	/* elf32_exec's stack, the words from sp upward. */
	w = &stack[(sp - STACK_BASE) / 4];
	w[0] = 0xbeefface;
	w[1] = HOWTO;
	w[2] = BOOTDEV;
	w[3] = w[4] = w[5] = 0;
	w[6] = BOOTINFOP;
	w[7] = (uint32_t)MODULEP;
	w[8] = (uint32_t)KERNEND;
	if (cb->copyin(arg, stack, STACK_BASE, sizeof(stack)) != 0) {
		say(cb, arg, "tp_i386: copyin of the stack failed\n");
		cb->exit(arg, 1);
		return;
	}

	/* kvmload's table always has the v4 register slot. */
	if (cb->vm_set_register && cb->vm_set_register(arg, 0, VM_REG_GUEST_RBX, EBX_MARK) != 0)
		say(cb, arg, "tp_i386: vm_set_register(rbx) failed\n");
	cb->setreg(arg, UB_REG_RSP, sp);
	cb->setgdt(arg, GDT_BASE, 31);
	cb->exec(arg, KERNEL_ENTRY & 0xffffff);
	say(cb, arg, "tp_i386: exec returned\n");
	cb->exit(arg, 1);
}
