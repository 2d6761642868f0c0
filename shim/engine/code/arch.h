/* What one architecture's file (code_<arch>.c) gives the readers shared
 * by all (env_load.c, import_calls.c): one instruction decoded into what
 * the proofs need, and the few shapes that differ by encoding. A third
 * architecture is a third such file; where none is built, have_arch is
 * false and every reader finds nothing (the forks stay real).
 *
 * Registers are the architecture's own numbers (x86_64: rax=0 .. r15;
 * aarch64: x0 .. x30, 31 the stack pointer or zero register), as bits
 * of a 32-bit set. */
#ifndef VFORKSHIM_CODE_ARCH_H
#define VFORKSHIM_CODE_ARCH_H

#include "code.h"

#if defined(__x86_64__)
#define CODE_STEP 1u   /* where an instruction can start: any byte */
#define CODE_MAX 16u   /* the longest instruction */
#elif defined(__aarch64__)
#define CODE_STEP 4u   /* fixed-width, aligned */
#define CODE_MAX 4u
#endif
#ifdef CODE_STEP
#define have_arch true
#else
#define have_arch false
#endif

enum code_flow { FLOW_NEXT, FLOW_JMP, FLOW_JCC, FLOW_CALL, FLOW_END };

struct code_insn {
	int len;
	enum code_flow flow;
	uintptr_t target;        /* FLOW_JMP, FLOW_JCC, a direct FLOW_CALL; 0:
				    through a register or memory */
	uint32_t writes;         /* registers written (a call: the caller-saved) */
	uint32_t uses;           /* registers read as values, not as the base
				    of a memory operand */
	bool mem;                /* a memory operand: */
	int base, index;         /* its registers, -1 none */
	int32_t disp, width;     /* its offset from base, and bytes at most */
	bool writeback;          /* the base written back (pre/post-index) */
	bool writes_sp;          /* the stack pointer written (aarch64) */
};

/* the registers a called function keeps (the proof's candidates) */
extern const uint32_t code_callee_saved;
/* the unwinder's (DWARF) number of register r */
int code_dwarf(int r);

/* One instruction at pc, all of it below hi: its length, 0 when this
 * decoder does not know it */
int code_decode(uintptr_t pc, uintptr_t hi, struct code_insn *in);

/* A call at pc (direct, or through a GOT slot): its length, 0 if none;
 * *target (direct) or *slot (through a slot), the other 0 */
int code_call(uintptr_t pc, uintptr_t hi, uintptr_t *target, uintptr_t *slot);
/* A PLT entry at t (a jump through a GOT slot): the slot, 0 if none;
 * *len its length */
uintptr_t code_plt_slot(uintptr_t t, uintptr_t lo, uintptr_t hi, size_t *len);

/* From fork()'s return at `ret`, the child's first instruction: fork's
 * result followed through moves and compares until the branch on 0;
 * 0 when not known. *written, *used: what the code read meanwhile
 * does with the registers. */
uintptr_t code_child_entry(uintptr_t ret, uintptr_t lo, uintptr_t hi, uint32_t *written, uint32_t *used);

/* At pc: the load of the struct's env word `off(rX)` (rX callee-saved,
 * a 64-bit load into another register), its test against NULL, the
 * branch over the store and the store of it to environ. *base: rX;
 * *after and *skip: where the child goes on, past the store and from
 * the branch; *ref: the place that names environ (code_names_environ
 * must say the same of it); *scratch: the register the store went
 * through (it holds environ's address or page after), or -1. */
bool code_env_store(const struct shim_object *o, uintptr_t pc, uintptr_t hi, int32_t off, int *base,
		    uintptr_t *after, uintptr_t *skip, uintptr_t *ref, int *scratch);

/* Does the instruction at pc (decoded) name environ: the word, or a GOT
 * slot bound to it? Errs towards yes. */
bool code_insn_names_environ(const struct shim_object *o, uintptr_t pc, uintptr_t hi);
/* The same for a scan of a whole function, at every CODE_STEP, where an
 * instruction may or may not start (x86_64): *ref is the place that
 * names it, as code_env_store gives it. Errs towards yes. */
bool code_names_environ_at(const struct shim_object *o, uintptr_t k, uintptr_t hi, uintptr_t *ref);

/* At pc, the child's first act: compare the word of the frame at
 * sp + *disp (sp as at the call of fork, which is as the call returned)
 * with `value` (an immediate, or loaded from a GOT slot bound to it) and
 * branch on it; *differ: where the code goes when they differ. For
 * CPython's preexec_fn test (rt_cpython.c). */
bool code_frame_word_test(const struct shim_object *o, uintptr_t pc, uintptr_t hi, uintptr_t value, int32_t *disp,
			  uintptr_t *differ);

/* shim_import_callers (code.h) for the GOT slots of an imported
 * function, on an architecture whose code decodes word by word
 * (aarch64; x86_64's byte passes are import_calls.c's own) */
int code_import_callers(const struct shim_object *o, const uintptr_t *slots, int nslots, uintptr_t *calls, int max);

#endif
