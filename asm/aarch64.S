/* long shim_vfork_clone(void *save, const void *top, size_t cap);  (aarch64)
 *
 * The contract of asm/x86_64.S: the child's pid in the parent, 0 in the
 * child, -errno on failure, -ENOBUFS (nothing done) when [sp, top) does
 * not fit in `cap`; across the syscall nothing the stub needs is kept on
 * the stack, and the parent copies the caller's stack [sp, top) back
 * from `save` before it returns.
 *
 * Register contract (AAPCS64): x0-x2 the arguments; x19-x29, sp and the
 * return address in x30 (the link register) are the caller's and are
 * never written. The return address never goes to memory, so the child
 * cannot clobber it (Go's rawVforkSyscall on arm64 relies on the same).
 * The kernel preserves every register but x0 across svc, so save, top,
 * the start of the region and its length wait in x9-x12 (temporaries).
 * clone's arguments on arm64: flags, stack, parent_tid, tls, child_tid
 * (kernel/fork.c, the default order). Clobbered: x0-x5, x8-x17, flags.
 *
 * Leaf function: it neither spills nor signs x30, so pointer
 * authentication has nothing to do here; `bti c` (hint #34, a no-op
 * before ARMv8.5) lets BTI-enforcing callers reach it indirectly, and
 * the GNU property note below marks the object BTI- and PAC-compatible
 * so a BTI-built library stays BTI. A guarded control stack (GCS) would
 * need the child's returns pushed and popped on a stack the parent
 * shares: the caller declines instead when shim_shstk_active() says one
 * is on, as design.md asks for every shadow stack. */

#define SYS_clone 220
#define SYS_prctl 167
#define PR_GET_SHADOW_STACK_STATUS 74
#define CLONE_VM_VFORK_SIGCHLD 0x4111	/* CLONE_VM | CLONE_VFORK | SIGCHLD */
#define ENOBUFS 105

	.text
	.globl shim_vfork_clone
	.hidden shim_vfork_clone
	.type shim_vfork_clone, %function
	.p2align 4
shim_vfork_clone:
	.cfi_startproc
	hint #34			/* bti c */
	mov x9, sp			/* x9 = start of the region */
	sub x12, x1, x9			/* x12 = top - start */
	cmp x12, x2
	b.hi 3f
	mov x10, x0			/* x10 = save */
	mov x11, x1			/* x11 = top */
	mov x13, x9
	mov x14, x10
	mov x15, x12
1:	cbz x15, 2f			/* save[0..len) = [start, top) */
	ldrb w16, [x13], #1
	strb w16, [x14], #1
	sub x15, x15, #1
	b 1b

2:	mov x0, #CLONE_VM_VFORK_SIGCHLD
	mov x1, #0			/* same stack as the parent */
	mov x2, #0
	mov x3, #0
	mov x4, #0
	mov x8, #SYS_clone
	svc #0
	cbz x0, 5f			/* the child: return on the shared stack */

	/* Parent (or failure): put the stack back. */
	mov x13, x10
	mov x14, x9
	mov x15, x12
4:	cbz x15, 5f
	ldrb w16, [x13], #1
	strb w16, [x14], #1
	sub x15, x15, #1
	b 4b
5:	ret

3:	mov x0, #-ENOBUFS
	ret
	.cfi_endproc
	.size shim_vfork_clone, .-shim_vfork_clone

/* void shim_resume(const struct shim_resume *r): noreturn.
 *
 * The child of a SITE_SWAP_ENV fork goes straight back into the site's
 * frame: x19-x29 as the unwinder saw them there (one of them replaced by
 * the copy of the struct), sp as fork() would have left it, x0 0 (fork's
 * result in the child), and x30 the return address, as the site's `bl`
 * left it. `ret`, not `br`: a return is not an indirect branch for BTI,
 * so the instruction after the call needs no landing pad. Pointer
 * authentication: the site's own return address stays signed in its
 * frame with its sp as the modifier, and sp is restored exactly, so its
 * autiasp succeeds; x30 here is a plain address, as after any call.
 * What lay below sp is the child's own dead frames. */
	.globl shim_resume
	.hidden shim_resume
	.type shim_resume, %function
	.p2align 4
shim_resume:
	.cfi_startproc
	.cfi_undefined x30
	hint #34			/* bti c */
	ldp x19, x20, [x0, #0]
	ldp x21, x22, [x0, #16]
	ldp x23, x24, [x0, #32]
	ldp x25, x26, [x0, #48]
	ldp x27, x28, [x0, #64]
	ldr x29, [x0, #80]
	ldr x1, [x0, #88]		/* sp */
	ldr x30, [x0, #96]		/* ip */
	mov sp, x1
	mov x0, #0
	ret
	.cfi_endproc
	.size shim_resume, .-shim_resume

/* unsigned long shim_shstk_active(void): non-zero when a guarded
 * control stack is enabled for this thread. prctl's answer; a kernel
 * without GCS support says EINVAL, which means none. */
	.globl shim_shstk_active
	.hidden shim_shstk_active
	.type shim_shstk_active, %function
	.p2align 4
shim_shstk_active:
	.cfi_startproc
	hint #34			/* bti c */
	sub sp, sp, #16
	.cfi_adjust_cfa_offset 16
	str xzr, [sp]
	mov x0, #PR_GET_SHADOW_STACK_STATUS
	mov x1, sp
	mov x2, #0
	mov x3, #0
	mov x4, #0
	mov x8, #SYS_prctl
	svc #0
	cbnz x0, 1f
	ldr x0, [sp]
	and x0, x0, #1			/* PR_SHADOW_STACK_ENABLE */
	.cfi_remember_state
	add sp, sp, #16
	.cfi_adjust_cfa_offset -16
	ret
	.cfi_restore_state
1:	mov x0, #0
	add sp, sp, #16
	ret
	.cfi_endproc
	.size shim_shstk_active, .-shim_shstk_active

	.section .note.GNU-stack, "", %progbits

/* GNU_PROPERTY_AARCH64_FEATURE_1_AND: BTI (1) | PAC (2) */
	.section .note.gnu.property, "a"
	.p2align 3
	.word 4				/* name size */
	.word 16			/* descriptor size */
	.word 5				/* NT_GNU_PROPERTY_TYPE_0 */
	.asciz "GNU"
	.word 0xc0000000		/* GNU_PROPERTY_AARCH64_FEATURE_1_AND */
	.word 4
	.word 3
	.word 0
