/* long shim_vfork_clone(void *save, const void *top, size_t cap);  (s390x)
 *
 * The contract of asm/x86_64.S: the child's pid in the parent, 0 in the
 * child, -errno on failure, -ENOBUFS (nothing done) when [r15, top) does
 * not fit in `cap`; across the syscall nothing the stub needs is kept on
 * the stack, and the parent copies the caller's stack back from `save`
 * before it returns.
 *
 * Register contract (s390x ELF ABI): r2-r4 the arguments, the result in
 * r2; r6-r13 and r15 (the stack pointer) are the caller's and never
 * written; the return address stays in r14, which neither the stub nor
 * the kernel writes, so the child cannot clobber it. The kernel
 * preserves every register but r2 across svc. s390 swaps clone's first
 * two arguments: stack in r2, flags in r3 (then parent_tid, child_tid,
 * tls). save, top and the start of the region wait in r4, r5 and r0.
 * The caller's 160-byte register save area lies above r15, inside the
 * region, so it is saved and restored with the rest. Clobbered: r0-r5,
 * condition code. No shadow stack on s390x: shim_shstk_active() is 0. */

#define SYS_clone 120
#define CLONE_VM_VFORK_SIGCHLD 0x4111
#define ENOBUFS 105

	.text
	.globl shim_vfork_clone
	.hidden shim_vfork_clone
	.type shim_vfork_clone, @function
	.align 8
shim_vfork_clone:
	.cfi_startproc
	lgr %r0, %r15			/* r0 = start of the region */
	lgr %r5, %r3
	sgr %r5, %r0			/* r5 = top - start */
	clgr %r5, %r4
	jh 3f
	lgr %r4, %r2			/* r4 = save */
	lgr %r5, %r3			/* r5 = top */
	lgr %r1, %r0
	lgr %r3, %r4
1:	clgr %r1, %r5			/* save[0..len) = [start, top) */
	je 2f
	llc %r2, 0(%r1)
	stc %r2, 0(%r3)
	la %r1, 1(%r1)
	la %r3, 1(%r3)
	j 1b

2:	lghi %r2, 0			/* same stack as the parent */
	lghi %r3, CLONE_VM_VFORK_SIGCHLD
	svc SYS_clone
	ltgr %r2, %r2
	je 5f				/* the child: return on the shared stack */

	/* Parent (or failure): put the stack back; r2 is the result. */
	lgr %r1, %r4
	lgr %r3, %r0
4:	clgr %r3, %r5
	je 5f
	llc %r0, 0(%r1)
	stc %r0, 0(%r3)
	la %r1, 1(%r1)
	la %r3, 1(%r3)
	j 4b
5:	br %r14

3:	lghi %r2, -ENOBUFS
	br %r14
	.cfi_endproc
	.size shim_vfork_clone, .-shim_vfork_clone

	.globl shim_shstk_active
	.hidden shim_shstk_active
	.type shim_shstk_active, @function
shim_shstk_active:
	lghi %r2, 0
	br %r14
	.size shim_shstk_active, .-shim_shstk_active

	.section .note.GNU-stack, "", @progbits
