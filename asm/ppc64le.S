/* long shim_vfork_clone(void *save, const void *top, size_t cap);  (ppc64le, ELFv2)
 *
 * The contract of asm/x86_64.S: the child's pid in the parent, 0 in the
 * child, -errno on failure, -ENOBUFS (nothing done) when [r1, top) does
 * not fit; across the syscall nothing the stub needs is kept on the
 * stack, and the parent copies the caller's stack back from `save`
 * before it returns.
 *
 * Register contract (ELFv2): r3-r5 the arguments, the result in r3;
 * r14-r31 and r1 (the stack pointer) are the caller's; the return
 * address stays in the link register, which the stub never writes and
 * `sc` preserves, so the child cannot clobber it. `sc` may clobber the
 * volatile registers (r0, r4-r12, ctr, xer, cr0), so what the stub needs
 * after it -- save, top, the start of the region -- cannot wait there:
 * the caller's r31 goes into a 24-byte header of `save` (a buffer the
 * child does not touch) with the start and the top, r31 holds `save`
 * across `sc`, and both processes reload r31 from the header. The kernel
 * reports an error by setting cr0.SO with the positive errno in r3; the
 * stub returns -errno. clone's arguments: flags, stack (0: the same),
 * parent_tid, tls, child_tid. Clobbered: r0, r3-r12, ctr, cr0. No TOC
 * use, so one entry point. No shadow stack: shim_shstk_active() is 0. */

#define SYS_clone 120
#define CLONE_VM_VFORK_SIGCHLD 0x4111
#define ENOBUFS 105
#define HDR 24

	.abiversion 2
	.text
	.globl shim_vfork_clone
	.hidden shim_vfork_clone
	.type shim_vfork_clone, @function
	.p2align 4
shim_vfork_clone:
	.cfi_startproc
	mr %r6, %r1			/* r6 = start of the region */
	subf %r7, %r6, %r4			/* r7 = top - start */
	addi %r8, %r5, -HDR		/* room for the stack bytes */
	cmpld %r7, %r8
	bgt 3f
	cmpdi %r5, HDR
	blt 3f
	std %r31, 0(%r3)			/* the caller's r31 */
	std %r6, 8(%r3)
	std %r4, 16(%r3)
	mr %r31, %r3			/* r31 = save, across sc */
	addi %r9, %r3, HDR
	mr %r10, %r6
1:	cmpld %r10, %r4		/* save[HDR..) = [start, top) */
	beq 2f
	lbz %r11, 0(%r10)
	stb %r11, 0(%r9)
	addi %r10, %r10, 1
	addi %r9, %r9, 1
	b 1b

2:	li %r3, CLONE_VM_VFORK_SIGCHLD
	li %r4, 0			/* same stack as the parent */
	li %r5, 0
	li %r6, 0
	li %r7, 0
	li %r0, SYS_clone
	sc
	bns+ 6f
	neg %r3, %r3			/* error: -errno */
6:	cmpdi %r3, 0
	beq 5f			/* the child: return on the shared stack */

	/* Parent (or failure): put the stack back; r3 is the result. */
	addi %r9, %r31, HDR
	ld %r10, 8(%r31)
	ld %r4, 16(%r31)
4:	cmpld %r10, %r4
	beq 5f
	lbz %r11, 0(%r9)
	stb %r11, 0(%r10)
	addi %r10, %r10, 1
	addi %r9, %r9, 1
	b 4b
5:	ld %r31, 0(%r31)
	blr

3:	li %r3, -ENOBUFS
	blr
	.cfi_endproc
	.size shim_vfork_clone, .-shim_vfork_clone

	.globl shim_shstk_active
	.hidden shim_shstk_active
	.type shim_shstk_active, @function
shim_shstk_active:
	li %r3, 0
	blr
	.size shim_shstk_active, .-shim_shstk_active

	.section .note.GNU-stack, "", @progbits
