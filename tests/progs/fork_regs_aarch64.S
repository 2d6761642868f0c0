/* long regs_fork(unsigned long out[20]): the register harness, aarch64
 * (fork_regs_x86_64.S says what it proves).
 *
 * Loads known values into every callee-saved register of AAPCS64 --
 * x19-x28 and d8-d15, whose low 64 bits a called function keeps --
 * records sp, and calls fork() (through the PLT: the shim's when
 * preloaded). The parent stores what it finds after the call in
 * out[0..17] (x19-x28, then d8-d15) and sp in out[18] (out[19] is sp
 * before), then returns the pid. The child clobbers all those
 * registers, x29, and every slot of this frame -- the caller's saved
 * registers, the frame record and the `out` pointer itself -- then calls
 * regs_child(), which scribbles the stack and execs. The CFI says where
 * the caller's registers are saved, for the shim's stack walk. Built
 * with -mbranch-protection=standard too (make check-arch-runtimes): a
 * `bti c` starts it, and it signs its return address. */
	.text
	.globl regs_fork
	.type regs_fork, %function
	.p2align 4
regs_fork:
	.cfi_startproc
	hint #34			/* bti c */
	hint #25			/* paciasp: x30 signed with sp */
	.cfi_window_save
	stp x29, x30, [sp, #-176]!
	.cfi_def_cfa_offset 176
	.cfi_offset x29, -176
	.cfi_offset x30, -168
	mov x29, sp
	stp x19, x20, [sp, #16]
	.cfi_offset x19, -160
	.cfi_offset x20, -152
	stp x21, x22, [sp, #32]
	.cfi_offset x21, -144
	.cfi_offset x22, -136
	stp x23, x24, [sp, #48]
	.cfi_offset x23, -128
	.cfi_offset x24, -120
	stp x25, x26, [sp, #64]
	.cfi_offset x25, -112
	.cfi_offset x26, -104
	stp x27, x28, [sp, #80]
	.cfi_offset x27, -96
	.cfi_offset x28, -88
	stp d8, d9, [sp, #96]
	.cfi_offset d8, -80
	.cfi_offset d9, -72
	stp d10, d11, [sp, #112]
	.cfi_offset d10, -64
	.cfi_offset d11, -56
	stp d12, d13, [sp, #128]
	.cfi_offset d12, -48
	.cfi_offset d13, -40
	stp d14, d15, [sp, #144]
	.cfi_offset d14, -32
	.cfi_offset d15, -24
	str x0, [sp, #160]		/* out */
	ldr x19, =0x101010101010101
	ldr x20, =0x202020202020202
	ldr x21, =0x303030303030303
	ldr x22, =0x404040404040404
	ldr x23, =0x505050505050505
	ldr x24, =0x606060606060606
	ldr x25, =0x707070707070707
	ldr x26, =0x808080808080808
	ldr x27, =0x909090909090909
	ldr x28, =0xa0a0a0a0a0a0a0a
	ldr x9, =0xb0b0b0b0b0b0b0b
	fmov d8, x9
	ldr x9, =0xc0c0c0c0c0c0c0c
	fmov d9, x9
	ldr x9, =0xd0d0d0d0d0d0d0d
	fmov d10, x9
	ldr x9, =0xe0e0e0e0e0e0e0e
	fmov d11, x9
	ldr x9, =0xf0f0f0f0f0f0f0f
	fmov d12, x9
	ldr x9, =0x1010101010101010
	fmov d13, x9
	ldr x9, =0x1111111111111111
	fmov d14, x9
	ldr x9, =0x1212121212121212
	fmov d15, x9
	mov x9, sp
	str x9, [x0, #152]
	bl fork
	cbz w0, 1f
	ldr x1, [sp, #160]
	stp x19, x20, [x1, #0]
	stp x21, x22, [x1, #16]
	stp x23, x24, [x1, #32]
	stp x25, x26, [x1, #48]
	stp x27, x28, [x1, #64]
	stp d8, d9, [x1, #80]
	stp d10, d11, [x1, #96]
	stp d12, d13, [x1, #112]
	stp d14, d15, [x1, #128]
	mov x2, sp
	str x2, [x1, #144]
	sxtw x0, w0
	ldp x19, x20, [sp, #16]
	ldp x21, x22, [sp, #32]
	ldp x23, x24, [sp, #48]
	ldp x25, x26, [sp, #64]
	ldp x27, x28, [sp, #80]
	ldp d8, d9, [sp, #96]
	ldp d10, d11, [sp, #112]
	ldp d12, d13, [sp, #128]
	ldp d14, d15, [sp, #144]
	ldp x29, x30, [sp], #176
	hint #29			/* autiasp: faults if x30 was not ours */
	ret
1:	mov x9, #-1			/* the child: clobber everything */
	mov x19, x9
	mov x20, x9
	mov x21, x9
	mov x22, x9
	mov x23, x9
	mov x24, x9
	mov x25, x9
	mov x26, x9
	mov x27, x9
	mov x28, x9
	mov x29, x9
	fmov d8, x9
	fmov d9, x9
	fmov d10, x9
	fmov d11, x9
	fmov d12, x9
	fmov d13, x9
	fmov d14, x9
	fmov d15, x9
	stp x9, x9, [sp, #0]
	stp x9, x9, [sp, #16]
	stp x9, x9, [sp, #32]
	stp x9, x9, [sp, #48]
	stp x9, x9, [sp, #64]
	stp x9, x9, [sp, #80]
	stp x9, x9, [sp, #96]
	stp x9, x9, [sp, #112]
	stp x9, x9, [sp, #128]
	stp x9, x9, [sp, #144]
	stp x9, x9, [sp, #160]
	bl regs_child			/* does not return */
	brk #0
	.cfi_endproc
	.size regs_fork, .-regs_fork
	.ltorg

	.section .note.GNU-stack, "", %progbits

/* GNU_PROPERTY_AARCH64_FEATURE_1_AND: BTI (1) | PAC (2) */
	.section .note.gnu.property, "a"
	.p2align 3
	.word 4
	.word 16
	.word 5
	.asciz "GNU"
	.word 0xc0000000
	.word 4
	.word 3
	.word 0
