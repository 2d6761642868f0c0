/* A libuv of one function, for the reader of libuv's child code
 * (shim/code_x86_64.c): `int uv_spawn(void *loop, void *proc, const
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
	movq %rdx, %r14
	call fork@PLT
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
#endif
	movq 0x18(%r14), %rax
	testq %rax, %rax
	je 2f
	movq environ@GOTPCREL(%rip), %rdx
	movq %rax, (%rdx)
2:
#if SHAPE == 5
	movq 0x18(%r14), %rdx
#endif
	movq 0x10(%r14), %rsi
	movq 0x8(%r14), %rdi
	call execvp@PLT
	movl $127, %edi
	call _exit@PLT
9:	popq %r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r14
	ret
	.cfi_endproc
	.size uv_spawn, .-uv_spawn

helper:
	ret

	.section .note.GNU-stack, "", @progbits
