/* aarch64's part of the machine-code readers (arch.h): one A64
 * instruction decoded into what the proofs need, and the shapes
 * env_load.c and import_calls.c look for, in A64's encodings (the Arm
 * Architecture Reference Manual, "A64 instruction set encoding").
 *
 * Fixed width makes this simpler than x86_64: an instruction starts at
 * every aligned word, so a scan decodes instead of matching bytes. Two
 * things are A64's own:
 *   - an address is built in two instructions, `adrp xN, page` then
 *     `add xN, xN, #lo12` or a load/store `[xN, #lo12]`: the adrp names
 *     the address its first use completes, read ahead on the straight
 *     line; a use this cannot complete names the whole 4 KiB page, and
 *     a page that holds environ or a GOT slot of it counts as naming
 *     it (errs towards no proof);
 *   - `cbz`/`cbnz` compare and branch in one: the branch on fork's
 *     result in the child.
 * Anything not known here (most of the SIMD and system space is decoded
 * coarsely, as writing and reading the general registers its fields
 * could name) errs the same way.
 *
 * Runs while the site table is rebuilt, inside a dl_iterate_phdr
 * callback: no allocation, bounded work. */
#include <string.h>

#include "arch.h"
#include "lockfree.h"

#if defined(__aarch64__)

extern char **environ;

#define BIT(r) (1u << (r))
#define SP_ZR 31 /* the stack pointer or the zero register: not tracked */
/* AAPCS64: x19-x28 kept by a called function (x29, the frame pointer,
 * too, but it is the frame's, not a value a compiler keeps there) */
#define CALLEE_SAVED 0x1ff80000u
/* what a call may change: x0-x18 and the link register x30 */
#define CALLER_SAVED (0x7ffffu | BIT(30))
#define PAGE 4096u

const uint32_t code_callee_saved = CALLEE_SAVED;

int code_dwarf(int r)
{
	return r; /* x0-x30 are DWARF 0-30 */
}

static uint32_t word(uintptr_t pc)
{
	uint32_t w;
	memcpy(&w, (const void *)pc, sizeof w);
	return w;
}

static int64_t sext(uint64_t v, int bits)
{
	return (int64_t)(v << (64 - bits)) >> (64 - bits);
}

#define RD(w) ((int)((w) & 31))
#define RN(w) ((int)(((w) >> 5) & 31))
#define RM(w) ((int)(((w) >> 16) & 31))
#define RT2(w) ((int)(((w) >> 10) & 31))

/* a register as a set member: 31 (sp or zr) is not tracked */
static uint32_t reg(int r)
{
	return r == SP_ZR ? 0 : BIT(r);
}

/* Loads and stores: the register forms (bits 27 = 1, 25 = 0) */
static int load_store(uint32_t w, struct code_insn *in)
{
	bool v = (w >> 26) & 1; /* SIMD/FP register: no general one moved */
	int rt = RD(w), rn = RN(w);
	in->mem = true;
	in->base = rn == SP_ZR ? -1 : rn; /* sp: the frame's own memory */
	if ((w & 0x3b000000) == 0x18000000) { /* ldr literal, pc-relative */
		in->mem = false, in->base = -1;
		if (!v && (w >> 30) != 3)
			in->writes = reg(rt);
		return 4;
	}
	if ((w & 0x3a000000) == 0x28000000) { /* load/store pair */
		unsigned opc = w >> 30, idx = (w >> 23) & 3;
		bool load = (w >> 22) & 1;
		int scale = v ? 4 << opc : opc == 2 ? 8 : 4;
		int32_t disp = (int32_t)sext((w >> 15) & 0x7f, 7) * scale;
		in->disp = idx == 1 ? 0 : disp; /* post-index: at the base */
		in->width = 2 * scale;
		uint32_t regs = v ? 0 : reg(rt) | reg(RT2(w));
		if (load)
			in->writes |= regs;
		else
			in->uses |= regs;
		if (idx == 1 || idx == 3)
			in->writes |= reg(rn); /* writeback */
		return 4;
	}
	if ((w & 0x3f000000) == 0x08000000) { /* exclusive, acquire/release */
		uint32_t regs = reg(rt) | reg(RT2(w)) | reg(RM(w));
		in->writes |= regs, in->uses |= regs;
		in->width = 16;
		return 4;
	}
	if ((w & 0x3b000000) == 0x39000000 || (w & 0x3b000000) == 0x38000000) { /* single register */
		unsigned size = w >> 30, opc = (w >> 22) & 3;
		int width = 1 << size;
		if (v && size == 0 && (opc & 2))
			width = 16; /* q register */
		bool load = v ? opc & 1 : opc != 0; /* ldr, ldrs*; q: opc 2 str, 3 ldr */
		bool prefetch = !v && size == 3 && opc == 2;
		in->width = width;
		if ((w >> 24) & 1) { /* unsigned offset, scaled */
			in->disp = (int32_t)((w >> 10) & 0xfff) * width;
		} else if (!((w >> 21) & 1)) { /* 9-bit signed offset */
			int32_t imm = (int32_t)sext((w >> 12) & 0x1ff, 9);
			unsigned kind = (w >> 10) & 3; /* 0 unscaled, 1 post, 2 unprivileged, 3 pre */
			in->disp = kind == 1 ? 0 : imm;
			if (kind == 1 || kind == 3)
				in->writes |= reg(rn);
		} else if (((w >> 10) & 3) == 2) { /* register offset */
			in->index = RM(w);
			in->uses |= reg(RM(w));
		} else if (((w >> 10) & 3) == 0 && !v) { /* atomic memory operations */
			in->uses |= reg(RM(w)) | reg(rt);
			in->writes |= reg(rt);
			return 4;
		} else { /* ldraa/ldrab: a signed offset, maybe writeback */
			in->index = rn; /* any offset: counted as reaching anywhere */
			in->writes |= reg(rn);
		}
		if (v || prefetch)
			return 4;
		if (load)
			in->writes |= reg(rt);
		else
			in->uses |= reg(rt);
		return 4;
	}
	/* structure loads and stores (ld1..st4), memory tags: anywhere from
	 * the base, which may be written back */
	in->index = rn;
	in->writes |= reg(rn) | (v ? 0 : reg(rt));
	in->uses |= reg(RM(w)) | (v ? 0 : reg(rt));
	return 4;
}

/* An adrp at pc: the address its first use on the straight line
 * completes (add #lo12, or the offset of a load or store based on it);
 * *page_only when no such use was found (then the page). */
static uintptr_t adrp_address(uintptr_t pc, uintptr_t hi, bool *page_only)
{
	uint32_t w = word(pc);
	int d = RD(w);
	uint64_t imm = ((uint64_t)((w >> 5) & 0x7ffff) << 2) | ((w >> 29) & 3);
	uintptr_t page = (pc & ~(uintptr_t)(PAGE - 1)) + (uintptr_t)(sext(imm, 21) * (int64_t)PAGE);
	*page_only = true;
	for (uintptr_t k = pc + 4; k + 4 <= hi && k < pc + 4 * 8; k += 4) {
		uint32_t u = word(k);
		struct code_insn in;
		if (!code_decode(k, hi, &in) || in.flow != FLOW_NEXT)
			return page;
		if ((u & 0xff800000) == 0x91000000 && RN(u) == d && RD(u) == d) { /* add xd, xd, #imm12 */
			*page_only = false;
			return page + ((u >> 10) & 0xfff);
		}
		if (in.mem && in.base == d && in.index < 0) {
			*page_only = false;
			return page + (uintptr_t)(intptr_t)in.disp;
		}
		if ((in.uses | in.writes) & BIT(d))
			return page; /* used another way, or overwritten */
	}
	return page;
}

/* The page [p, p + 4096) holds environ, or a word of the object bound
 * to it */
static bool page_names_environ(const struct shim_object *o, uintptr_t p)
{
	if ((uintptr_t)&environ - p < PAGE)
		return true;
	for (uintptr_t a = p; a < p + PAGE; a += 8)
		if (shim_object_mapped(o, a, 8) && code_is_environ(o, a))
			return true;
	return false;
}

int code_decode(uintptr_t pc, uintptr_t hi, struct code_insn *in)
{
	memset(in, 0, sizeof *in);
	in->base = in->index = -1;
	in->len = 4;
	if (pc + 4 > hi || (pc & 3))
		return 0;
	uint32_t w = word(pc);
	int rd = RD(w), rn = RN(w), rm = RM(w);

	/* branches, exceptions, system */
	if ((w & 0x7c000000) == 0x14000000) { /* b, bl */
		in->target = pc + (uintptr_t)(sext(w & 0x3ffffff, 26) * 4);
		if (w >> 31) {
			in->flow = FLOW_CALL;
			in->writes = CALLER_SAVED;
		} else {
			in->flow = FLOW_JMP;
		}
		return 4;
	}
	if ((w & 0xff000010) == 0x54000000) { /* b.cond */
		in->flow = (w & 0xe) == 0xe ? FLOW_JMP : FLOW_JCC; /* al, nv: always */
		in->target = pc + (uintptr_t)(sext((w >> 5) & 0x7ffff, 19) * 4);
		return 4;
	}
	if ((w & 0x7e000000) == 0x34000000 || (w & 0x7e000000) == 0x36000000) { /* cbz/cbnz, tbz/tbnz */
		bool tb = (w & 0x7e000000) == 0x36000000;
		in->flow = FLOW_JCC;
		in->uses = reg(rd);
		in->target = pc + (uintptr_t)(sext(tb ? (w >> 5) & 0x3fff : (w >> 5) & 0x7ffff, tb ? 14 : 19) * 4);
		return 4;
	}
	if ((w & 0xfe000000) == 0xd6000000) { /* branch to a register */
		unsigned opc = (w >> 21) & 0xf;
		if (opc == 2 || opc == 4 || opc == 5 || (w & 0xfffffbff) == 0xd65f0bff) { /* ret, eret, drps, retaa/ab */
			in->flow = FLOW_END;
			return 4;
		}
		in->uses = reg(rn);
		if (opc == 1 || opc == 9) { /* blr, blraa.. */
			in->flow = FLOW_CALL;
			in->writes = CALLER_SAVED;
			return 4;
		}
		if (opc == 0 || opc == 8) { /* br, braa..: not followed */
			in->flow = FLOW_JMP;
			return 4;
		}
		return 0;
	}
	if ((w & 0xff000000) == 0xd4000000) { /* svc, hvc, smc; brk, hlt */
		unsigned opc = (w >> 21) & 7;
		if (opc == 0) {
			in->writes = BIT(0); /* the kernel returns in x0, keeps the rest */
			return 4;
		}
		in->flow = FLOW_END;
		return 4;
	}
	if ((w & 0xffff0000) == 0) { /* udf */
		in->flow = FLOW_END;
		return 4;
	}
	if ((w & 0xffc00000) == 0xd5000000) { /* system */
		if ((w & 0xfffff01f) == 0xd503201f) { /* hints: nop, bti, pac*, aut*, xpaclri */
			in->writes = in->uses = BIT(16) | BIT(17) | BIT(30);
			return 4;
		}
		if ((w & 0xfffff0ff) == 0xd503309f || (w & 0xfffff01f) == 0xd503301f || (w & 0xfffff0ff) == 0xd50330bf ||
		    (w & 0xfffff0ff) == 0xd50330df || (w & 0xfffff0ff) == 0xd50330ff)
			return 4; /* barriers, clrex */
		in->writes = in->uses = reg(rd); /* mrs, msr, sys: the register either way */
		return 4;
	}
	if ((w & 0x0a000000) == 0x08000000) /* loads and stores */
		return load_store(w, in);

	/* data processing, immediate */
	if ((w & 0x1c000000) == 0x10000000) {
		unsigned kind = (w >> 23) & 7;
		bool s = (w >> 29) & 1;
		if ((w & 0x1f000000) == 0x10000000) { /* adr, adrp */
			in->writes = reg(rd);
			return 4;
		}
		if (kind == 2 || kind == 3) { /* add/sub immediate (with tags) */
			in->uses = reg(rn);
			in->writes = s && rd == SP_ZR ? 0 : reg(rd);
			return 4;
		}
		if (kind == 4) { /* logical immediate */
			bool sets = ((w >> 29) & 3) == 3;
			in->uses = reg(rn);
			in->writes = sets && rd == SP_ZR ? 0 : reg(rd);
			return 4;
		}
		if (kind == 5) { /* movn, movz, movk */
			in->writes = reg(rd);
			if (((w >> 29) & 3) == 3)
				in->uses = reg(rd);
			return 4;
		}
		if (kind == 6) { /* bitfield: bfm keeps some of rd */
			in->writes = reg(rd);
			in->uses = reg(rn) | (((w >> 29) & 3) == 1 ? reg(rd) : 0);
			return 4;
		}
		if (kind == 7) { /* extract */
			in->writes = reg(rd);
			in->uses = reg(rn) | reg(rm);
			return 4;
		}
		return 0;
	}
	/* data processing, register */
	if ((w & 0x0e000000) == 0x0a000000) {
		if ((w & 0x1fe00000) == 0x1a400000) { /* ccmp, ccmn: flags only */
			in->uses = reg(rn) | ((w >> 11) & 1 ? 0 : reg(rm));
			return 4;
		}
		bool s = (w >> 29) & 1;
		bool sets = ((w & 0x1f000000) == 0x0a000000 && ((w >> 29) & 3) == 3) || /* ands, bics */
			    ((w & 0x1f000000) == 0x0b000000 && s) ||                      /* adds, subs */
			    ((w & 0x1fe00000) == 0x1a000000 && s);                        /* adcs, sbcs */
		in->writes = sets && rd == SP_ZR ? 0 : reg(rd);
		in->uses = reg(rn) | reg(rm);
		if ((w & 0x1f000000) == 0x1b000000) /* three sources: madd, msub.. */
			in->uses |= reg(RT2(w));
		return 4;
	}
	/* SIMD and floating point: general registers only in moves and
	 * conversions, counted as written and read whatever they are */
	if ((w & 0x0e000000) == 0x0e000000) {
		in->writes = reg(rd);
		in->uses = reg(rn);
		return 4;
	}
	return 0;
}

/* A call: bl, to a PLT entry or a function of the object. A call
 * through a register (blr, as -fno-plt builds make) is not one: a
 * scan for it would need the registers' values. */
int code_call(uintptr_t pc, uintptr_t hi, uintptr_t *target, uintptr_t *slot)
{
	*target = *slot = 0;
	if (pc + 4 > hi || (pc & 3))
		return 0;
	uint32_t w = word(pc);
	if ((w & 0xfc000000) == 0x94000000) {
		*target = pc + (uintptr_t)(sext(w & 0x3ffffff, 26) * 4);
		return 4;
	}
	return 0;
}

/* A PLT entry (binutils' and lld's, with BTI's `bti c` and PAC's
 * autia1716/autib1716 where the object asks for them):
 *   adrp x16, page; ldr x17, [x16, #lo]; add x16, x16, #lo; br x17 */
uintptr_t code_plt_slot(uintptr_t t, uintptr_t lo, uintptr_t hi, size_t *len)
{
	if (t < lo || (t & 3) || t + 16 > hi)
		return 0;
	uintptr_t p = t;
	if (word(p) == 0xd503245f) /* bti c */
		p += 4;
	if (p + 16 > hi)
		return 0;
	uint32_t a = word(p), l = word(p + 4), d = word(p + 8);
	if ((a & 0x9f00001f) != 0x90000010 || (l & 0xffc003ff) != 0xf9400211 || (d & 0xffc003ff) != 0x91000210)
		return 0;
	uint32_t lo12 = ((l >> 10) & 0xfff) * 8;
	if (((d >> 10) & 0xfff) != lo12)
		return 0;
	uintptr_t q = p + 12;
	if (word(q) == 0xd503219f || word(q) == 0xd50321df) /* autia1716, autib1716 */
		q += 4;
	if (q + 4 > hi || word(q) != 0xd61f0220) /* br x17 */
		return 0;
	*len = q + 4 - t;
	uint64_t imm = ((uint64_t)((a >> 5) & 0x7ffff) << 2) | ((a >> 29) & 3);
	return (p & ~(uintptr_t)(PAGE - 1)) + (uintptr_t)(sext(imm, 21) * (int64_t)PAGE) + lo12;
}

/* Can the instruction set the flags? (conditional compares, the S forms
 * of arithmetic and logic, floating-point compares, msr nzcv) */
static bool sets_flags(uint32_t w, const struct code_insn *in)
{
	if (in->flow != FLOW_NEXT)
		return in->flow == FLOW_CALL;
	if ((w & 0x0a000000) == 0x08000000)
		return false; /* loads and stores */
	if ((w & 0x1c000000) == 0x10000000) /* data processing, immediate */
		return (((w >> 23) & 6) == 2 && ((w >> 29) & 1)) || (((w >> 23) & 7) == 4 && ((w >> 29) & 3) == 3);
	if ((w & 0x0e000000) == 0x0a000000) /* data processing, register */
		return ((w & 0x1f000000) == 0x0a000000 && ((w >> 29) & 3) == 3) ||
		       ((w & 0x1f000000) == 0x0b000000 && ((w >> 29) & 1)) ||
		       ((w & 0x1fe00000) == 0x1a000000 && ((w >> 29) & 1)) || (w & 0x1fe00000) == 0x1a400000;
	return true; /* SIMD and floating point, system: may */
}

/* From fork()'s return: fork's result in w0 (and the registers it is
 * moved to), compared (cmp/cmn with an immediate) and branched on, or
 * tested by cbz/cbnz, which parts the child (0) from the parent. A
 * tbz/tbnz on the sign bit parts the failure only: followed for 0. */
uintptr_t code_child_entry(uintptr_t pc, uintptr_t lo, uintptr_t hi, uint32_t *written, uint32_t *used)
{
	uint32_t res = BIT(0);
	bool known = false, with_zero = false;
	uint32_t nzcv = 0; /* the flags of the compare, when known */
	for (int step = 0; step < 48; step++) {
		struct code_insn in;
		if (pc < lo || pc + 4 > hi || !code_decode(pc, hi, &in))
			return 0;
		*written |= in.writes;
		*used |= in.uses;
		uint32_t w = word(pc);
		uintptr_t next = pc + 4;
		if (in.flow == FLOW_END || (in.flow == FLOW_JMP && !in.target))
			return 0;
		if (in.flow == FLOW_JMP) {
			pc = in.target;
			continue;
		}
		if (in.flow == FLOW_JCC) {
			if ((w & 0x7e000000) == 0x34000000) { /* cbz, cbnz */
				if (!(res & reg(RD(w))))
					return 0;
				bool cbz = !((w >> 24) & 1);
				return cbz ? in.target : next; /* the child's side */
			}
			if ((w & 0x7e000000) == 0x36000000) { /* tbz, tbnz: every bit of 0 is clear */
				if (!(res & reg(RD(w))))
					return 0;
				pc = (w >> 24) & 1 ? next : in.target;
				continue;
			}
			if (!known)
				return 0;
			bool n = nzcv & 8, z = nzcv & 4, c = nzcv & 2, v = nzcv & 1, h;
			switch ((w >> 1) & 7) {
			case 0: h = z; break;
			case 1: h = c; break;
			case 2: h = n; break;
			case 3: h = v; break;
			case 4: h = c && !z; break;
			case 5: h = n == v; break;
			case 6: h = !z && n == v; break;
			default: return 0;
			}
			if (w & 1)
				h = !h;
			pc = h ? in.target : next;
			if (with_zero) /* the compare with 0: the child's side */
				return pc;
			continue;
		}
		/* mov wN, w0 (orr wN, wzr, w0), or its x form */
		if ((w & 0x7fe0ffe0) == 0x2a0003e0 && (res & reg(RM(w)))) {
			res |= reg(RD(w));
			pc = next;
			continue;
		}
		/* cmp/cmn wR, #imm (subs/adds wzr, wR, #imm), 32-bit: the flags
		 * of 0 - imm or 0 + imm */
		if ((w & 0x9f80001f) == 0x1100001f && ((w >> 29) & 1) && (res & reg(RN(w)))) {
			uint32_t imm = ((w >> 10) & 0xfff) << ((w >> 22) & 1 ? 12 : 0);
			bool sub = (w >> 30) & 1;
			uint32_t r = sub ? 0u - imm : imm;
			bool c = sub ? imm == 0 : false, v = sub ? (imm & r) >> 31 : 0;
			nzcv = (r >> 31) << 3 | (r == 0) << 2 | (uint32_t)c << 1 | (uint32_t)v;
			known = true;
			with_zero = imm == 0;
			pc = next;
			continue;
		}
		res &= ~in.writes;
		if (sets_flags(w, &in))
			known = false;
		pc = next;
	}
	return 0;
}

/* the 64-bit `ldr xA, [xX, #off]` (unsigned offset): A, or -1 */
static int ldr64(uint32_t w, int *base, int32_t *disp)
{
	if ((w & 0xffc00000) != 0xf9400000)
		return -1;
	*base = RN(w);
	*disp = (int32_t)((w >> 10) & 0xfff) * 8;
	return RD(w);
}

/* At pc: `ldr xA, [xX, #off]` (X callee-saved), `cbz xA, skip`, then
 * the store of xA to environ: `adrp xB, page; ldr xB, [xB, #lo]` (its
 * GOT slot) and `str xA, [xB]`, or `adrp xB, page; str xA, [xB, #lo]`
 * (environ itself). *ref: the adrp. */
bool code_env_store(const struct shim_object *o, uintptr_t pc, uintptr_t hi, int32_t off, int *base,
		    uintptr_t *after, uintptr_t *skip, uintptr_t *ref)
{
	int x, b;
	int32_t d;
	if (pc + 20 > hi || (pc & 3))
		return false;
	int a = ldr64(word(pc), &x, &d);
	if (a < 0 || a == SP_ZR || x == SP_ZR || d != off || !(CALLEE_SAVED & BIT(x)) || a == x)
		return false;
	uint32_t c = word(pc + 4), p = word(pc + 8), s = word(pc + 12);
	if ((c & 0xff00001f) != (0xb4000000 | (uint32_t)a)) /* cbz xA */
		return false;
	*skip = pc + 4 + (uintptr_t)(sext((c >> 5) & 0x7ffff, 19) * 4);
	if ((p & 0x9f000000) != 0x90000000 || (b = RD(p)) == a || b == SP_ZR) /* adrp xB */
		return false;
	uint64_t imm = ((uint64_t)((p >> 5) & 0x7ffff) << 2) | ((p >> 29) & 3);
	uintptr_t page = ((pc + 8) & ~(uintptr_t)(PAGE - 1)) + (uintptr_t)(sext(imm, 21) * (int64_t)PAGE);
	*base = x;
	*ref = pc + 8;
	/* str xA, [xB, #lo]: environ itself */
	if ((s & 0xffc00000) == 0xf9000000 && RD(s) == a && RN(s) == b) {
		*after = pc + 16;
		return page + ((s >> 10) & 0xfff) * 8 == (uintptr_t)&environ;
	}
	/* ldr xB, [xB, #lo]: its GOT slot; then str xA, [xB] */
	int32_t lo;
	int bb;
	if (ldr64(s, &bb, &lo) != b || bb != b || pc + 20 > hi)
		return false;
	uintptr_t slot = page + (uintptr_t)lo;
	if (slot == (uintptr_t)&environ || !code_is_environ(o, slot) || word(pc + 16) != (0xf9000000u | (uint32_t)b << 5 | (uint32_t)a))
		return false;
	*after = pc + 20;
	return true;
}

/* Does the instruction at pc name environ: an adrp whose address is
 * environ or its GOT slot (or, its use unknown, a page holding either),
 * or an ldr from a literal slot bound to it? */
bool code_insn_names_environ(const struct shim_object *o, uintptr_t pc, uintptr_t hi)
{
	uintptr_t ref;
	return code_names_environ_at(o, pc, hi, &ref);
}

bool code_names_environ_at(const struct shim_object *o, uintptr_t k, uintptr_t hi, uintptr_t *ref)
{
	if (k + 4 > hi || (k & 3))
		return false;
	uint32_t w = word(k);
	*ref = k;
	if ((w & 0x1f000000) == 0x10000000) { /* adr, adrp */
		if (!(w >> 31)) /* adr: pc-relative within 1 MiB */
			return code_is_environ(o, k + (uintptr_t)sext((((w >> 5) & 0x7ffff) << 2) | ((w >> 29) & 3), 21));
		bool page_only;
		uintptr_t a = adrp_address(k, hi, &page_only);
		return page_only ? page_names_environ(o, a) : code_is_environ(o, a);
	}
	if ((w & 0xbf000000) == 0x18000000) /* ldr literal */
		return code_is_environ(o, k + (uintptr_t)(sext((w >> 5) & 0x7ffff, 19) * 4));
	return false;
}

/* The compare of a frame word with `value`, in any order before the
 * compare: `ldr xA, [sp, #disp]`; `adrp xB, page` with `add xB, xB,
 * #lo` (value itself) or `ldr xB, [xB, #lo]` (a GOT slot bound to it);
 * then `cmp xA, xB` (or xB, xA) and b.eq or b.ne. */
bool code_frame_word_test(const struct shim_object *o, uintptr_t pc, uintptr_t hi, uintptr_t value, int32_t *disp,
			  uintptr_t *differ)
{
	int a = -1, b = -1;
	uintptr_t page = 0;
	int paged = -1; /* the register an adrp set, not yet completed */
	for (int step = 0; step < 5 && pc + 8 <= hi && !(pc & 3); step++, pc += 4) {
		uint32_t w = word(pc);
		int base, r;
		int32_t d;
		if ((r = ldr64(w, &base, &d)) >= 0 && base == SP_ZR && r != SP_ZR && a < 0 && r != paged && r != b) {
			a = r, *disp = d;
		} else if ((w & 0x9f000000) == 0x90000000 && paged < 0 && b < 0 && RD(w) != a && RD(w) != SP_ZR) {
			uint64_t imm = ((uint64_t)((w >> 5) & 0x7ffff) << 2) | ((w >> 29) & 3);
			page = (pc & ~(uintptr_t)(PAGE - 1)) + (uintptr_t)(sext(imm, 21) * (int64_t)PAGE);
			paged = RD(w);
		} else if ((w & 0xffc00000) == 0x91000000 && paged >= 0 && RD(w) == paged && RN(w) == paged) {
			if (page + ((w >> 10) & 0xfff) != value)
				return false;
			b = paged, paged = -1;
		} else if ((r = ldr64(w, &base, &d)) >= 0 && paged >= 0 && r == paged && base == paged) {
			uintptr_t slot = page + (uintptr_t)d, held;
			if (!shim_object_mapped(o, slot, sizeof held))
				return false;
			memcpy(&held, (const void *)slot, sizeof held);
			if (held != value)
				return false;
			b = paged, paged = -1;
		} else if ((w & 0xffe0fc1f) == 0xeb00001f && a >= 0 && b >= 0 &&
			   ((RN(w) == a && RM(w) == b) || (RN(w) == b && RM(w) == a))) {
			uint32_t j = word(pc + 4);
			if ((j & 0xff00001e) != 0x54000000) /* b.eq, b.ne */
				return false;
			uintptr_t to = pc + 4 + (uintptr_t)(sext((j >> 5) & 0x7ffff, 19) * 4);
			*differ = j & 1 ? to : pc + 8;
			return *differ >= o->text_start && *differ + 4 <= o->text_end;
		} else {
			return false;
		}
	}
	return false;
}

#endif
