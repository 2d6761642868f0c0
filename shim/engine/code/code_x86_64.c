/* x86_64 machine code read along the child's path of a fork call: the
 * proof that lets libuv's child run without writing environ (rt_libuv.c).
 *
 * What is proved, for one `call fork` in uv_spawn:
 *   1. the child's side: from the call's return, fork's result (eax, and
 *      the registers it is moved to) is compared and the conditional
 *      jumps are resolved for 0, until the compare with 0 that parts
 *      the child from the parent;
 *   2. from there, every path (both sides of each conditional jump,
 *      calls assumed to return) reaches the load `mov off(%rX),%rA`,
 *      followed by `test %rA,%rA`, `je`, and a store of rA to environ
 *      (rip-relative, or through the GOT slot the loader bound to it);
 *      or ends (ret, ud2, hlt, a call of abort, _exit, __assert_fail
 *      and their kin);
 *   3. rX is callee-saved (rbx, rbp, r12-r15), and no instruction on any
 *      of those paths, nor on the paths after the store up to the exec
 *      and the child's end, writes it, reads it as a register (a copy of the
 *      pointer could reach a helper that reads the struct), or reads the
 *      struct through it other than at [0, size) outside the env word.
 * Any instruction this decoder does not know, an indirect jump, a jump
 * out of [lo, hi) or a path too long: no proof, and the caller keeps
 * the site as it was (declined while threaded: fallback_undecoded).
 *
 * So the child reads env only there, and only through rX, whose value
 * is what rX holds when fork() returns: the unwinder's view of the
 * caller's frame (walk.c). The child is given rX pointing to a copy of
 * the struct with env NULL (fork.c): the store is skipped, and the
 * exec gets the env as its environment (guard_env.c).
 *
 * Runs while the site table is rebuilt, inside a dl_iterate_phdr
 * callback: no allocation, bounded work. */
#include <string.h>

#include "code.h"
#include "lockfree.h"

#if defined(__x86_64__)

extern char **environ;

enum flow { F_NEXT, F_JMP, F_JCC, F_CALL, F_END };

struct insn {
	int len;
	enum flow flow;
	uintptr_t target;   /* F_JMP, F_JCC, direct F_CALL */
	int cc;             /* F_JCC: the condition, 0-15 */
	unsigned writes;    /* general registers written: bit n = register n */
	unsigned uses;      /* general registers read as registers (not as a
			       memory operand's base) */
	bool flags;         /* sets the flags */
	bool rex_w;
	int width;          /* bytes of a memory operand, at most */
	unsigned char op, op2;
	bool modrm, mem, rip;
	int mod, reg, rm;   /* with REX's bits; rm is a register when mod 3 */
	int base, index;    /* memory: -1 none */
	int32_t disp;
	int64_t imm;
};

static int32_t s32(const unsigned char *p)
{
	int32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

#define BIT(r) (1u << (r))
#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RBP 5
#define R11 11
#define CALLEE_SAVED (BIT(RBX) | BIT(RBP) | BIT(12) | BIT(13) | BIT(14) | BIT(15))

/* One instruction at p (p + 16 <= end): its length, 0 if unknown. */
static int decode(const unsigned char *p, struct insn *in)
{
	memset(in, 0, sizeof *in);
	in->base = in->index = -1;
	const unsigned char *q = p;
	bool opsize = false, rep = false, seg = false;
	for (int n = 0;; n++, q++) {
		if (n > 4)
			return 0;
		if (*q == 0x66)
			opsize = true;
		else if (*q == 0xf2 || *q == 0xf3)
			rep = true;
		else if (*q == 0x64 || *q == 0x65)
			seg = true; /* fs, gs: not this object's memory */
		else if (*q != 0x2e && *q != 0x3e && *q != 0x26 && *q != 0x36 && *q != 0x64 && *q != 0x65 &&
			 *q != 0xf0)
			break;
	}
	unsigned rex = (*q & 0xf0) == 0x40 ? *q++ : 0;
	in->rex_w = rex & 8;
	unsigned char op = in->op = *q++;
	int imm = 0; /* immediate bytes */
	int z = opsize && !in->rex_w ? 2 : 4; /* REX.W wins over 66 */
	bool byte_op = false; /* 8-bit registers: without REX, 4-7 are ah ch dh bh */
	bool far = false;     /* bt with a register: reaches any bit from the operand */
	bool quad = false;    /* push, pop, call through memory: 8 bytes */
	enum { D_NONE, D_REG, D_RM, D_BOTH } dst = D_NONE;
	bool ext = false; /* the ModRM reg field extends the opcode */
	bool sse = false; /* reg and rm name xmm registers */
	unsigned extra = 0;
	int emb = -1; /* a register in the opcode byte */

	if (op == 0x0f) {
		unsigned char o2 = in->op2 = *q++;
		in->modrm = true;
		if (o2 == 0x05) { /* syscall */
			in->modrm = false;
			extra = BIT(RAX) | BIT(RCX) | BIT(R11);
		} else if (o2 == 0x0b) { /* ud2 */
			in->modrm = false;
			in->flow = F_END;
		} else if (o2 == 0x1e || o2 == 0x1f) { /* endbr64, nop r/m; rdssp writes */
			ext = true;
			if (o2 == 0x1e && rep && (q[0] >> 6) == 3 && ((q[0] >> 3) & 7) == 1)
				dst = D_RM;
		} else if ((o2 >= 0x10 && o2 <= 0x17) || o2 == 0x28 || o2 == 0x29 || o2 == 0x2b ||
			   (o2 >= 0x54 && o2 <= 0x5f) || (o2 >= 0x60 && o2 <= 0x6d) || o2 == 0x6f ||
			   (o2 >= 0x74 && o2 <= 0x76) || o2 == 0x7f || o2 == 0xd4 || o2 == 0xd6 ||
			   o2 == 0xdb || o2 == 0xeb || o2 == 0xef || o2 == 0xfe || o2 == 0xfa || o2 == 0xfb ||
			   o2 == 0xd5) {
			sse = true;
		} else if (o2 == 0x70) { /* pshufd */
			sse = true;
			imm = 1;
		} else if (o2 == 0x2e || o2 == 0x2f) { /* ucomis, comis */
			sse = true;
			in->flags = true;
		} else if (o2 == 0x6e) { /* movd/movq xmm, r/m */
			dst = D_NONE;
			sse = true;
			in->uses |= 0; /* the r/m register, below */
		} else if (o2 == 0x7e) { /* 66: movd r/m, xmm; f3: movq xmm, xmm/m */
			sse = true;
			if (!rep)
				dst = D_RM;
		} else if (o2 == 0xd7 || o2 == 0x50 || o2 == 0x2c || o2 == 0x2d) {
			sse = true;
			dst = D_REG;
		} else if (o2 >= 0x40 && o2 <= 0x4f) { /* cmovcc */
			dst = D_REG;
		} else if (o2 >= 0x80 && o2 <= 0x8f) { /* jcc rel32 */
			if (opsize)
				return 0; /* rel16 on some processors */
			in->modrm = false;
			in->flow = F_JCC;
			in->cc = o2 & 0xf;
			in->target = (uintptr_t)(q + 4) + s32(q);
			q += 4;
		} else if (o2 >= 0x90 && o2 <= 0x9f) { /* setcc */
			ext = true;
			dst = D_RM;
			byte_op = true;
		} else if (o2 == 0xa2) { /* cpuid */
			in->modrm = false;
			extra = BIT(RAX) | BIT(RBX) | BIT(RCX) | BIT(RDX);
		} else if (o2 == 0xa3) {
			in->flags = true;
			far = true;
		} else if (o2 == 0xab || o2 == 0xb3 || o2 == 0xbb || o2 == 0xa5 || o2 == 0xad) {
			dst = D_RM;
			in->flags = true;
			far = o2 != 0xa5 && o2 != 0xad;
		} else if (o2 == 0xa4 || o2 == 0xac) {
			dst = D_RM;
			imm = 1;
			in->flags = true;
		} else if (o2 == 0xaf || o2 == 0xb6 || o2 == 0xb7 || o2 == 0xbe || o2 == 0xbf || o2 == 0xbc ||
			   o2 == 0xbd || o2 == 0xb8) {
			dst = D_REG;
			in->flags = true;
			byte_op = o2 == 0xb6 || o2 == 0xbe; /* the source */
		} else if (o2 == 0xb0 || o2 == 0xb1) { /* cmpxchg */
			byte_op = o2 == 0xb0;
			dst = D_RM;
			extra = BIT(RAX);
			in->flags = true;
		} else if (o2 == 0xc0 || o2 == 0xc1) { /* xadd */
			byte_op = o2 == 0xc0;
			dst = D_BOTH;
			in->flags = true;
		} else if (o2 == 0xba) { /* bt /4; bts btr btc /5-/7 write */
			ext = true;
			imm = 1;
			in->flags = true;
			if (((q[0] >> 3) & 7) >= 5)
				dst = D_RM;
		} else if (o2 >= 0xc8 && o2 <= 0xcf) { /* bswap */
			in->modrm = false;
			emb = (o2 & 7) | (rex & 1 ? 8 : 0);
			extra = BIT(emb);
		} else {
			return 0;
		}
	} else if (op < 0x40 && (op & 7) < 6) { /* add or adc sbb and sub xor cmp */
		bool cmp = (op >> 3) == 7;
		byte_op = (op & 1) == 0;
		in->flags = true;
		switch (op & 7) {
		case 0: case 1: in->modrm = true; dst = cmp ? D_NONE : D_RM; break;
		case 2: case 3: in->modrm = true; dst = cmp ? D_NONE : D_REG; break;
		case 4: imm = 1; extra = cmp ? 0 : BIT(RAX); in->uses |= BIT(RAX); break;
		case 5: imm = z; extra = cmp ? 0 : BIT(RAX); in->uses |= BIT(RAX); break;
		}
	} else if (op >= 0x50 && op <= 0x57) { /* push */
		emb = (op & 7) | (rex & 1 ? 8 : 0);
		in->uses |= BIT(emb);
	} else if (op >= 0x58 && op <= 0x5f) { /* pop */
		extra = BIT((op & 7) | (rex & 1 ? 8 : 0));
	} else if (op == 0x63) { /* movsxd */
		in->modrm = true;
		dst = D_REG;
	} else if (op == 0x68 || op == 0x6a) {
		imm = op == 0x68 ? z : 1;
	} else if (op == 0x69 || op == 0x6b) {
		in->modrm = true;
		dst = D_REG;
		imm = op == 0x69 ? z : 1;
		in->flags = true;
	} else if (op >= 0x70 && op <= 0x7f) {
		in->flow = F_JCC;
		in->cc = op & 0xf;
		in->target = (uintptr_t)(q + 1) + (int8_t)*q;
		q++;
	} else if (op == 0x80 || op == 0x81 || op == 0x83) {
		byte_op = op == 0x80;
		in->modrm = true;
		ext = true;
		imm = op == 0x81 ? z : 1;
		dst = ((q[0] >> 3) & 7) == 7 ? D_NONE : D_RM;
		in->flags = true;
	} else if (op == 0x84 || op == 0x85) {
		in->modrm = true;
		in->flags = true;
		byte_op = op == 0x84;
	} else if (op == 0x86 || op == 0x87) {
		in->modrm = true;
		dst = D_BOTH;
		byte_op = op == 0x86;
	} else if (op == 0x88 || op == 0x89) {
		in->modrm = true;
		dst = D_RM;
		byte_op = op == 0x88;
	} else if (op == 0x8a || op == 0x8b || op == 0x8d) {
		byte_op = op == 0x8a;
		in->modrm = true;
		dst = D_REG;
	} else if (op == 0x8f) {
		if ((q[0] >> 3) & 7)
			return 0; /* XOP */
		quad = true;
		in->modrm = true;
		ext = true;
		dst = D_RM;
	} else if (op >= 0x90 && op <= 0x97) {
		emb = (op & 7) | (rex & 1 ? 8 : 0);
		if (emb != RAX) { /* xchg; 90 alone is nop (pause with f3) */
			extra = BIT(RAX) | BIT(emb);
			in->uses |= BIT(RAX) | BIT(emb);
		}
	} else if (op == 0x98) {
		extra = BIT(RAX);
	} else if (op == 0x99) {
		extra = BIT(RDX);
	} else if (op == 0xa8 || op == 0xa9) {
		imm = op == 0xa8 ? 1 : z;
		in->flags = true;
		in->uses |= BIT(RAX);
	} else if (op >= 0xb0 && op <= 0xbf) {
		byte_op = op < 0xb8;
		extra = BIT((op & 7) | (rex & 1 ? 8 : 0));
		imm = op < 0xb8 ? 1 : (in->rex_w ? 8 : z);
	} else if (op == 0xc0 || op == 0xc1 || (op >= 0xd0 && op <= 0xd3)) {
		byte_op = op == 0xc0 || op == 0xd0 || op == 0xd2;
		in->modrm = true;
		ext = true;
		imm = op <= 0xc1 ? 1 : 0;
		dst = D_RM;
		in->flags = true;
	} else if (op == 0xc2 || op == 0xc3) {
		imm = op == 0xc2 ? 2 : 0;
		in->flow = F_END;
	} else if (op == 0xc6 || op == 0xc7) {
		byte_op = op == 0xc6;
		in->modrm = true;
		ext = true;
		if ((q[0] >> 3) & 7)
			return 0; /* xabort, xbegin */
		imm = op == 0xc6 ? 1 : z;
		dst = D_RM;
	} else if (op == 0xc9) { /* leave */
		extra = BIT(RBP);
	} else if (op == 0xcc || op == 0xf4) {
		in->flow = F_END;
	} else if (op == 0xe8 || op == 0xe9) {
		if (opsize)
			return 0; /* rel16 on some processors */
		in->flow = op == 0xe8 ? F_CALL : F_JMP;
		in->target = (uintptr_t)(q + 4) + s32(q);
		q += 4;
	} else if (op == 0xeb) {
		in->flow = F_JMP;
		in->target = (uintptr_t)(q + 1) + (int8_t)*q;
		q++;
	} else if (op == 0xf6 || op == 0xf7) {
		byte_op = op == 0xf6;
		in->modrm = true;
		ext = true;
		int r = (q[0] >> 3) & 7;
		in->flags = true;
		if (r <= 1)
			imm = op == 0xf6 ? 1 : z;
		else if (r <= 3)
			dst = D_RM;
		else
			extra = BIT(RAX) | (op == 0xf7 ? BIT(RDX) : 0);
	} else if (op == 0xfe || op == 0xff) {
		byte_op = op == 0xfe;
		in->modrm = true;
		ext = true;
		int r = (q[0] >> 3) & 7;
		if (r <= 1) {
			dst = D_RM;
			in->flags = true;
		} else if (r == 2 && op == 0xff) {
			in->flow = F_CALL; /* indirect: target 0 */
			quad = true;
		} else if (r != 6 || op != 0xff) {
			return 0; /* jmp *, far forms */
		} else {
			quad = true; /* push */
		}
	} else {
		return 0;
	}

	if (in->modrm) {
		unsigned char m = *q++;
		in->mod = m >> 6;
		in->reg = ((m >> 3) & 7) | (rex & 4 ? 8 : 0);
		in->rm = m & 7;
		if (in->mod != 3) {
			in->mem = true;
			if (in->rm == 4) {
				unsigned char sib = *q++;
				int base = sib & 7, index = ((sib >> 3) & 7) | (rex & 2 ? 8 : 0);
				in->index = index == 4 ? -1 : index;
				if (base == 5 && in->mod == 0) {
					in->disp = s32(q);
					q += 4;
				} else {
					in->base = base | (rex & 1 ? 8 : 0);
				}
			} else if (in->rm == 5 && in->mod == 0) {
				in->rip = true;
				in->disp = s32(q);
				q += 4;
			} else {
				in->base = in->rm | (rex & 1 ? 8 : 0);
			}
			if (in->mod == 1) {
				in->disp = (int8_t)*q++;
			} else if (in->mod == 2) {
				in->disp = s32(q);
				q += 4;
			}
		} else {
			in->rm |= rex & 1 ? 8 : 0;
		}
		if (!ext && !sse)
			in->uses |= BIT(in->reg);
		if (in->mod == 3 && (!sse || (op == 0x0f && (in->op2 == 0x6e || in->op2 == 0x7e))))
			in->uses |= BIT(in->rm);
		if (in->index >= 0)
			in->uses |= BIT(in->index);
		if (op == 0x8d && in->base >= 0) /* lea: the base is a value taken */
			in->uses |= BIT(in->base);
		if (sse && in->op2 == 0x7e && dst == D_RM && in->mod != 3)
			dst = D_NONE;
	}
	if (imm) {
		in->imm = imm == 1 ? (int8_t)*q : imm == 2 ? (int16_t)(q[0] | q[1] << 8) : s32(q);
		q += imm;
	}
	in->len = (int)(q - p);
	in->writes = extra;
	if ((dst == D_REG || dst == D_BOTH) && !sse)
		in->writes |= BIT(in->reg);
	if ((dst == D_RM || dst == D_BOTH) && in->mod == 3)
		in->writes |= BIT(in->rm);
	if (sse && dst == D_REG)
		in->writes |= BIT(in->reg);
	/* without REX an 8-bit register 4-7 is ah, ch, dh or bh: counted as
	 * both (a register read or written as rsp..rdi is also rax..rbx) */
	if (byte_op && !rex) {
		in->writes |= (in->writes >> 4) & 0xf;
		in->uses |= (in->uses >> 4) & 0xf;
	}
	/* a memory operand's width, at most: byte and word operands count
	 * as 4, SSE's as 16 */
	in->width = far ? 1 << 20 : sse ? 16 : in->rex_w || quad ? 8 : 4;
	if (seg)
		in->rip = false; /* %fs:x(%rip) is not the object's word */
	if (in->flow == F_CALL) /* the callee may change the caller-saved */
		in->writes |= ~CALLEE_SAVED & 0xffff;
	return in->len;
}

/* Does condition cc hold after comparing 0 (fork's result in the child)
 * with c? -1: it depends on flags this cannot know. */
static int holds(int cc, int64_t c)
{
	int32_t v = (int32_t)c;
	bool e = v == 0, b = v != 0, l = v > 0, s = (int32_t)(0u - (uint32_t)v) < 0;
	switch (cc) {
	case 0x2: return b;
	case 0x3: return !b;
	case 0x4: return e;
	case 0x5: return !e;
	case 0x6: return b || e;
	case 0x7: return !(b || e);
	case 0x8: return s;
	case 0x9: return !s;
	case 0xc: return l;
	case 0xd: return !l;
	case 0xe: return l || e;
	case 0xf: return !(l || e);
	default: return -1;
	}
}

/* Step 1: from the call's return to the child's first instruction. */
static uintptr_t child_entry(uintptr_t pc, uintptr_t lo, uintptr_t hi, unsigned *written, unsigned *used)
{
	unsigned res = BIT(RAX); /* registers holding fork's result */
	bool known = false;      /* the flags compare the result with c */
	int64_t c = 0;
	for (int step = 0; step < 48; step++) {
		struct insn in;
		if (pc < lo || pc + 16 > hi || !decode((const unsigned char *)pc, &in))
			return 0;
		*written |= in.writes;
		*used |= in.uses;
		uintptr_t next = pc + (uintptr_t)in.len;
		switch (in.flow) {
		case F_END:
			return 0;
		case F_JMP:
			pc = in.target;
			continue;
		case F_JCC: {
			int h = known ? holds(in.cc, c) : -1;
			if (h < 0)
				return 0;
			pc = h ? in.target : next;
			if (c == 0) /* the compare with 0: the child's side */
				return pc;
			continue;
		}
		default:
			break;
		}
		bool from_res = in.modrm && in.mod == 3 && (res & BIT(in.reg)) && !in.rex_w;
		if (in.op == 0x89 && from_res) { /* mov %eax,%r32: another copy */
			res |= BIT(in.rm);
		} else if (in.op == 0x85 && from_res && in.rm == in.reg) {
			known = true, c = 0;
		} else if ((in.op == 0x83 || in.op == 0x81) && in.mod == 3 && (in.reg & 7) == 7 &&
			   (res & BIT(in.rm)) && !in.rex_w) {
			known = true, c = in.imm;
		} else {
			res &= ~in.writes;
			if (in.flags || in.flow == F_CALL)
				known = false;
		}
		pc = next;
	}
	return 0;
}

/* Is the word at `at` environ, or a word of the object that holds its
 * address (a GOT slot of environ, __environ or _environ)? */
static bool is_environ(const struct shim_object *o, uintptr_t at)
{
	uintptr_t word; /* memcpy: the byte scan's `at` can be any address */
	if (at == (uintptr_t)&environ)
		return true;
	if (!shim_object_mapped(o, at, sizeof word))
		return false;
	memcpy(&word, (const void *)at, sizeof word);
	return word == (uintptr_t)&environ;
}

/* At p: `test %rA,%rA; je`, then a store of rA to environ; *after and
 * *skip: where the child goes on, past the store and from the je; *ref:
 * the rel32 that names environ or its GOT slot. */
static bool stores_environ(const struct shim_object *o, uintptr_t pc, uintptr_t hi, int a, uintptr_t *after,
			   uintptr_t *skip, uintptr_t *ref)
{
	struct insn in;
	if (pc + 16 > hi || !decode((const unsigned char *)pc, &in) || in.op != 0x85 || !in.rex_w ||
	    in.mod != 3 || in.reg != a || in.rm != a)
		return false;
	pc += (uintptr_t)in.len;
	if (pc + 16 > hi || !decode((const unsigned char *)pc, &in) || in.flow != F_JCC || in.cc != 4)
		return false;
	*skip = in.target;
	pc += (uintptr_t)in.len;
	if (pc + 16 > hi || !decode((const unsigned char *)pc, &in) || !in.rex_w || !in.rip)
		return false;
	uintptr_t at = pc + (uintptr_t)in.len + (uintptr_t)(intptr_t)in.disp;
	*after = pc + (uintptr_t)in.len;
	*ref = *after - 4; /* its rel32: nothing follows it in a mov */
	if (in.op == 0x89 && in.reg == a) /* mov %rA,environ(%rip) */
		return at == (uintptr_t)&environ;
	if (in.op != 0x8b || in.reg == a || at == (uintptr_t)&environ || !is_environ(o, at))
		return false;
	int b = in.reg; /* mov environ@GOTPCREL(%rip),%rB; mov %rA,(%rB) */
	pc += (uintptr_t)in.len;
	if (pc + 16 > hi || !decode((const unsigned char *)pc, &in))
		return false;
	*after = pc + (uintptr_t)in.len;
	return in.op == 0x89 && in.rex_w && in.reg == a && in.base == b && in.index < 0 && in.disp == 0 &&
	       in.mod == 0;
}

/* Functions that do not return: a call of one ends a path (otherwise
 * the reading would go on into whatever code follows the call). */
static const char *const noreturn_names[] = { "abort", "__assert_fail", "_exit", "exit", "__stack_chk_fail",
					      "__chk_fail", "__fortify_fail" };
#define NNORETURN (sizeof noreturn_names / sizeof *noreturn_names)

/* Is the call at p (e8 to a PLT entry, or ff 15 through a slot) a call
 * through one of these GOT slots? */
static bool calls_slot(const unsigned char *p, uintptr_t lo, uintptr_t hi, const uintptr_t *slots)
{
	uintptr_t slot;
	if (p[0] == 0xff && p[1] == 0x15) {
		slot = (uintptr_t)(p + 6) + (uintptr_t)(intptr_t)s32(p + 2);
	} else if (p[0] == 0xe8) {
		const unsigned char *t = (const unsigned char *)((uintptr_t)(p + 5) + (uintptr_t)(intptr_t)s32(p + 1));
		if ((uintptr_t)t < lo || (uintptr_t)t + 16 > hi)
			return false;
		if (!memcmp(t, "\xf3\x0f\x1e\xfa", 4))
			t += 4;
		if (t[0] == 0xf2)
			t++;
		if (t[0] != 0xff || t[1] != 0x25)
			return false;
		slot = (uintptr_t)(t + 6) + (uintptr_t)(intptr_t)s32(t + 2);
	} else {
		return false;
	}
	for (size_t i = 0; i < NNORETURN; i++)
		if (slots[i] && slots[i] == slot)
			return true;
	return false;
}

/* The x86 register number as DWARF numbers it (the unwinder's) */
static int dwarf(int r)
{
	static const signed char map[16] = { 0, 2, 1, 3, 7, 6, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15 };
	return map[r];
}

/* Does the instruction at pc name environ: the word itself, rip-
 * relative, or a word of the object that holds its address (a GOT slot
 * of environ, __environ or _environ: the aliases are one word)? */
static bool names_environ(const struct shim_object *o, const struct insn *in, uintptr_t pc)
{
	if (!in->rip)
		return false;
	/* rip-relative: from the end of the instruction */
	return is_environ(o, pc + (uintptr_t)in->len + (uintptr_t)(intptr_t)in->disp);
}

/* Is the code at t a PLT entry (a jump through a slot)? */
static bool plt_entry(const unsigned char *t)
{
	if (!memcmp(t, "\xf3\x0f\x1e\xfa", 4))
		t += 4;
	if (t[0] == 0xf2)
		t++;
	return t[0] == 0xff && t[1] == 0x25;
}

#define MAX_VISITS 16384

/* The code read, with how: an open-addressed set of addresses (0:
 * empty), each marked read as the child's own path or only as a
 * function called. Only while the table is rebuilt, under its lock. */
#define SEEN_SLOTS 32768 /* a power of two, twice MAX_VISITS */
static struct {
	uintptr_t pc;
	unsigned char callee;
} seen[SEEN_SLOTS];

/* 1: read already (as the child's path, or as called code when that is
 * how it is asked now); 0: read it now (marked); -1: no room */
static int visit(uintptr_t pc, bool callee)
{
	for (unsigned i = (unsigned)(pc * 0x9e3779b97f4a7c15ull >> 49) & (SEEN_SLOTS - 1), n = 0; n < SEEN_SLOTS;
	     i = (i + 1) & (SEEN_SLOTS - 1), n++) {
		if (seen[i].pc == pc) {
			/* seen only as a function called: the child's own visit
			 * reads it again, by the child's rules */
			if (seen[i].callee && !callee) {
				seen[i].callee = 0;
				return 0;
			}
			return 1;
		}
		if (!seen[i].pc) {
			seen[i].pc = pc;
			seen[i].callee = callee;
			return 0;
		}
	}
	return -1;
}
#define MAX_ACCESS 64
#define MAX_TODO 512

int shim_code_env_load(const struct shim_object *o, uintptr_t call, uintptr_t lo, uintptr_t hi,
		       uintptr_t fn, uintptr_t fn_end, int32_t off, int32_t size, uintptr_t *stop)
{
	unsigned written = 0, used = 0;
	*stop = call;
	uintptr_t start = child_entry(shim_call_end(call), lo, hi, &written, &used);
	if (!start)
		return -1;
	/* visited code and the work list, each item the child's own path
	 * (0) or a function of the object it calls (1); static: only while
	 * the table is rebuilt, under its lock */
	static uintptr_t todo[MAX_TODO], ends[NNORETURN], shape_refs[8];
	static unsigned char todo_callee[MAX_TODO];
	static struct { int base; int32_t disp, width; } access[MAX_ACCESS];
	for (size_t i = 0; i < NNORETURN; i++)
		ends[i] = shim_import_slot(o, noreturn_names[i]);
	memset(seen, 0, sizeof seen);
	int nseen = 0, ntodo = 0, naccess = 0, nshape = 0, x = -1;
	todo[ntodo] = start;
	todo_callee[ntodo++] = 0;
	/* the functions of the object uv_spawn calls, before the fork too:
	 * one that hands back environ's address (kept in a register across
	 * the fork) is a store the proof would not see. Not a chance e8
	 * byte in the middle of an instruction: its target must start a
	 * function by its FDE (hand-written code without one is not read:
	 * compilers give every function one on x86_64). */
	for (uintptr_t k = fn; k + 5 <= fn_end; k++) {
		if (*(const unsigned char *)k != 0xe8)
			continue;
		uintptr_t t = k + 5 + (uintptr_t)(intptr_t)s32((const unsigned char *)(k + 1));
		if (t < lo || t + 16 > hi || t == fn || plt_entry((const unsigned char *)t) || shim_function_start(t) != t)
			continue; /* no call, or not to a function's start: a chance byte */
		if (ntodo == MAX_TODO)
			return -1;
		todo[ntodo] = t;
		todo_callee[ntodo++] = 1;
	}
	while (ntodo) {
		ntodo--;
		uintptr_t pc = todo[ntodo];
		bool callee = todo_callee[ntodo];
		for (;;) {
			/* seen as the child's own path: done; seen only as a
			 * function called, the child's visit is read again by
			 * the child's rules */
			int v = visit(pc, callee);
			if (v > 0)
				break;
			struct insn in;
			*stop = pc;
			if (v < 0 || ++nseen == MAX_VISITS || pc < lo || pc + 16 > hi || !decode((const unsigned char *)pc, &in))
				return -1;
			uintptr_t next = pc + (uintptr_t)in.len;
			/* the load: mov off(%rX),%rA, rX callee-saved; the test,
			 * the je and the store are not read as the path (they
			 * are the shape); what follows both ways is, by the same
			 * rules: libuv's exec must not read env again */
			uintptr_t after, skip, ref;
			if (!callee && in.op == 0x8b && in.rex_w && in.mem && !in.rip && in.base >= 0 && in.index < 0 &&
			    in.disp == off && (CALLEE_SAVED & BIT(in.base)) && in.reg != in.base &&
			    stores_environ(o, next, hi, in.reg, &after, &skip, &ref)) {
				if ((x >= 0 && x != in.base) || ntodo == MAX_TODO || nshape == 8)
					return -1;
				x = in.base;
				shape_refs[nshape++] = ref;
				todo[ntodo] = skip;
				todo_callee[ntodo++] = 0;
				pc = after;
				continue;
			}
			/* any other naming of environ on the child's paths, or in
			 * a function they call: a write the proof does not see */
			if (names_environ(o, &in, pc))
				return -1;
			if (!callee) {
				written |= in.writes;
				used |= in.uses;
				if (in.mem && in.base >= 0 && (CALLEE_SAVED & BIT(in.base))) {
					if (naccess == MAX_ACCESS)
						return -1;
					access[naccess].base = in.base;
					access[naccess].disp = in.disp;
					/* an index reaches anywhere from the base */
					access[naccess++].width = in.index >= 0 ? 1 << 20 : in.width;
				}
			}
			if (in.flow == F_END || (in.flow == F_CALL && calls_slot((const unsigned char *)pc, lo, hi, ends)))
				break;
			if (in.flow == F_JMP) {
				/* a jump to a PLT entry: a tail call into another
				 * object, which returns to the caller's caller */
				if (in.target >= lo && in.target + 16 <= hi && plt_entry((const unsigned char *)in.target))
					break;
				pc = in.target;
				continue;
			}
			/* a function of this object the child calls: read for
			 * environ too. Calls into other objects (libc, whose
			 * setenv family the guard keeps in the child) and through
			 * pointers (libuv's allocator) are not read: trusted not
			 * to assign environ, and if one did, the parent would see
			 * it after the child and decline from then on (fork.c) */
			bool follow = in.flow == F_CALL && in.target >= lo && in.target < hi &&
				      (in.target + 16 > hi || !plt_entry((const unsigned char *)in.target));
			if (in.flow == F_JCC || follow) {
				if (ntodo == MAX_TODO)
					return -1;
				todo[ntodo] = in.target;
				todo_callee[ntodo++] = callee || follow;
			}
			pc = next;
		}
	}
	*stop = 0; /* the paths were read; what they do with rX is not the shape */
	if (x < 0 || (written & BIT(x)) || (used & BIT(x)))
		return -1;
	/* what else of the struct the child reads, it reads from the copy:
	 * within it, and never the env word */
	for (int i = 0; i < naccess; i++) {
		int32_t d = access[i].disp, w = access[i].width;
		if (access[i].base == x && (d < 0 || d + w > size || (d + w > off && d < off + 8)))
			return -1;
	}
	/* uv_spawn names environ nowhere but in the stores read: no address
	 * of it kept from before the fork. Byte patterns: every rel32 that
	 * would point at it after an immediate of 0, 1, 2 or 4 bytes. */
	for (uintptr_t k = fn; k + 4 <= fn_end; k++) {
		int32_t rel = s32((const unsigned char *)k);
		static const int tails[] = { 0, 1, 2, 4 };
		for (int t = 0; t < 4; t++) {
			uintptr_t at = k + 4 + (uintptr_t)tails[t] + (uintptr_t)(intptr_t)rel;
			if (!is_environ(o, at))
				continue;
			bool ours = false;
			for (int m = 0; m < nshape && !ours; m++)
				ours = shape_refs[m] == k;
			if (!ours)
				return -1;
		}
	}
	return dwarf(x);
}

#else

int shim_code_env_load(const struct shim_object *o, uintptr_t call, uintptr_t lo, uintptr_t hi,
		       uintptr_t fn, uintptr_t fn_end, int32_t off, int32_t size, uintptr_t *stop)
{
	(void)o, (void)call, (void)lo, (void)hi, (void)fn, (void)fn_end, (void)off, (void)size;
	*stop = call;
	return -1;
}

#endif
