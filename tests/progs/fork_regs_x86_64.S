/* long regs_fork(unsigned long out[8]): the register harness.
 *
 * Loads known values into every callee-saved register, records rsp,
 * and calls fork() (through the PLT: the shim's when preloaded). The
 * parent stores what it finds in rbx, rbp, r12-r15 and rsp after the
 * call into out[0..6] (out[7] is rsp before), then returns the pid.
 * The child clobbers all those registers and every slot of this frame
 * -- the caller's saved registers and the `out` pointer itself -- then
 * calls regs_child(), which scribbles the stack and execs. If the stub
 * let the child's writes through, the parent reads garbage or crashes.
 * The CFI says where the caller's registers are saved: the shim's stack
 * walk needs them once the caller's frame is found through rbp (built
 * with -fno-omit-frame-pointer, as SANITIZE does). */
	.text
	.globl regs_fork
	.type regs_fork, @function
regs_fork:
	.cfi_startproc
	pushq %rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	pushq %rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	pushq %r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq %r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	pushq %r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	pushq %r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r15, 0
	pushq %rdi			/* out, and 16-byte alignment */
	.cfi_adjust_cfa_offset 8
	movabsq $0x1111111111111111, %rbx
	movabsq $0x2222222222222222, %rbp
	movabsq $0x3333333333333333, %r12
	movabsq $0x4444444444444444, %r13
	movabsq $0x5555555555555555, %r14
	movabsq $0x6666666666666666, %r15
	movq %rsp, 56(%rdi)
	call fork@PLT
	testl %eax, %eax
	jz 1f
	movq (%rsp), %rdi
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	movq %rsp, 48(%rdi)
	movslq %eax, %rax
	popq %rdi
	.cfi_adjust_cfa_offset -8
	popq %r15
	.cfi_adjust_cfa_offset -8
	popq %r14
	.cfi_adjust_cfa_offset -8
	popq %r13
	.cfi_adjust_cfa_offset -8
	popq %r12
	.cfi_adjust_cfa_offset -8
	popq %rbp
	.cfi_adjust_cfa_offset -8
	popq %rbx
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_adjust_cfa_offset 56
1:	movq $-1, %rbx			/* the child: clobber everything */
	movq $-1, %rbp
	movq $-1, %r12
	movq $-1, %r13
	movq $-1, %r14
	movq $-1, %r15
	movq %rbx, 0(%rsp)
	movq %rbx, 8(%rsp)
	movq %rbx, 16(%rsp)
	movq %rbx, 24(%rsp)
	movq %rbx, 32(%rsp)
	movq %rbx, 40(%rsp)
	movq %rbx, 48(%rsp)
	call regs_child			/* does not return */
	ud2
	.cfi_endproc
	.size regs_fork, .-regs_fork

	.section .note.GNU-stack, "", @progbits
