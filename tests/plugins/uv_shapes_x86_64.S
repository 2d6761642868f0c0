/* A libuv of one function, for the reader of libuv's child code
 * (shim/engine/code/code_x86_64.c): `int uv_spawn(void *loop, void *proc, const
 * uv_process_options_t *o)` forks; its child does what libuv's does
 * with options (o in r14: env at 0x18, args 0x10, file 0x8), then
 * execvp and _exit(127); the parent returns the pid. uv_version says
 * 1.44, a version read. Built once per SHAPE:
 *   0  libuv's shape: the load, test, je, the store through the GOT
 *   1  the same, but the child writes r14 first (a lea onto itself: the
 *      value is the same, the proof is not)
 *   2  the child hands r14 to a helper before the load
 *   3  the child reads options->env once more, for something else
 *   4  the child's path goes through an indirect jump
 *   5  after the store the child reads options->env again (as an exec
 *      given it would)
 *   6  the same with one 16-byte read at 0x10, across env
 *   7  a write of r14 hidden behind a length the reader once got wrong
 *      (66 with REX.W: a 4-byte immediate, not 2)
 *   8  o in rbx, written through bh (8-bit register 7 without REX)
 *   9  a second store to environ, of a copy of o in another register
 *   10 r14 written with bts/btc and an immediate
 *   11 a second store, through __environ's GOT slot (an alias)
 *   12 env read through r14 with an index register
 *   13 env's low half pushed (8 bytes without REX.W)
 *   14 env's bits reached with bt and a register offset
 *   15 r14 written on a path the child reaches both directly and
 *      through a function it calls (read first as called code)
 *   16 the store through environ's GOT slot loaded into r14 itself (the
 *      shape's own instructions overwrite the register); the child then
 *      exits 127 without exec, with or without the library
 *   17 env copied into the struct through r14 between fork's return and
 *      the branch that parts the child (the value is the same)
 *   18 a second store through the register the shape's store went
 *      through, which still holds environ's address
 * Each shape keeps o in r14, r12 and rbx, so that what the hidden writes
 * put back is the same pointer: the children run right whatever the
 * reader decides, and only its decision differs.
 * Only shape 0 may be proved; the others must stay declined while the
 * process has threads (fallback_undecoded), with the same results. */

	.text
	.globl uv_version
	.type uv_version, @function
uv_version:
	movl $0x012c02, %eax	/* 1.44.2 */
	ret
	.size uv_version, .-uv_version

	.globl uv_spawn
	.type uv_spawn, @function
uv_spawn:
	.cfi_startproc
	pushq %r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	pushq %r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq %rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	movq %rdx, %r14
	movq %rdx, %r12
	movq %rdx, %rbx
	call fork@PLT
#if SHAPE == 17
	movq 0x18(%r12), %rcx
	movq %rcx, 0x18(%r14)
#endif
	testl %eax, %eax
	jne 9f			/* the parent */
#if SHAPE == 1
	leaq 0(%r14), %r14
#elif SHAPE == 2
	movq %r14, %rdi
	call helper
#elif SHAPE == 3
	movq 0x18(%r14), %rcx
	testq %rcx, %rcx
#elif SHAPE == 4
	leaq 1f(%rip), %rax
	jmp *%rax
1:
#elif SHAPE == 7
	.byte 0x66, 0x48, 0xc7, 0xc0, 0x00, 0x00, 0x3d, 0x00	/* mov $0x3d0000,%rax */
	.byte 0x4d, 0x89, 0xe6					/* mov %r12,%r14 */
#elif SHAPE == 10
	btcq $6, %r14
	btcq $6, %r14
#elif SHAPE == 15
	cmpq $0, 0x10(%r14)
	jne 5f
	call helper
#endif
#if SHAPE == 16
	movq 0x18(%r14), %rax
	testq %rax, %rax
	je 2f
	movq environ@GOTPCREL(%rip), %r14
	movq %rax, (%r14)
2:	movl $127, %edi
	call _exit@PLT
#else
#if SHAPE == 8
	movb %bh, %bh
	movq 0x18(%rbx), %rax
#else
6:	movq 0x18(%r14), %rax
#endif
	testq %rax, %rax
	je 2f
	movq environ@GOTPCREL(%rip), %rdx
	movq %rax, (%rdx)
#endif
2:
#if SHAPE == 5
	movq 0x18(%r14), %rdx
#elif SHAPE == 6
	movdqu 0x10(%r14), %xmm0
#elif SHAPE == 9
	movq %r12, %rcx
	movq 0x18(%rcx), %rax
	movq environ@GOTPCREL(%rip), %rdx
	movq %rax, (%rdx)
#elif SHAPE == 11
	movq 0x18(%r12), %rax
	movq __environ@GOTPCREL(%rip), %rdx
	movq %rax, (%rdx)
#elif SHAPE == 12
	movl $3, %ecx
	movq (%r14,%rcx,8), %rdx
#elif SHAPE == 13
	pushq 0x14(%r14)
	addq $8, %rsp
#elif SHAPE == 14
	movl $0xc0, %eax
	btq %rax, (%r14)
#elif SHAPE == 18
	movq 0x18(%r12), %rcx
	movq %rcx, (%rdx)
#endif
	movq 0x10(%r14), %rsi
	movq 0x8(%r14), %rdi
	call execvp@PLT
	movl $127, %edi
	call _exit@PLT
#if SHAPE == 15
5:	movq %r12, %r14
	jmp 6b
#endif
9:	popq %rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
	popq %r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	popq %r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r14
	ret
	.cfi_endproc
	.size uv_spawn, .-uv_spawn

helper:
#if SHAPE == 15
	.cfi_startproc
	jmp 5b
	.cfi_endproc
#else
	ret
#endif

	.section .note.GNU-stack, "", @progbits
