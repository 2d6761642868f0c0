/* A libuv of one function, for the reader of libuv's child code on
 * aarch64 (shim/engine/code/env_load.c, code_aarch64.c); the x86_64
 * file says what it is. `int uv_spawn(void *loop, void *proc, const
 * uv_process_options_t *o)` forks; its child does what libuv 1.44's
 * does with options on arm64 (o in x28: env at 0x18, args 0x10, file
 * 0x8), then execvp and _exit(127). Built once per SHAPE:
 *   0  libuv's shape: ldr x0, [x28, #0x18]; cbz x0; the GOT slot of
 *      environ (adrp, ldr); str x0, [x1]
 *   1  the child writes x28 first (mov x28, x28: the value is the same,
 *      the proof is not)
 *   2  the child hands x28 to a helper before the load
 *   3  the child reads options->env once more, for something else
 *   4  the child's path goes through an indirect jump (br)
 *   5  after the store the child reads options->env again
 *   6  one 16-byte read at 0x10 (ldp), across env
 *   7  x28 written back by a pre-indexed load (ldr x2, [x28, #0]!)
 *   8  x28 stored to the stack: a copy of the pointer
 *   9  a second store to environ, of a copy of o in another register
 *   10 x28 written by movk of its top 16 bits (zero in user space)
 *   11 a second store, through __environ's GOT slot (an alias)
 *   12 env read through x28 with an index register
 *   13 environ's slot loaded before the fork, kept in x21, stored
 *      through in the child (no naming of environ on the child's path)
 *   14 environ's GOT page taken by an adrp whose use is not completed
 *   15 x28 written on a path the child reaches both directly and
 *      through a function it calls (read first as called code)
 *   16 the store through environ's GOT slot loaded into x28 itself (the
 *      shape's own instructions overwrite the register); the child then
 *      exits 127 without exec, with or without the library
 *   17 env copied into the struct through x28 between fork's return and
 *      the branch that parts the child (the value is the same)
 *   18 a second store to environ, its slot reached through a register
 *      derived from the adrp's (add x2, x1, #0) after the adrp's own
 *      register was used once
 *   19 a second store through the register the shape's store went
 *      through, which still holds environ's address
 * Each shape keeps o in x28, x20 and x19, so that what the hidden writes
 * put back is the same pointer: the children run right whatever the
 * reader decides, and only its decision differs.
 * Only shape 0 may be proved; the others must stay declined while the
 * process has threads (fallback_undecoded), with the same results.
 * Built with -mbranch-protection=standard (tests/arch/arm64.sh), uv_spawn
 * starts with bti c and signs its return address. */

	.text
	.globl uv_version
	.type uv_version, %function
uv_version:
	mov w0, #0x2c02
	movk w0, #0x1, lsl #16	/* 1.44.2 */
	ret
	.size uv_version, .-uv_version

	.globl uv_spawn
	.type uv_spawn, %function
uv_spawn:
	.cfi_startproc
#ifdef __ARM_FEATURE_BTI_DEFAULT
	hint #34		/* bti c: reached through dlsym's pointer */
#endif
#ifdef __ARM_FEATURE_PAC_DEFAULT
	hint #25		/* paciasp: the child resumes below a signed return address */
	.cfi_window_save
#endif
	stp x29, x30, [sp, #-48]!
	.cfi_def_cfa_offset 48
	.cfi_offset x29, -48
	.cfi_offset x30, -40
	mov x29, sp
	stp x19, x20, [sp, #16]
	.cfi_offset x19, -32
	.cfi_offset x20, -24
	stp x21, x28, [sp, #32]
	.cfi_offset x21, -16
	.cfi_offset x28, -8
	mov x28, x2
	mov x20, x2
	mov x19, x2
#if SHAPE == 13
	adrp x21, :got:environ
	ldr x21, [x21, #:got_lo12:environ]
#endif
	bl fork
#if SHAPE == 17
	ldr x6, [x20, #0x18]
	str x6, [x28, #0x18]
#endif
	cbnz w0, 9f		/* the parent */
#if SHAPE == 1
	mov x28, x28
#elif SHAPE == 2
	mov x0, x28
	bl helper
#elif SHAPE == 3
	ldr x3, [x28, #0x18]
	cmp x3, #0
#elif SHAPE == 4
	adr x9, 1f
	br x9
1:
#elif SHAPE == 7
	ldr x2, [x28, #0]!
#elif SHAPE == 8
	str x28, [sp, #-16]!
	add sp, sp, #16
#elif SHAPE == 10
	movk x28, #0, lsl #48
#elif SHAPE == 14
	adrp x3, :got:environ
	mov x4, x3
#elif SHAPE == 15
	ldr x3, [x28, #0x10]
	cbnz x3, 5f
	bl helper
#endif
#if SHAPE == 16
	ldr x0, [x28, #0x18]
	cbz x0, 7f
	adrp x28, :got:environ
	ldr x28, [x28, #:got_lo12:environ]
	str x0, [x28]
7:	mov w0, #127
	bl _exit
#else
6:	ldr x0, [x28, #0x18]
	cbz x0, 2f
	adrp x1, :got:environ
	ldr x1, [x1, #:got_lo12:environ]
	str x0, [x1]
#endif
2:
#if SHAPE == 5
	ldr x2, [x28, #0x18]
#elif SHAPE == 6
	ldp x2, x3, [x28, #0x10]
#elif SHAPE == 9
	mov x3, x20
	ldr x0, [x3, #0x18]
	adrp x1, :got:environ
	ldr x1, [x1, #:got_lo12:environ]
	str x0, [x1]
#elif SHAPE == 11
	ldr x0, [x20, #0x18]
	adrp x1, :got:__environ
	ldr x1, [x1, #:got_lo12:__environ]
	str x0, [x1]
#elif SHAPE == 12
	mov x3, #3
	ldr x2, [x28, x3, lsl #3]
#elif SHAPE == 13
	ldr x0, [x19, #0x18]
	cbz x0, 3f
	str x0, [x21]
3:
#elif SHAPE == 19
	ldr x5, [x20, #0x18]
	str x5, [x1]
#elif SHAPE == 18
	ldr x5, [x20, #0x18]
	adrp x1, :got:environ
	add x2, x1, #0
	ldr x1, [x1, #:got_lo12:environ]
	ldr x2, [x2, #:got_lo12:environ]
	str x5, [x2]
#endif
	ldr x1, [x28, #0x10]
	ldr x0, [x28, #0x8]
	bl execvp
	mov w0, #127
	bl _exit
#if SHAPE == 15
5:	mov x28, x20
	b 6b
#endif
9:	ldp x19, x20, [sp, #16]
	ldp x21, x28, [sp, #32]
	ldp x29, x30, [sp], #48
	.cfi_restore x29
	.cfi_restore x30
	.cfi_restore x19
	.cfi_restore x20
	.cfi_restore x21
	.cfi_restore x28
	.cfi_def_cfa_offset 0
#ifdef __ARM_FEATURE_PAC_DEFAULT
	hint #29		/* autiasp */
#endif
	ret
	.cfi_endproc
	.size uv_spawn, .-uv_spawn

	.type helper, %function
helper:
#if SHAPE == 15
	.cfi_startproc
	b 5b
	.cfi_endproc
#else
	ret
#endif
	.size helper, .-helper

	.section .note.GNU-stack, "", %progbits
