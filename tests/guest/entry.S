/* entry.S: the test kernel's entry: take the loader's arguments off its stack, switch stacks, call C. */
	.text
	.globl	btext
	.type	btext, @function
btext:
	cli
	/* The loader's stack at 0x1000 holds 32-bit words: 0, modulep, kernend. */
	movl	4(%rsp), %edi
	movl	8(%rsp), %esi
	leaq	tk_stack_top(%rip), %rsp
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

	.section .note.GNU-stack, "", @progbits
