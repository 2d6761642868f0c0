/* long shim_vfork_clone(void *save, const void *top, size_t cap);
 *
 * clone(CLONE_VM|CLONE_VFORK|SIGCHLD) for the rerouted fork(): returns
 * the child's pid in the parent, 0 in the child, -errno on failure, and
 * -ENOBUFS (nothing done) when [rsp, top) does not fit in `cap` bytes.
 *
 * The child runs on our stack and may overwrite anything below the
 * frame it returns to, and -- inlined child code, Go #20732 -- slots of
 * live frames too. So across the syscall nothing is kept in memory:
 *   - the return address is popped into r9 and pushed back after (Go's
 *     rawVforkSyscall keeps it in r12);
 *   - before the syscall the caller's stack [rsp, top) is copied to
 *     `save`; the parent copies it back before it touches the stack.
 * Registers: the kernel preserves all but rax, rcx and r11 across
 * syscall, so save/top/return address wait in rdx/r8/r9 and the start
 * of the region in r10 (clone ignores rdx, r10 and r8 without the
 * SETTID/SETTLS flags). Callee-saved registers are not touched, so the
 * caller's rbx, rbp, r12-r15 and rsp are intact in both processes.
 * Clobbered: rax, rcx, rdx, rsi, rdi, r8-r11, flags (all caller-saved).
 *
 * Assembly because C cannot promise that nothing it needs after the
 * syscall lives on the stack. Shadow stacks (CET) are not handled
 * here: the caller declines when shim_shstk_active() is non-zero. */

#define SYS_clone 56
#define CLONE_VM 0x100
#define CLONE_VFORK 0x4000
#define SIGCHLD 17
#define ENOBUFS 105

	.text
	.globl shim_vfork_clone
	.hidden shim_vfork_clone
	.type shim_vfork_clone, @function
	.p2align 4
shim_vfork_clone:
	.cfi_startproc
	popq %r9			/* return address: preserved by syscall */
	.cfi_adjust_cfa_offset -8
	.cfi_register %rip, %r9
	movq %rsi, %rcx
	subq %rsp, %rcx			/* rcx = top - rsp */
	cmpq %rdx, %rcx
	ja 3f
	movq %rsp, %r10			/* r10 = start of the saved region */
	movq %rsi, %r8			/* r8 = top */
	movq %rdi, %rdx			/* rdx = save */
	movq %rsp, %rsi
	cld
	rep movsb			/* save[0..rcx) = [rsp, top) */

	movl $(CLONE_VM | CLONE_VFORK | SIGCHLD), %edi
	xorl %esi, %esi			/* same stack as the parent */
	movl $SYS_clone, %eax
	syscall
	testq %rax, %rax
	jz 2f

	/* Parent (or failure): put the stack back before using it. */
	movq %rax, %r11
	movq %r10, %rdi
	movq %rdx, %rsi
	movq %r8, %rcx
	subq %r10, %rcx
	rep movsb
	movq %r11, %rax
1:	pushq %r9
	.cfi_remember_state
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rip, 0
	ret
	.cfi_restore_state

	/* Child: return into the caller on the shared stack. */
2:	pushq %r9
	.cfi_remember_state
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rip, 0
	ret
	.cfi_restore_state

3:	movq $-ENOBUFS, %rax
	jmp 1b
	.cfi_endproc
	.size shim_vfork_clone, .-shim_vfork_clone

/* void shim_resume(const struct shim_resume *r): noreturn.
 *
 * The child of a SITE_SWAP_ENV fork goes straight back into the site's
 * frame: rbx, rbp, r12-r15 as the unwinder saw them there (one of them
 * replaced by the copy of the struct), rsp as fork() would have left
 * it, rax 0 (fork's result in the child), and the return address. What
 * lay below is the child's own dead frames. `push; ret`, not an
 * indirect jump: nothing here needs an endbr64 at the target (shadow
 * stacks are declined before any of this). */
	.globl shim_resume
	.hidden shim_resume
	.type shim_resume, @function
	.p2align 4
shim_resume:
	.cfi_startproc
	.cfi_undefined rip
	movq 0(%rdi), %rbx
	movq 8(%rdi), %rbp
	movq 16(%rdi), %r12
	movq 24(%rdi), %r13
	movq 32(%rdi), %r14
	movq 40(%rdi), %r15
	movq 56(%rdi), %rcx
	movq 48(%rdi), %rsp
	xorl %eax, %eax
	pushq %rcx
	ret
	.cfi_endproc
	.size shim_resume, .-shim_resume

/* unsigned long shim_shstk_active(void): the shadow stack pointer, 0
 * when no shadow stack is active (rdssp is a no-op without CET). */
	.globl shim_shstk_active
	.hidden shim_shstk_active
	.type shim_shstk_active, @function
	.p2align 4
shim_shstk_active:
	.cfi_startproc
	xorl %eax, %eax
	rdsspq %rax
	ret
	.cfi_endproc
	.size shim_shstk_active, .-shim_shstk_active

	.section .note.GNU-stack, "", @progbits
