/* x86_64's part of the machine-code readers (arch.h): the decoder of
 * one instruction and the shapes env_load.c and import_calls.c look
 * for, in x86_64's encodings. env_load.c says what is proved with them.
 *
 * Runs while the site table is rebuilt, inside a dl_iterate_phdr
 * callback: no allocation, bounded work. */
#include <string.h>

#include "arch.h"
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
uintptr_t code_child_entry(uintptr_t pc, uintptr_t lo, uintptr_t hi, uint32_t *written, uint32_t *used)
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
		/* memory other than the frame's, before the child's branch:
		 * the struct could be read or written there unseen */
		if (in.mem && !(in.base == 4 && in.index < 0))
			return 0;
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

/* At pc: `mov off(%rX),%rA` (rX callee-saved), `test %rA,%rA`, `je`,
 * then a store of rA to environ: `mov %rA,environ(%rip)`, or
 * `mov environ@GOTPCREL(%rip),%rB; mov %rA,(%rB)`. *ref: the rel32
 * that names environ or its GOT slot. */
bool code_env_store(const struct shim_object *o, uintptr_t pc, uintptr_t hi, int32_t off, int *base,
		    uintptr_t *after, uintptr_t *skip, uintptr_t *ref, int *scratch)
{
	struct insn in;
	*scratch = -1;
	if (pc + 16 > hi || !decode((const unsigned char *)pc, &in) || in.op != 0x8b || !in.rex_w || !in.mem ||
	    in.rip || in.base < 0 || in.index >= 0 || in.disp != off || !(CALLEE_SAVED & BIT(in.base)) ||
	    in.reg == in.base)
		return false;
	int a = in.reg;
	*base = in.base;
	pc += (uintptr_t)in.len;
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
	/* B neither A nor X: its write here is not read as the path's, and
	 * one of X would go unseen */
	if (in.op != 0x8b || in.reg == a || in.reg == *base || at == (uintptr_t)&environ ||
	    !shim_object_environ_word(o, at))
		return false;
	int b = in.reg; /* mov environ@GOTPCREL(%rip),%rB; mov %rA,(%rB) */
	*scratch = b;
	pc += (uintptr_t)in.len;
	if (pc + 16 > hi || !decode((const unsigned char *)pc, &in))
		return false;
	*after = pc + (uintptr_t)in.len;
	return in.op == 0x89 && in.rex_w && in.reg == a && in.base == b && in.index < 0 && in.disp == 0 &&
	       in.mod == 0;
}

/* The x86 register number as DWARF numbers it (the unwinder's) */
int code_dwarf(int r)
{
	static const signed char map[16] = { 0, 2, 1, 3, 7, 6, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15 };
	return map[r];
}

const uint32_t code_callee_saved = CALLEE_SAVED;

int code_decode(uintptr_t pc, uintptr_t hi, struct code_insn *out)
{
	struct insn in;
	if (pc + 16 > hi || !decode((const unsigned char *)pc, &in))
		return 0;
	static const enum code_flow flows[] = { [F_NEXT] = FLOW_NEXT, [F_JMP] = FLOW_JMP, [F_JCC] = FLOW_JCC,
						[F_CALL] = FLOW_CALL, [F_END] = FLOW_END };
	*out = (struct code_insn){ .len = in.len, .flow = flows[in.flow], .target = in.target, .writes = in.writes,
				   .uses = in.uses, .mem = in.mem, .base = in.base, .index = in.index,
				   .disp = in.disp, .width = in.width };
	return in.len;
}

/* Does the instruction at pc name environ: the word itself, rip-
 * relative, or a word of the object that holds its address (a GOT slot
 * of environ, __environ or _environ: the aliases are one word)? */
bool code_insn_names_environ(const struct shim_object *o, uintptr_t pc, uintptr_t hi)
{
	struct insn in;
	if (pc + 16 > hi || !decode((const unsigned char *)pc, &in) || !in.rip)
		return false;
	/* rip-relative: from the end of the instruction */
	return shim_object_environ_word(o, pc + (uintptr_t)in.len + (uintptr_t)(intptr_t)in.disp);
}

/* Byte patterns, at any byte: a rel32 at k that would point at environ
 * after an immediate of 0, 1, 2 or 4 bytes. */
bool code_names_environ_at(const struct shim_object *o, uintptr_t k, uintptr_t hi, uintptr_t *ref)
{
	if (k + 4 > hi)
		return false;
	int32_t rel = s32((const unsigned char *)k);
	static const int tails[] = { 0, 1, 2, 4 };
	*ref = k;
	for (int t = 0; t < 4; t++)
		if (shim_object_environ_word(o, k + 4 + (uintptr_t)tails[t] + (uintptr_t)(intptr_t)rel))
			return true;
	return false;
}

/* A call: e8 rel32, or ff 15 rel32 (-fno-plt, through the slot) */
int code_call(uintptr_t pc, uintptr_t hi, uintptr_t *target, uintptr_t *slot)
{
	const unsigned char *p = (const unsigned char *)pc;
	*target = *slot = 0;
	if (pc + 5 <= hi && p[0] == 0xe8) {
		*target = pc + 5 + (uintptr_t)(intptr_t)s32(p + 1);
		return 5;
	}
	if (pc + 6 <= hi && p[0] == 0xff && p[1] == 0x15) {
		*slot = pc + 6 + (uintptr_t)(intptr_t)s32(p + 2);
		return 6;
	}
	return 0;
}

/* A PLT entry: `jmp *disp(%rip)`, maybe behind endbr64 and a bnd
 * prefix */
uintptr_t code_plt_slot(uintptr_t t, uintptr_t lo, uintptr_t hi, size_t *len)
{
	const unsigned char *p = (const unsigned char *)t;
	if (t < lo || t + 11 > hi)
		return 0;
	if (!memcmp(p, "\xf3\x0f\x1e\xfa", 4))
		p += 4; /* endbr64 */
	if (p[0] == 0xf2)
		p++; /* bnd */
	if (p[0] != 0xff || p[1] != 0x25)
		return 0;
	*len = (size_t)(p + 6 - (const unsigned char *)t);
	return (uintptr_t)(p + 6) + (uintptr_t)(intptr_t)s32(p + 2);
}

/* A memory operand `disp(%rsp)` after an opcode: ModRM mod 01/10 with
 * rm 100 and SIB 0x24; its register field, displacement and length */
static int rsp_operand(const unsigned char *p, unsigned *reg, int32_t *disp)
{
	if ((p[0] & 7) != 4 || p[1] != 0x24)
		return 0;
	*reg = (p[0] >> 3) & 7;
	if ((p[0] >> 6) == 1) {
		*disp = (int8_t)p[2];
		return 3;
	}
	if ((p[0] >> 6) == 2) {
		*disp = s32(p + 2);
		return 6;
	}
	return 0;
}

/* The compare of a frame word with `value`:
 *   48 81 /7 disp(%rsp) imm32          cmpq $value, disp(%rsp)
 *   48|4c 8b /r 05 rel32 (a GOT slot of value), then
 *   48|4c 39|3b /r disp(%rsp)          cmp %reg, disp(%rsp) (or reverse)
 * then je or jne (74/75 rel8, 0f 84/85 rel32). */
bool code_frame_word_test(const struct shim_object *o, uintptr_t pc, uintptr_t hi, uintptr_t value, int32_t *disp,
			  uintptr_t *differ)
{
	const unsigned char *p = (const unsigned char *)pc;
	unsigned r;
	int n, len = 0;
	if (pc + 32 > hi)
		return false;
	if (p[0] == 0x48 && p[1] == 0x81 && (n = rsp_operand(p + 2, &r, disp)) && r == 7) {
		if ((uintptr_t)(intptr_t)s32(p + 2 + n) != value)
			return false;
		len = 2 + n + 4;
	} else if ((p[0] == 0x48 || p[0] == 0x4c) && p[1] == 0x8b && (p[2] & 0xc7) == 0x05) {
		uintptr_t slot = (uintptr_t)(p + 7) + (uintptr_t)(intptr_t)s32(p + 3), word;
		unsigned loaded = (p[2] >> 3) & 7;
		const unsigned char *q = p + 7;
		if (!shim_object_mapped(o, slot, sizeof word))
			return false;
		memcpy(&word, (const void *)slot, sizeof word);
		if (word != value || q[0] != p[0] || (q[1] != 0x39 && q[1] != 0x3b))
			return false;
		if (!(n = rsp_operand(q + 2, &r, disp)) || r != loaded)
			return false;
		len = 7 + 2 + n;
	} else {
		return false;
	}
	const unsigned char *j = p + len;
	if (j[0] == 0x74 || j[0] == 0x75) {
		uintptr_t to = (uintptr_t)(j + 2) + (uintptr_t)(intptr_t)(int8_t)j[1];
		*differ = j[0] == 0x74 ? (uintptr_t)(j + 2) : to;
	} else if (j[0] == 0x0f && (j[1] == 0x84 || j[1] == 0x85)) {
		uintptr_t to = (uintptr_t)(j + 6) + (uintptr_t)(intptr_t)s32(j + 2);
		*differ = j[1] == 0x84 ? (uintptr_t)(j + 6) : to;
	} else {
		return false;
	}
	return *differ >= o->text_start && *differ + 5 <= o->text_end;
}

#endif
