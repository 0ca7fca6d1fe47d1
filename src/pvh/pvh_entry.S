/* pvh_entry.S: kvmload's PVH entry stub: restores the loader's pages and registers from the hand-off module, then enters the kernel. */
#include "handoff_abi.h"

#define PVH_START_MAGIC 0x336ec578 /* struct hvm_start_info.magic */

#define SEL_CODE64 0x08
#define SEL_DATA   0x10
#define SEL_CODE32 0x18

#define CR0_PE   0x00000001
#define CR0_PG   0x80000000
#define CR4_PAE  0x00000020
#define CR4_VMXE 0x00002000
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100
#define EFER_LMA 0x00000400

#define COM1      0x3f8
#define PVPANIC   0x505
#define DEBUGCON  0xe9

/*
 * The stub reads nothing of the start info but its magic: QEMU leaves fields
 * such as flags uninitialised.  Everything it enters with comes from the
 * hand-off module, which kvmload built from the loader's own calls and wrote
 * at HANDOFF_MODULE_BASE.  One section, so 32- and 64-bit code and the data
 * they share resolve without relocations.
 */
	.section .pvh, "awx", @progbits
	.code32
	.globl	pvh_start
pvh_start:
	cli
	cld
	/* An entry mark for QEMU's isa-debugcon at 0xe9 (bench/run times the hand-off by it); a port nothing answers otherwise. */
	movb	$'K', %al
	outb	%al, $DEBUGCON
	lgdt	stub_gdtr
	ljmp	$SEL_CODE32, $1f
1:	movl	$SEL_DATA, %eax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	movl	$stub_stack_top, %esp

	movl	$msg_start, %esi
	cmpl	$PVH_START_MAGIC, (%ebx)
	jne	fail
	/* The module is where kvmload wrote it, right above the stub: nothing of QEMU's start info names it. */
	movl	$HANDOFF_MODULE_BASE, %ebp	/* module base */
	movl	$msg_header, %esi
	cmpl	$HANDOFF_MAGIC, HO_MAGIC(%ebp)
	jne	fail
	cmpl	$HANDOFF_VERSION, HO_VERSION(%ebp)
	jne	fail
	movl	HO_SIZE(%ebp), %ecx
	cmpl	$HO_HDR_SIZE, %ecx
	jb	fail
	cmpl	$HANDOFF_MODULE_MAX, %ecx
	ja	fail
	leal	(%ebp, %ecx), %eax
	movl	%eax, mod_end

	/* The header moves into the stub first: chunks may be written anywhere but here. */
	movl	%ebp, %esi
	movl	$hdr, %edi
	movl	$HO_HDR_SIZE, %ecx
	rep movsb

	movl	$msg_chunk, %esi
	leal	HO_HDR_SIZE(%ebp), %ebx		/* next chunk */
	movl	hdr + HO_NCHUNKS, %edx
chunk:
	testl	%edx, %edx
	jz	enter
	movl	%ebx, %eax
	addl	$HO_CHUNK_SIZE, %eax
	jc	fail
	cmpl	mod_end, %eax
	ja	fail
	cmpl	$0, HO_CHUNK_GPA + 4(%ebx)
	jne	fail
	movl	HO_CHUNK_LEN(%ebx), %ecx
	addl	%ecx, %eax			/* end of the chunk's bytes */
	jc	fail
	cmpl	mod_end, %eax
	ja	fail
	movl	HO_CHUNK_GPA(%ebx), %edi
	movl	%edi, %eax
	addl	%ecx, %eax			/* end of its destination */
	jc	fail
	/* Neither the stub nor the module may be written over while they are read. */
	cmpl	$pvh_image_start, %eax
	jbe	2f
	cmpl	$pvh_image_end, %edi
	jb	fail
2:	cmpl	%ebp, %eax
	jbe	3f
	cmpl	mod_end, %edi
	jb	fail
3:	pushl	%esi
	leal	HO_CHUNK_SIZE(%ebx), %esi
	rep movsb
	popl	%esi
	movl	HO_CHUNK_LEN(%ebx), %ecx
	addl	$7, %ecx
	andl	$~7, %ecx
	leal	HO_CHUNK_SIZE(%ebx, %ecx), %ebx
	decl	%edx
	jmp	chunk

enter:
	/* A far pointer to the entry code, with the selector the loader asked for. */
	movw	hdr + HO_SEL, %ax
	movw	%ax, far_sel
	movl	$msg_mode, %esi
	cmpl	$HANDOFF_MODE_I386, hdr + HO_MODE
	je	enter_i386
	cmpl	$HANDOFF_MODE_LONG, hdr + HO_MODE
	jne	fail

	/* Long mode as the loader asked: PAE paging on its cr3, then 64-bit code. */
	movl	hdr + HO_CR4, %eax
	andl	$~CR4_VMXE, %eax		/* no VMX for the guest: libvmmapi drops it too */
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	hdr + HO_CR3, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	movl	hdr + HO_EFER, %eax
	andl	$~EFER_LMA, %eax		/* set by the CPU when paging comes on */
	orl	$EFER_LME, %eax
	xorl	%edx, %edx
	wrmsr
	movl	hdr + HO_CR0, %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0
	movl	$enter_long, far_off
	ljmp	*far_off

enter_i386:
	/* The GDT at the loader's base holds the descriptors kvmload wrote there (a chunk). */
	lgdt	hdr + HO_GDTR
	lidt	hdr + HO_IDTR
	movl	$i386_cs, far_off
	ljmp	*far_off
i386_cs:
	movw	hdr + HO_SEL + 2, %ax
	movw	%ax, %ds
	movw	hdr + HO_SEL + 4, %ax
	movw	%ax, %es
	movw	hdr + HO_SEL + 6, %ax
	movw	%ax, %fs
	movw	hdr + HO_SEL + 8, %ax
	movw	%ax, %gs
	movw	hdr + HO_SEL + 10, %ax
	movw	%ax, %ss
	movw	hdr + HO_SEL + 12, %ax
	testw	%ax, %ax
	jz	4f
	ltr	%ax
4:	movw	hdr + HO_SEL + 14, %ax
	lldt	%ax
	movl	hdr + HO_CR4, %eax
	movl	%eax, %cr4
	movl	hdr + HO_CR0, %eax
	andl	$~CR0_PG, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	pushl	hdr + HO_RFLAGS
	popfl
	/* From here on nothing may change the flags. */
	movl	hdr + HO_GPR + 0, %eax
	movl	hdr + HO_GPR + 8, %ebx
	movl	hdr + HO_GPR + 16, %ecx
	movl	hdr + HO_GPR + 24, %edx
	movl	hdr + HO_GPR + 32, %esi
	movl	hdr + HO_GPR + 40, %edi
	movl	hdr + HO_GPR + 48, %ebp
	movl	hdr + HO_RSP, %esp
	jmp	*hdr + HO_RIP

	.code64
enter_long:
	/*
	 * Data segments from the stub's GDT (writable, as bhyve's cached
	 * descriptors are), then the loader's GDTR: the selectors stay, their
	 * cached descriptors are the ones a bhyve guest starts with.
	 */
	movw	hdr + HO_SEL + 2(%rip), %ax
	movw	%ax, %ds
	movw	hdr + HO_SEL + 4(%rip), %ax
	movw	%ax, %es
	movw	hdr + HO_SEL + 6(%rip), %ax
	movw	%ax, %fs
	movw	hdr + HO_SEL + 8(%rip), %ax
	movw	%ax, %gs
	movw	hdr + HO_SEL + 10(%rip), %ax
	movw	%ax, %ss
	lgdt	hdr + HO_GDTR(%rip)
	lidt	hdr + HO_IDTR(%rip)
	movw	hdr + HO_SEL + 14(%rip), %ax
	lldt	%ax
	pushq	hdr + HO_RFLAGS(%rip)
	popfq
	/* From here on nothing may change the flags. */
	movq	hdr + HO_GPR + 0(%rip), %rax
	movq	hdr + HO_GPR + 8(%rip), %rbx
	movq	hdr + HO_GPR + 16(%rip), %rcx
	movq	hdr + HO_GPR + 24(%rip), %rdx
	movq	hdr + HO_GPR + 32(%rip), %rsi
	movq	hdr + HO_GPR + 40(%rip), %rdi
	movq	hdr + HO_GPR + 48(%rip), %rbp
	movq	hdr + HO_GPR + 56(%rip), %r8
	movq	hdr + HO_GPR + 64(%rip), %r9
	movq	hdr + HO_GPR + 72(%rip), %r10
	movq	hdr + HO_GPR + 80(%rip), %r11
	movq	hdr + HO_GPR + 88(%rip), %r12
	movq	hdr + HO_GPR + 96(%rip), %r13
	movq	hdr + HO_GPR + 104(%rip), %r14
	movq	hdr + HO_GPR + 112(%rip), %r15
	movq	hdr + HO_RSP(%rip), %rsp
	jmp	*hdr + HO_RIP(%rip)

	.code32
	/* Say why on COM1, then pvpanic: kvmload reports a panic (status 4) with this text above it. */
fail:
	movl	$msg_prefix, %edi
	call	puts
	movl	%esi, %edi
	call	puts
	movw	$PVPANIC, %dx
	movb	$1, %al
	outb	%al, %dx
5:	cli
	hlt
	jmp	5b

/* puts: the NUL-terminated string at %edi to COM1, polling the transmitter. */
puts:
	movb	(%edi), %al
	testb	%al, %al
	jz	7f
	movb	%al, %ah
	movw	$COM1 + 5, %dx
6:	inb	%dx, %al
	testb	$0x20, %al
	jz	6b
	movw	$COM1, %dx
	movb	%ah, %al
	outb	%al, %dx
	incl	%edi
	jmp	puts
7:	ret

	.balign	8
stub_gdt:
	.quad	0
	.quad	0x00af9b000000ffff	/* 0x08: 64-bit code */
	.quad	0x00cf93000000ffff	/* 0x10: flat data, writable */
	.quad	0x00cf9b000000ffff	/* 0x18: flat 32-bit code */
stub_gdt_end:
stub_gdtr:
	.word	stub_gdt_end - stub_gdt - 1
	.long	stub_gdt
	.balign	4
far_off:
	.long	0
far_sel:
	.word	0
	.balign	4
mod_end:
	.long	0
	.balign	8
hdr:
	.space	HO_HDR_SIZE

msg_prefix:	.asciz	"kvmload-pvh: "
msg_start:	.asciz	"no PVH start info\r\n"
msg_header:	.asciz	"the hand-off module has no valid header\r\n"
msg_chunk:	.asciz	"a hand-off chunk is out of bounds\r\n"
msg_mode:	.asciz	"unknown entry mode\r\n"

	.balign	16
stub_stack:
	.space	1024
stub_stack_top:

	/* XEN_ELFNOTE_PHYS32_ENTRY: QEMU enters pvh_start in 32-bit protected mode. */
	.section .note.Xen, "a"
	.balign	4
	.long	4, 4, 18
	.asciz	"Xen"
	.balign	4
	.long	pvh_start
