/* Multiboot (v1) entry of the tierd guest: QEMU's -kernel loads this ELF,
 * enters here in flat 32-bit protected mode, paging off, with the magic in
 * %eax and the multiboot information in %ebx. */
#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000003	/* page-aligned modules, memory map */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.text
	.globl _start
_start:
	cli
	cld
	mov	$stack_top, %esp
	fninit
	push	%ebx
	push	%eax
	call	guest_main
1:	hlt
	jmp	1b

	.bss
	.align 16
	.space	65536
stack_top:
	.section .note.GNU-stack, "", @progbits
