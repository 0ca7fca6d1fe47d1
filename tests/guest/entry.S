/* entry.S: the test kernel's entry: record the CPU state the loader left, switch stacks, call C. */

/* Byte offsets into tk_entry; they must match struct tk_entry in testkernel.c. */
#define E_GPR(n)	((n) * 8)	/* rax rbx rcx rdx rsi rdi rbp r8..r15 */
#define E_RSP		120
#define E_RFLAGS	128
#define E_CR0		136
#define E_CR3		144
#define E_CR4		152
#define E_EFER		160
#define E_SEL(n)	(168 + (n) * 8)	/* cs ds es fs gs ss tr ldtr */
#define E_GDTR		232
#define E_IDTR		248
#define E_SIZE		264

	.text
	.globl	btext
	.type	btext, @function
btext:
	/* First the registers, while they still hold what the loader put there. */
	movq	%rax, tk_entry + E_GPR(0)(%rip)
	movq	%rbx, tk_entry + E_GPR(1)(%rip)
	movq	%rcx, tk_entry + E_GPR(2)(%rip)
	movq	%rdx, tk_entry + E_GPR(3)(%rip)
	movq	%rsi, tk_entry + E_GPR(4)(%rip)
	movq	%rdi, tk_entry + E_GPR(5)(%rip)
	movq	%rbp, tk_entry + E_GPR(6)(%rip)
	movq	%r8, tk_entry + E_GPR(7)(%rip)
	movq	%r9, tk_entry + E_GPR(8)(%rip)
	movq	%r10, tk_entry + E_GPR(9)(%rip)
	movq	%r11, tk_entry + E_GPR(10)(%rip)
	movq	%r12, tk_entry + E_GPR(11)(%rip)
	movq	%r13, tk_entry + E_GPR(12)(%rip)
	movq	%r14, tk_entry + E_GPR(13)(%rip)
	movq	%r15, tk_entry + E_GPR(14)(%rip)
	movq	%rsp, tk_entry + E_RSP(%rip)
	/*
	 * pushfq on the loader's stack would write below it, into page 0:
	 * read RFLAGS on our own stack.  Only then cli, which changes IF.
	 */
	leaq	tk_stack_top(%rip), %rsp
	pushfq
	popq	tk_entry + E_RFLAGS(%rip)
	cli
	movq	%cr0, %rax
	movq	%rax, tk_entry + E_CR0(%rip)
	movq	%cr3, %rax
	movq	%rax, tk_entry + E_CR3(%rip)
	movq	%cr4, %rax
	movq	%rax, tk_entry + E_CR4(%rip)
	movl	$0xc0000080, %ecx	/* EFER */
	rdmsr
	movl	%eax, tk_entry + E_EFER(%rip)
	movl	%edx, tk_entry + E_EFER + 4(%rip)
	movw	%cs, tk_entry + E_SEL(0)(%rip)
	movw	%ds, tk_entry + E_SEL(1)(%rip)
	movw	%es, tk_entry + E_SEL(2)(%rip)
	movw	%fs, tk_entry + E_SEL(3)(%rip)
	movw	%gs, tk_entry + E_SEL(4)(%rip)
	movw	%ss, tk_entry + E_SEL(5)(%rip)
	str	tk_entry + E_SEL(6)(%rip)
	sldt	tk_entry + E_SEL(7)(%rip)
	sgdt	tk_entry + E_GDTR(%rip)
	sidt	tk_entry + E_IDTR(%rip)

	/* The loader's stack at 0x1000 holds 32-bit words: 0, modulep, kernend. */
	movq	tk_entry + E_RSP(%rip), %rax
	movl	4(%rax), %edi
	movl	8(%rax), %esi
	call	tk_main
1:	cli
	hlt
	jmp	1b
	.size	btext, . - btext

	.bss
	.balign	16
tk_stack:
	.space	16384
tk_stack_top:

	/*
	 * Selectors get 16-bit stores into 64-bit slots: in .data the rest is
	 * zero without relying on the loader clearing .bss.
	 */
	.data
	.globl	tk_entry
	.type	tk_entry, @object
	.balign	16
tk_entry:
	.space	E_SIZE
	.size	tk_entry, E_SIZE

	.section .note.GNU-stack, "", @progbits
