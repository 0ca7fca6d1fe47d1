/* handoff_abi.h: the hand-off module kvmload writes into guest memory and the PVH entry stub reads: the loader's registers and pages, and where both live. */
#ifndef KVMLOAD_HANDOFF_ABI_H
#define KVMLOAD_HANDOFF_ABI_H

/*
 * Layout (little-endian, all of it below 4 GiB, the stub runs in 32-bit mode):
 *   struct handoff_hdr, then hdr.nchunks chunks, each a struct handoff_chunk
 *   followed by len bytes, padded to 8.  A chunk is a run of guest memory the
 *   loader wrote that firmware may overwrite before the entry; the stub copies
 *   each back to gpa before it enters the kernel.
 * The byte offsets below are what the stub (pvh_entry.S) uses; handoff.c
 * checks them against the struct with static asserts.
 */
#define HANDOFF_MAGIC   0x6b766d68 /* "hmvk" */
#define HANDOFF_VERSION 2          /* 2: at HANDOFF_MODULE_BASE in guest memory (1: QEMU's -initrd) */

/*
 * Guest-physical places, fixed so that kvmload (which writes both after the
 * loader) and the stub (which finds the module without asking QEMU) agree:
 * the stub's image at 1 MiB, below the 2 MiB where FreeBSD kernels load
 * (pvh.ld asserts it fits), and the module right above it.  Firmware writes
 * nothing here (doc/qemu-handoff.md).  A module holds its header, at most
 * HANDOFF_CARRY_LIMIT loader bytes and a chunk header and padding for each of
 * at most 32 ranges (FOOTPRINT_MAX): handoff.c asserts it fits in
 * HANDOFF_MODULE_MAX.
 */
#define HANDOFF_STUB_BASE   0x100000
#define HANDOFF_STUB_LIMIT  0x102000
#define HANDOFF_MODULE_BASE HANDOFF_STUB_LIMIT
#define HANDOFF_MODULE_MAX  0xa0000
#define HANDOFF_CARRY_LIMIT 0x9fc00 /* below it, firmware writes: every loader byte there is carried */

#define HANDOFF_MODE_LONG 1 /* amd64: paging with the loader's cr3, 64-bit code */
#define HANDOFF_MODE_I386 2 /* flat 32-bit protected mode, paging off */

#define HO_MAGIC     0
#define HO_VERSION   4
#define HO_SIZE      8   /* bytes of the whole module */
#define HO_MODE      12
#define HO_NCHUNKS   16
#define HO_RIP       24
#define HO_RSP       32
#define HO_RFLAGS    40
#define HO_CR0       48
#define HO_CR3       56
#define HO_CR4       64
#define HO_EFER      72
#define HO_GDTR      80  /* limit (2 bytes) then base (8): the lgdt operand */
#define HO_IDTR      96  /* same for lidt */
#define HO_SEL       112 /* cs ds es fs gs ss tr ldtr, 2 bytes each */
#define HO_GPR       128 /* rax rbx rcx rdx rsi rdi rbp r8 .. r15 */
#define HO_HDR_SIZE  248

#define HO_CHUNK_GPA 0
#define HO_CHUNK_LEN 8
#define HO_CHUNK_SIZE 16

#ifndef __ASSEMBLER__
#include <stdint.h>

struct handoff_dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

struct handoff_hdr {
	uint32_t magic, version, size, mode, nchunks, pad;
	uint64_t rip, rsp, rflags, cr0, cr3, cr4, efer;
	struct handoff_dtr gdtr;
	uint8_t pad_gdtr[6];
	struct handoff_dtr idtr;
	uint8_t pad_idtr[6];
	uint16_t cs, ds, es, fs, gs, ss, tr, ldtr;
	uint64_t gpr[15]; /* enum fbsd_vm_reg order: RAX RBX RCX RDX RSI RDI RBP R8..R15 */
};

struct handoff_chunk {
	uint64_t gpa;
	uint32_t len;
	uint32_t pad;
};
#endif

#endif
