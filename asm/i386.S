/* long shim_vfork_clone(void *save, const void *top, size_t cap);  (i386)
 *
 * The contract of asm/x86_64.S: the child's pid in the parent, 0 in the
 * child, -errno on failure, -ENOBUFS (nothing done) when the region does
 * not fit; across the syscall nothing the stub needs is kept on the
 * stack, and the parent copies the caller's stack [esp, top) back from
 * `save` before it touches the stack.
 *
 * Register contract (cdecl: arguments on the stack, eax/ecx/edx
 * caller-saved, ebx/esi/edi/ebp callee-saved):
 *   - The syscall is vfork (__NR_vfork, 190), not clone: clone takes its
 *     flags in ebx, which the caller expects back intact and which the
 *     child cannot restore from memory it shares. vfork takes no argument
 *     and is exactly clone(CLONE_VM|CLONE_VFORK|SIGCHLD) on the same
 *     stack (kernel/fork.c). musl's src/process/i386/vfork.s calls it too.
 *   - int $0x80 preserves every register but eax, so edx carries `save`
 *     across it. Everything else the stub needs after the syscall -- the
 *     return address, the start and the top of the region, and the
 *     caller's esi and edi, which rep movsb uses -- is written into a
 *     20-byte header of `save` (the child does not touch that buffer; it
 *     may scribble the stack). The stack bytes follow the header, so the
 *     region must fit in cap - 20.
 *   - ebx and ebp are never touched; esi and edi are reloaded from the
 *     header in both processes.
 * Clobbered: eax, ecx, edx, flags. There is no user shadow stack on
 * i386 (Linux enables it for 64-bit processes only), so
 * shim_shstk_active() is 0. */

#define SYS_vfork 190
#define ENOBUFS 105
#define HDR 20

	.text
	.globl shim_vfork_clone
	.hidden shim_vfork_clone
	.type shim_vfork_clone, @function
	.p2align 4
shim_vfork_clone:
	.cfi_startproc
	movl 4(%esp), %edx		/* edx = save */
	movl 8(%esp), %ecx		/* ecx = top */
	leal 4(%esp), %eax		/* eax = start: esp once the return address is popped */
	movl %eax, 4(%edx)
	movl %ecx, 8(%edx)
	subl %eax, %ecx			/* ecx = top - start */
	movl 12(%esp), %eax
	subl $HDR, %eax			/* eax = room for the stack bytes */
	jb 3f
	cmpl %eax, %ecx
	ja 3f
	movl (%esp), %eax
	movl %eax, 0(%edx)		/* the return address */
	movl %esi, 12(%edx)
	movl %edi, 16(%edx)
	leal 4(%esp), %esi
	leal HDR(%edx), %edi
	cld
	rep movsb			/* save[HDR..) = [start, top) */
	addl $4, %esp			/* pop the return address: it is in the header */
	.cfi_adjust_cfa_offset -4
	.cfi_undefined %eip
	movl $SYS_vfork, %eax
	int $0x80
	testl %eax, %eax
	jz 2f

	/* Parent (or failure): put the stack back before using it. */
	leal HDR(%edx), %esi
	movl 4(%edx), %edi
	movl 8(%edx), %ecx
	subl %edi, %ecx
	cld
	rep movsb
	/* Child joins here: its stack is still the parent's, untouched. */
2:	movl 12(%edx), %esi
	movl 16(%edx), %edi
	pushl 0(%edx)
	.cfi_adjust_cfa_offset 4
	.cfi_rel_offset %eip, 0
	ret

3:	movl $-ENOBUFS, %eax
	ret
	.cfi_endproc
	.size shim_vfork_clone, .-shim_vfork_clone

/* unsigned long shim_shstk_active(void): 0, see above. */
	.globl shim_shstk_active
	.hidden shim_shstk_active
	.type shim_shstk_active, @function
	.p2align 4
shim_shstk_active:
	xorl %eax, %eax
	ret
	.size shim_shstk_active, .-shim_shstk_active

	.section .note.GNU-stack, "", @progbits
