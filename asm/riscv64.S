/* long shim_vfork_clone(void *save, const void *top, size_t cap);  (riscv64)
 *
 * The contract of asm/x86_64.S: the child's pid in the parent, 0 in the
 * child, -errno on failure, -ENOBUFS (nothing done) when [sp, top) does
 * not fit in `cap`; across the syscall nothing the stub needs is kept on
 * the stack, and the parent copies the caller's stack back from `save`
 * before it returns.
 *
 * Register contract (LP64D): a0-a2 the arguments; s0-s11, sp and the
 * return address in ra are the caller's and never written. The return
 * address stays in ra, which the kernel preserves, so the child cannot
 * clobber it (musl's src/process/riscv64/vfork.s is as short). The
 * kernel preserves every register but a0 across ecall, so save, top,
 * the start of the region and its length wait in t0-t3. clone's
 * arguments on riscv: flags, stack, parent_tid, tls, child_tid.
 * Clobbered: a0-a4, a7, t0-t5. No shadow stack is enabled for user
 * space by the kernels this targets (Zicfiss support came later), so
 * shim_shstk_active() is 0. */

#define SYS_clone 220
#define CLONE_VM_VFORK_SIGCHLD 0x4111
#define ENOBUFS 105

	.text
	.globl shim_vfork_clone
	.hidden shim_vfork_clone
	.type shim_vfork_clone, @function
	.p2align 2
shim_vfork_clone:
	.cfi_startproc
	mv t2, sp			/* t2 = start of the region */
	sub t3, a1, t2			/* t3 = top - start */
	bgtu t3, a2, 3f
	mv t0, a0			/* t0 = save */
	mv t1, a1			/* t1 = top */
	mv t4, t2
	mv t5, t0
1:	beq t4, t1, 2f			/* save[0..len) = [start, top) */
	lbu a3, 0(t4)
	sb a3, 0(t5)
	addi t4, t4, 1
	addi t5, t5, 1
	j 1b

2:	li a0, CLONE_VM_VFORK_SIGCHLD
	li a1, 0			/* same stack as the parent */
	li a2, 0
	li a3, 0
	li a4, 0
	li a7, SYS_clone
	ecall
	beqz a0, 5f			/* the child: return on the shared stack */

	/* Parent (or failure): put the stack back. */
	mv t4, t0
	mv t5, t2
4:	beq t5, t1, 5f
	lbu a3, 0(t4)
	sb a3, 0(t5)
	addi t4, t4, 1
	addi t5, t5, 1
	j 4b
5:	ret

3:	li a0, -ENOBUFS
	ret
	.cfi_endproc
	.size shim_vfork_clone, .-shim_vfork_clone

	.globl shim_shstk_active
	.hidden shim_shstk_active
	.type shim_shstk_active, @function
shim_shstk_active:
	li a0, 0
	ret
	.size shim_shstk_active, .-shim_shstk_active

	.section .note.GNU-stack, "", @progbits
