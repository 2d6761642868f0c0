/* long shim_vfork_clone(void *save, const void *top, size_t cap);  (armhf, EABI)
 *
 * The contract of asm/x86_64.S: the child's pid in the parent, 0 in the
 * child, -errno on failure, -ENOBUFS (nothing done) when the region does
 * not fit; across the syscall nothing the stub needs is kept on the
 * stack, and the parent copies the caller's stack [sp, top) back from
 * `save` before it returns.
 *
 * Register contract (AAPCS): r0-r2 the arguments; r4-r11 and sp are the
 * caller's; the return address stays in lr, which the stub never writes
 * and the kernel preserves, so the child cannot clobber it. The EABI
 * syscall takes its number in r7, a callee-saved register: the caller's
 * r7 goes into a 4-byte header of `save` (a buffer the child does not
 * touch) and comes back from it in both processes. The kernel preserves
 * every register but r0 across svc, so save, top and the start of the
 * region wait in r2, r3 and r12; clone's arguments on arm are flags,
 * stack, parent_tid, tls, child_tid, and without the SETTID/SETTLS
 * flags the kernel reads only the first two (r1 = 0: the same stack).
 * Clobbered: r0-r3, r12, flags. ARM state (not Thumb); returns with bx. */

#define SYS_clone 120
#define CLONE_VM_VFORK_SIGCHLD 0x4111
#define ENOBUFS 105
#define HDR 4

	.syntax unified
	.arm
	.text
	.globl shim_vfork_clone
	.hidden shim_vfork_clone
	.type shim_vfork_clone, %function
	.p2align 2
shim_vfork_clone:
	.fnstart
	.cfi_startproc
	mov r12, sp			/* r12 = start of the region */
	sub r3, r1, r12			/* r3 = top - start */
	subs r2, r2, #HDR		/* room for the stack bytes */
	bcc 3f
	cmp r3, r2
	bhi 3f
	mov r2, r0			/* r2 = save */
	mov r3, r1			/* r3 = top */
	str r7, [r2]			/* the caller's r7 */
	add r0, r2, #HDR
	mov r1, r12
1:	cmp r1, r3			/* save[HDR..) = [start, top) */
	ldrbne r7, [r1], #1
	strbne r7, [r0], #1
	bne 1b

	ldr r0, =CLONE_VM_VFORK_SIGCHLD
	mov r1, #0			/* same stack as the parent */
	mov r7, #SYS_clone
	svc #0
	cmp r0, #0
	beq 5f				/* the child: return on the shared stack */

	/* Parent (or failure): put the stack back; r0 is the result. */
	add r1, r2, #HDR
	push {r0}			/* safe: the region starts above sp */
	mov r0, r12
4:	cmp r0, r3
	ldrbne r7, [r1], #1
	strbne r7, [r0], #1
	bne 4b
	pop {r0}
5:	ldr r7, [r2]
	bx lr

3:	mvn r0, #(ENOBUFS - 1)		/* -ENOBUFS */
	bx lr
	.cfi_endproc
	.fnend
	.size shim_vfork_clone, .-shim_vfork_clone
	.ltorg

/* unsigned long shim_shstk_active(void): 0, there is no shadow stack on
 * 32-bit Arm. */
	.globl shim_shstk_active
	.hidden shim_shstk_active
	.type shim_shstk_active, %function
shim_shstk_active:
	.fnstart
	mov r0, #0
	bx lr
	.fnend
	.size shim_shstk_active, .-shim_shstk_active

	.section .note.GNU-stack, "", %progbits
