/* i386k.S: a 32-bit test kernel for the i386 entry: reports the entry state, elf32_exec's stack and the SMAP on COM1, then powers off. */
/*
 * Linked at 0x400000 and flattened (tests/meson.build); tp_i386.so copies
 * it there.  Entered as FreeBSD's i386 kernel is: flat 32-bit protected
 * mode, paging off, %esp at elf32_exec's stack (ret, howto, bootdev, 0, 0,
 * 0, bootinfo, modulep, kernend).
 */
#define COM1     0x3f8
#define COM1_LSR (COM1 + 5)
#define LSR_THRE 0x20
#define PM1A_CNT 0x604  /* QEMU pc's PIIX4 PM block under qboot */
#define SLP_EN   0x2000 /* SLP_TYP 0 is S5 in QEMU's DSDT */
#define MODINFO_END  0
#define MODINFO_SMAP 0x9001 /* MODINFO_METADATA | MODINFOMD_SMAP */

	.text
	.code32
	.globl	i386k_start
i386k_start:
	/* The flags first: nothing before this may change them. */
	pushfl
	popl	v_eflags
	movl	%eax, v_eax
	movl	%ebx, v_ebx
	movl	%esp, v_esp
	movl	(%esp), %eax
	movl	%eax, v_esp0
	movl	4(%esp), %eax
	movl	%eax, v_howto
	movl	28(%esp), %eax
	movl	%eax, v_modulep
	movl	32(%esp), %eax
	movl	%eax, v_kernend
	xorl	%eax, %eax
	movw	%cs, %ax
	movl	%eax, v_cs
	movw	%ds, %ax
	movl	%eax, v_ds
	movw	%es, %ax
	movl	%eax, v_es
	movw	%fs, %ax
	movl	%eax, v_fs
	movw	%gs, %ax
	movl	%eax, v_gs
	movw	%ss, %ax
	movl	%eax, v_ss
	str	%ax
	movl	%eax, v_tr
	sldt	%ax
	movl	%eax, v_ldtr
	movl	%cr0, %eax
	movl	%eax, v_cr0
	movl	%cr4, %eax
	movl	%eax, v_cr4
	sgdt	gdtr
	movzwl	gdtr, %eax
	movl	%eax, v_gdt_limit
	movl	gdtr + 2, %eax
	movl	%eax, v_gdt_base
	sidt	idtr
	movzwl	idtr, %eax
	movl	%eax, v_idt_limit
	movl	idtr + 2, %eax
	movl	%eax, v_idt_base

	/* The first SMAP entry's length, from the records at modulep. */
	movl	$-1, v_smap0			/* no SMAP, or a length of 4 GiB or more */
	movl	v_modulep, %esi
	movl	$4096, %ecx			/* at most this many records */
1:	movl	(%esi), %eax
	cmpl	$MODINFO_END, %eax
	je	3f
	cmpl	$MODINFO_SMAP, %eax
	je	2f
	movl	4(%esi), %eax
	addl	$7, %eax
	andl	$~7, %eax
	leal	8(%esi, %eax), %esi
	loop	1b
	jmp	3f
2:	cmpl	$0, 20(%esi)			/* data + 8: the length; its high half is 0 here */
	jne	3f
	movl	16(%esi), %eax
	movl	%eax, v_smap0
3:
	movl	$line_regs, %ebx
	call	print_line
	movl	$line_more, %ebx
	call	print_line
	movl	$line_smap, %ebx
	call	print_line

	/* ACPI S5. */
	movw	$PM1A_CNT, %dx
	movw	$SLP_EN, %ax
	outw	%ax, %dx
	/* QEMU powers off asynchronously: halt until it does (kvmload's status says whether it did). */
4:	cli
	hlt
	jmp	4b

/* print_line: the (label, value address) pairs at %ebx, up to a 0 label, then CRLF. */
print_line:
	movl	(%ebx), %esi
	testl	%esi, %esi
	jz	5f
	call	puts
	movl	4(%ebx), %eax
	movl	(%eax), %eax
	call	puthex
	addl	$8, %ebx
	jmp	print_line
5:	movl	$crlf, %esi
	jmp	puts

/* puthex: %eax in hex, 0x and no leading zeros. */
puthex:
	pushl	%ebx
	movl	%eax, %ebx
	movb	$'0', %al
	call	putc
	movb	$'x', %al
	call	putc
	movl	$28, %ecx
6:	movl	%ebx, %eax
	shrl	%cl, %eax
	andl	$0xf, %eax
	jnz	7f
	subl	$4, %ecx
	jnz	6b				/* the last digit is printed even when 0 */
7:	movl	%ebx, %eax
	shrl	%cl, %eax
	andl	$0xf, %eax
	movb	hexdigits(%eax), %al
	call	putc
	subl	$4, %ecx
	jns	7b
	popl	%ebx
	ret

/* puts: the NUL-terminated string at %esi. */
puts:
	lodsb
	testb	%al, %al
	jz	8f
	call	putc
	jmp	puts
8:	ret

/* putc: %al on COM1, polling the transmitter; keeps every register but %edx. */
putc:
	pushl	%eax
	movw	$COM1_LSR, %dx
9:	inb	%dx, %al
	testb	$LSR_THRE, %al
	jz	9b
	popl	%eax
	movw	$COM1, %dx
	outb	%al, %dx
	ret

	.balign	4
line_regs:
	.long	s_eflags, v_eflags, s_cs, v_cs, s_ds, v_ds, s_ss, v_ss, s_tr, v_tr
	.long	s_cr0, v_cr0, s_esp, v_esp, s_esp0, v_esp0, s_modulep, v_modulep, 0
line_more:
	.long	s_es, v_es, s_fs, v_fs, s_gs, v_gs, s_ldtr, v_ldtr, s_cr4, v_cr4
	.long	s_gdtr, v_gdt_base, s_slash, v_gdt_limit, s_idtr, v_idt_base, s_slash, v_idt_limit
	.long	s_eax, v_eax, s_ebx, v_ebx, s_howto, v_howto, s_kernend, v_kernend, 0
line_smap:
	.long	s_smap0, v_smap0, 0

v_eflags:	.long	0
v_eax:		.long	0
v_ebx:		.long	0
v_esp:		.long	0
v_esp0:		.long	0
v_howto:	.long	0
v_modulep:	.long	0
v_kernend:	.long	0
v_cs:		.long	0
v_ds:		.long	0
v_es:		.long	0
v_fs:		.long	0
v_gs:		.long	0
v_ss:		.long	0
v_tr:		.long	0
v_ldtr:		.long	0
v_cr0:		.long	0
v_cr4:		.long	0
v_gdt_base:	.long	0
v_gdt_limit:	.long	0
v_idt_base:	.long	0
v_idt_limit:	.long	0
v_smap0:	.long	0
gdtr:		.space	8
idtr:		.space	8

s_eflags:	.asciz	"i386k: eflags="
s_cs:		.asciz	" cs="
s_ds:		.asciz	" ds="
s_ss:		.asciz	" ss="
s_tr:		.asciz	" tr="
s_cr0:		.asciz	" cr0="
s_esp:		.asciz	" esp="
s_esp0:		.asciz	" esp0="
s_modulep:	.asciz	" modulep="
s_es:		.asciz	"i386k: es="
s_fs:		.asciz	" fs="
s_gs:		.asciz	" gs="
s_ldtr:		.asciz	" ldtr="
s_cr4:		.asciz	" cr4="
s_gdtr:		.asciz	" gdtr="
s_idtr:		.asciz	" idtr="
s_slash:	.asciz	"/"
s_eax:		.asciz	" eax="
s_ebx:		.asciz	" ebx="
s_howto:	.asciz	" howto="
s_kernend:	.asciz	" kernend="
s_smap0:	.asciz	"i386k: smap0 len="
crlf:		.asciz	"\r\n"
hexdigits:	.ascii	"0123456789abcdef"

	.section .note.GNU-stack, "", @progbits
