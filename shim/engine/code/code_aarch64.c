/* aarch64's part of the machine-code readers (arch.h): one A64
 * instruction decoded into what the proofs need, and the shapes
 * env_load.c and import_calls.c look for, in A64's encodings (the Arm
 * Architecture Reference Manual, "A64 instruction set encoding").
 *
 * Fixed width makes this simpler than x86_64: an instruction starts at
 * every aligned word, so a scan decodes instead of matching bytes. Two
 * things are A64's own:
 *   - an address is built in two instructions, `adrp xN, page` then
 *     `add xM, xN, #lo12` or a load/store `[xN, #lo12]`: an adr or adrp
 *     names every address its register (and the registers an add
 *     derives from it) reaches on every path until overwritten, each
 *     access as wide as it is (reach()); a use not followed (a copy,
 *     other arithmetic, an index, a writeback) counts as naming environ
 *     when environ or its GOT slot lies within 64 KiB of the value (errs
 *     towards no proof);
 *   - `cbz`/`cbnz` compare and branch in one: the branch on fork's
 *     result in the child.
 * Anything not known here (most of the SIMD and system space is decoded
 * coarsely, as writing and reading the general registers its fields
 * could name) errs the same way.
 *
 * Runs while the site table is rebuilt, inside a dl_iterate_phdr
 * callback: no allocation, bounded work. */
#include <link.h>
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
		/* stgp (opc 01, a store): 16-byte granules of two registers */
		int scale = v ? 4 << opc : opc == 2 ? 8 : opc == 1 && !load ? 16 : 4;
		int32_t disp = (int32_t)sext((w >> 15) & 0x7f, 7) * scale;
		in->disp = idx == 1 ? 0 : disp; /* post-index: at the base */
		in->width = 2 * scale;
		uint32_t regs = v ? 0 : reg(rt) | reg(RT2(w));
		if (load)
			in->writes |= regs;
		else
			in->uses |= regs;
		if (idx == 1 || idx == 3) {
			in->writes |= reg(rn); /* writeback */
			in->writeback = true;
			in->writes_sp = rn == SP_ZR;
		}
		return 4;
	}
	if ((w & 0x3f000000) == 0x08000000) { /* exclusive, acquire/release, cas, casp */
		/* casp names register pairs: Rs, Rs+1 and Rt, Rt+1 */
		uint32_t regs = reg(rt) | reg(RT2(w)) | reg(RM(w)) | (rt < 30 ? reg(rt + 1) : 0) |
				(RM(w) < 30 ? reg(RM(w) + 1) : 0);
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
			if (kind == 1 || kind == 3) {
				in->writes |= reg(rn);
				in->writeback = true;
				in->writes_sp = rn == SP_ZR;
			}
		} else if (((w >> 10) & 3) == 2) { /* register offset */
			in->index = RM(w);
			in->uses |= reg(RM(w));
		} else if (((w >> 10) & 3) == 0 && !v) { /* atomic memory operations */
			in->uses |= reg(RM(w)) | reg(rt);
			in->writes |= reg(rt);
			if (size == 3 && (((w >> 12) & 0xf) == 0x9 || ((w >> 12) & 0xf) == 0xa ||
					  ((w >> 12) & 0xf) == 0xb || ((w >> 12) & 0xf) == 0xd)) {
				/* ld64b, st64b, st64bv, st64bv0: eight registers, 64 bytes */
				for (int r = rt; r < rt + 8 && r < 31; r++)
					in->uses |= reg(r), in->writes |= reg(r);
				in->width = 64;
			}
			return 4;
		} else { /* ldraa/ldrab: a signed offset, maybe writeback; a load */
			in->index = rn; /* any offset: counted as reaching anywhere */
			in->writes |= reg(rn) | reg(rt);
			in->writeback = true;
			in->writes_sp = rn == SP_ZR;
			return 4;
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
		if ((opc == 2 && rn == 30) || opc == 4 || opc == 5 || (w & 0xfffffbff) == 0xd65f0bff) {
			in->flow = FLOW_END; /* ret, eret, drps, retaa/ab */
			return 4;
		}
		if (opc == 2) { /* ret xN: a jump through a register */
			in->uses = reg(rn);
			in->flow = FLOW_JMP;
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
			in->writes_sp = !s && rd == SP_ZR;
			return 4;
		}
		if (kind == 4) { /* logical immediate */
			bool sets = ((w >> 29) & 3) == 3;
			in->uses = reg(rn);
			in->writes = sets && rd == SP_ZR ? 0 : reg(rd);
			in->writes_sp = !sets && rd == SP_ZR;
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
		in->writes_sp = !sets && rd == SP_ZR && (w & 0x1f200000) == 0x0b200000; /* add/sub extended */
		in->uses = reg(rn) | reg(rm);
		if ((w & 0x1f000000) == 0x1b000000) /* three sources: madd, msub.. */
			in->uses |= reg(RT2(w));
		return 4;
	}
	/* SIMD and floating point: general registers only in the
	 * conversions to and from integers and fixed point (fmov, fcvt*,
	 * scvtf..) and the copies (dup, ins, smov, umov from or to a general
	 * register), each counted as writing rd and reading rn whichever way
	 * it goes; the rest names vector registers only */
	if ((w & 0x0e000000) == 0x0e000000) {
		if ((w & 0x5f200000) == 0x1e000000 || (w & 0x5f203c00) == 0x1e200000 || (w & 0x9fe08400) == 0x0e000400) {
			in->writes = reg(rd);
			in->uses = reg(rn);
		}
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
		/* memory other than the frame's (sp), before the child's
		 * branch: the struct could be read or written there unseen */
		if ((in.mem && in.base >= 0) || in.writes_sp)
			return 0; /* and the frame word is read at the call's sp */
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
		    uintptr_t *after, uintptr_t *skip, uintptr_t *ref, int *scratch)
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
	/* adrp xB: B neither A nor X (its writes here are not read as the
	 * path's: one of X would go unseen) */
	if ((p & 0x9f000000) != 0x90000000 || (b = RD(p)) == a || b == x || b == SP_ZR)
		return false;
	uint64_t imm = ((uint64_t)((p >> 5) & 0x7ffff) << 2) | ((p >> 29) & 3);
	uintptr_t page = ((pc + 8) & ~(uintptr_t)(PAGE - 1)) + (uintptr_t)(sext(imm, 21) * (int64_t)PAGE);
	*base = x;
	*ref = pc + 8;
	*scratch = b;
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
	if (slot == (uintptr_t)&environ || !shim_object_environ_word(o, slot) || word(pc + 16) != (0xf9000000u | (uint32_t)b << 5 | (uint32_t)a))
		return false;
	*after = pc + 20;
	return true;
}

/* What register d, holding `base` (an adrp's page or an adr's address)
 * from pc on, reaches: every path from pc (both ways at a conditional
 * branch, calls stepped over, which keep x19-x28 and clobber the rest)
 * until d is overwritten, within *budget instructions in all. Each
 * address completed -- `add xN, xd, #imm` (followed on in xN, or in d
 * when N is d), or the bytes a load or store based on d touches -- is
 * handed to hit(): -1 when it says yes; 1 when a use is anything else (a
 * copy, other arithmetic, an index, a writeback) or the budget runs out
 * (unknown); 0 when every path completes addresses hit() refuses. */
typedef bool (*reach_hit)(const void *ctx, uintptr_t a, size_t len);
/* hit(ctx, value, 0): d, holding value, goes where it is not followed */
static int reach(uintptr_t pc, uintptr_t e, int d, uintptr_t base, int *budget, int depth, reach_hit hit,
		 const void *ctx)
{
	int result = 0;
	for (;;) {
		struct code_insn in;
		if (--*budget < 0 || pc + 4 > e || !code_decode(pc, e, &in))
			return hit(ctx, base, 0) ? -1 : 1;
		uint32_t u = word(pc);
		if ((u & 0xffc00000) == 0x91000000 && RN(u) == d) { /* add xN, xd, #imm12 */
			uintptr_t a = base + ((u >> 10) & 0xfff);
			if (hit(ctx, a, 8))
				return -1;
			if (RD(u) == d) {
				base = a;
				pc += 4;
				continue;
			}
			if (RD(u) != SP_ZR && depth < 8) {
				int r = reach(pc + 4, e, RD(u), a, budget, depth + 1, hit, ctx);
				if (r < 0)
					return -1;
				result |= r;
			}
		} else {
			if (in.mem && (in.base == d || in.index == d)) {
				if (in.index >= 0 || in.writeback)
					return hit(ctx, base, 0) ? -1 : 1;
				if (hit(ctx, base + (uintptr_t)(intptr_t)in.disp, (size_t)in.width))
					return -1;
			}
			if (in.uses & BIT(d))
				return hit(ctx, base, 0) ? -1 : 1;
		}
		if ((in.writes & BIT(d)) || in.flow == FLOW_END)
			return result;
		if (in.flow == FLOW_JMP && !in.target)
			return hit(ctx, base, 0) ? -1 : 1;
		if (in.flow == FLOW_JMP) {
			pc = in.target;
			continue;
		}
		if (in.flow == FLOW_JCC) {
			if (depth == 8)
				return hit(ctx, base, 0) ? -1 : 1;
			int r = reach(in.target, e, d, base, budget, depth + 1, hit, ctx);
			if (r < 0)
				return -1;
			result |= r;
		}
		pc += 4;
	}
}

/* adr and adrp at pc: the register and the value they set */
static bool pc_relative(uintptr_t pc, int *d, uintptr_t *value)
{
	uint32_t w = word(pc);
	if ((w & 0x1f000000) != 0x10000000)
		return false;
	int64_t imm = sext((((w >> 5) & 0x7ffff) << 2) | ((w >> 29) & 3), 21);
	*d = RD(w);
	*value = w >> 31 ? (pc & ~(uintptr_t)(PAGE - 1)) + (uintptr_t)(imm * (int64_t)PAGE) : pc + (uintptr_t)imm;
	return *d != SP_ZR;
}

/* ldr (literal), every form: the bytes it reads, or 0 */
static size_t literal(uintptr_t pc, uintptr_t *a)
{
	uint32_t w = word(pc);
	if ((w & 0x3b000000) != 0x18000000)
		return 0;
	*a = pc + (uintptr_t)(sext((w >> 5) & 0x7ffff, 19) * 4);
	unsigned opc = w >> 30;
	return (w >> 26) & 1 ? (size_t)4 << opc : opc == 1 ? 8 : 4;
}

/* Does [a, a + len) hold environ, or a word of the object bound to it?
 * len 0: a value whose later arithmetic is not followed; it counts when
 * environ or such a word lies within 64 KiB of it, the reach of the
 * offsets compilers build addresses with (an adrp's page and an add or
 * a section anchor's load). */
#define NEAR (64u << 10)
static bool environ_in(const void *ctx, uintptr_t a, size_t len)
{
	const struct shim_object *o = ctx;
	if (!len) {
		static const char *const names[] = { "environ", "__environ", "_environ" };
		if ((uintptr_t)&environ - (a - NEAR) < 2 * NEAR)
			return true;
		for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
			uintptr_t slot = shim_import_slot(o, names[i]);
			if (slot && slot - (a - NEAR) < 2 * NEAR)
				return true;
		}
		return false;
	}
	for (uintptr_t x = a; x < a + len; x += 4)
		if (shim_object_environ_word(o, x))
			return true;
	return false;
}

/* Does the instruction at pc name environ: an adr or adrp whose value
 * reaches environ or its GOT slot, or goes where it is not followed (a
 * copy, arithmetic) near them, or a literal load of a word bound to
 * it? */
bool code_insn_names_environ(const struct shim_object *o, uintptr_t pc, uintptr_t hi)
{
	uintptr_t ref;
	return code_names_environ_at(o, pc, hi, &ref);
}

bool code_names_environ_at(const struct shim_object *o, uintptr_t k, uintptr_t hi, uintptr_t *ref)
{
	int d, budget = 1024;
	uintptr_t v, a;
	size_t len;
	if (k + 4 > hi || (k & 3))
		return false;
	*ref = k;
	if (pc_relative(k, &d, &v)) /* where the value goes */
		return reach(k + 4, hi, d, v, &budget, 0, environ_in, o) < 0;
	if ((len = literal(k, &a)))
		return environ_in(o, a, len);
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

/* shim_import_callers (code.h), decoded word by word: the calls that
 * reach an imported function through `slots`, its GOT slots. Pass 0
 * finds the PLT entries that jump through a slot; pass 1 the functions
 * that end in a `b` to one (their start by the FDE; glibc's
 * pthread_atfork from libc_nonshared.a is such a jump to
 * __register_atfork); pass 2 the `bl` calls of any of them. -1 when the
 * answer is not known: such a function's start unknown; one of them or
 * an entry reached by a conditional branch, or such a function by a
 * tail call; a slot or one of their addresses taken (adr, adrp with its
 * use, a literal load), or held in data (a call through a pointer); an
 * entry nothing reaches (then it is not a PLT entry but a function's own
 * jump through the slot); more than `max` calls.
 * An adr or adrp near a slot or target is followed on every path
 * (reach(), 4096 instructions) to each use of its register and of the
 * registers an add derives from it. A value it cannot follow (a copy,
 * other arithmetic, the budget spent) counts when some add or 64-bit
 * load/store in a function's code has the offset that takes it to a
 * slot or target, on a base not known to come from an adrp (pass 3).
 * Sound, and strict: nodejs.org's arm64 Node 22 (28 MB of code) has
 * such pairs (function pointers a few bytes below __register_atfork's
 * entry, copied as arguments), so its handlers are not proved libuv's;
 * libuv.so.1 has none. */
struct callers {
	const uintptr_t *slots;
	int nslots, nto, nplt, n, max;
	uintptr_t to[8], plt_end[8], *calls;
	int refs[8];
	/* the values of adr/adrp registers (an address, maybe completed by
	 * an add) that went where they were not followed (a copy, other
	 * arithmetic), within an offset's reach below a named address */
	uintptr_t near[256]; /* sorted before pass 3 */
	int nnear;
	bool near_full;
};

/* the addresses named: the slots, then the targets */
static uintptr_t named_at(const struct callers *c, int i)
{
	return i < c->nslots ? c->slots[i] : c->to[i - c->nslots];
}

static int target_of(const struct callers *c, uintptr_t a)
{
	for (int t = 0; t < c->nto; t++)
		if (a == c->to[t])
			return t;
	return -1;
}

/* an address in [p, p + 4096) that a slot or target has */
static bool page_named(const struct callers *c, uintptr_t p)
{
	for (int i = 0; i < c->nslots; i++)
		if (c->slots[i] - p < PAGE)
			return true;
	for (int t = 0; t < c->nto; t++)
		if (c->to[t] - p < PAGE)
			return true;
	return false;
}

static bool in_plt(const struct callers *c, uintptr_t k)
{
	for (int t = 0; t < c->nplt; t++)
		if (k >= c->to[t] && k < c->plt_end[t])
			return true;
	return false;
}

/* Where register r, the base of the instruction at k, was last set,
 * reading back on the straight line (64 instructions at most, not
 * before b), through register copies: 1 an adrp (*page its page), 0
 * another instruction, -1 not found */
static int base_origin(uintptr_t k, uintptr_t b, int r, uintptr_t *page)
{
	for (uintptr_t j = k - 4; j >= b && j + 64 * 4 > k; j -= 4) {
		struct code_insn in;
		uint32_t w = word(j);
		if (!code_decode(j, k, &in))
			return -1;
		if (!(in.writes & BIT(r)))
			continue;
		if (((w & 0xffe0ffe0) == 0xaa0003e0 || (w & 0xfffffc00) == 0x91000000) && RD(w) == r) {
			r = (w & 0xffe0ffe0) == 0xaa0003e0 ? RM(w) : RN(w); /* mov: the copy's origin */
			if (r == SP_ZR)
				return 0;
			continue;
		}
		if ((w & 0x9f000000) != 0x90000000 || RD(w) != r)
			return 0; /* set otherwise: not an address of a page */
		uint64_t imm = ((uint64_t)((w >> 5) & 0x7ffff) << 2) | ((w >> 29) & 3);
		*page = (j & ~(uintptr_t)(PAGE - 1)) + (uintptr_t)(sext(imm, 21) * (int64_t)PAGE);
		return 1;
	}
	return -1;
}

#define OFFSET_REACH 32768u /* the largest offset of an add or a 64-bit load */

/* add xN, xM, #imm and ldr/str xN, [xM, #imm]: the offset, or
 * OFFSET_REACH */
static uint32_t offset_of(uint32_t w)
{
	if ((w & 0xffc00000) == 0x91000000)
		return (w >> 10) & 0xfff;
	if ((w & 0xffc00000) == 0xf9400000 || (w & 0xffc00000) == 0xf9000000)
		return ((w >> 10) & 0xfff) * 8;
	return OFFSET_REACH;
}

static bool named_hit(const void *ctx, uintptr_t a, size_t len)
{
	struct callers *c = (struct callers *)ctx;
	if (!len) { /* not followed: kept if an offset could take it to one */
		for (int i = 0; i < c->nslots + c->nto; i++) {
			if (named_at(c, i) - a >= OFFSET_REACH)
				continue;
			int j = 0;
			while (j < c->nnear && c->near[j] != a)
				j++;
			if (j == c->nnear && c->nnear == 256)
				c->near_full = true;
			else if (j == c->nnear)
				c->near[c->nnear++] = a;
			break;
		}
		return false;
	}
	for (int i = 0; i < c->nslots + c->nto; i++)
		if (named_at(c, i) - a < len || a - named_at(c, i) < 8)
			return true;
	return false;
}

/* one word of code in pass 1 or 2: 0 to go on, -1 unknown */
static int caller_at(struct callers *c, int pass, uintptr_t k, uintptr_t b, uintptr_t e)
{
	uint32_t w = word(k);
	if (pass == 3) {
		/* an add or a load whose offset takes one of the values not
		 * followed to a named address, on a base not known to come
		 * from an adrp (whose uses reach() followed) */
		uint32_t off = offset_of(w);
		if (off >= OFFSET_REACH || RN(w) == SP_ZR || in_plt(c, k))
			return 0;
		for (int i = 0; i < c->nslots + c->nto; i++) {
			uintptr_t want = named_at(c, i) - off, page;
			int lo = 0, hi = c->nnear;
			while (lo < hi) { /* binary search */
				int mid = (lo + hi) / 2;
				if (c->near[mid] < want)
					lo = mid + 1;
				else
					hi = mid;
			}
			/* in a function's code (an FDE covers it): the segment
			 * holds read-only data too */
			if (lo < c->nnear && c->near[lo] == want && base_origin(k, b, RN(w), &page) != 1 &&
			    shim_function_start(k + 1))
				return -1;
		}
		return 0;
	}
	if ((w & 0x7c000000) == 0x14000000) { /* b, bl */
		int t = target_of(c, k + (uintptr_t)(sext(w & 0x3ffffff, 26) * 4));
		if (t < 0)
			return 0;
		bool call = w >> 31;
		if (pass == 1) {
			if (call || t >= c->nplt)
				return 0;
			uintptr_t fn = shim_function_start(k); /* a tail jump to an entry */
			if (!fn || (target_of(c, fn) < 0 && c->nto == 8))
				return -1;
			if (target_of(c, fn) < 0)
				c->to[c->nto++] = fn;
			return 0;
		}
		c->refs[t]++;
		if (!call) /* pass 2: a tail call of a function that jumps to it */
			return t < c->nplt ? 0 : -1;
		if (c->n == c->max)
			return -1;
		c->calls[c->n++] = k;
		return 0;
	}
	if (pass == 1)
		return 0;
	if ((w & 0xff000010) == 0x54000000) /* b.cond */
		return target_of(c, k + (uintptr_t)(sext((w >> 5) & 0x7ffff, 19) * 4)) < 0 ? 0 : -1;
	if ((w & 0x7e000000) == 0x34000000) /* cbz, cbnz */
		return target_of(c, k + (uintptr_t)(sext((w >> 5) & 0x7ffff, 19) * 4)) < 0 ? 0 : -1;
	if ((w & 0x7e000000) == 0x36000000) /* tbz, tbnz */
		return target_of(c, k + (uintptr_t)(sext((w >> 5) & 0x3fff, 14) * 4)) < 0 ? 0 : -1;
	int d;
	uintptr_t v, lit;
	size_t len;
	if (pc_relative(k, &d, &v)) { /* adr, adrp: near a named address first, then its uses */
		uintptr_t page = v & ~(uintptr_t)(PAGE - 1);
		if (!page_named(c, page) && !page_named(c, page + PAGE) && !page_named(c, page - PAGE))
			return 0;
		size_t plt_len;
		if (in_plt(c, k) || code_plt_slot(k, b, e, &plt_len) || (k >= b + 4 && code_plt_slot(k - 4, b, e, &plt_len)))
			return 0; /* a PLT entry's own (of another function): x16 goes to the resolver only */
		int budget = 4096;
		return reach(k + 4, e, d, v, &budget, 0, named_hit, c) < 0 ? -1 : 0;
	}
	if ((len = literal(k, &lit))) /* every form: a word bound to a slot or a target read */
		return named_hit(c, lit, len) ? -1 : 0;
	return 0;
}

int code_import_callers(const struct shim_object *o, const uintptr_t *slots, int nslots, uintptr_t *calls, int max)
{
	const struct dl_phdr_info *info = o->info;
	struct callers c = { .slots = slots, .nslots = nslots, .calls = calls, .max = max };
	for (int pass = 0; pass < 4; pass++) {
		if (pass == 1)
			c.nplt = c.nto;
		if (pass == 3 && !c.nnear)
			break;
		for (int i = 1; pass == 3 && i < c.nnear; i++) /* insertion sort, once */
			for (int j = i; j > 0 && c.near[j - 1] > c.near[j]; j--) {
				uintptr_t t = c.near[j];
				c.near[j] = c.near[j - 1];
				c.near[j - 1] = t;
			}
		for (int i = 0; i < info->dlpi_phnum; i++) {
			const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
			if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || !(ph->p_flags & PF_R))
				continue;
			uintptr_t b = (info->dlpi_addr + ph->p_vaddr + 3) & ~(uintptr_t)3, e = info->dlpi_addr + ph->p_vaddr + ph->p_filesz;
			for (uintptr_t k = b; k + 4 <= e; k += 4) {
				if (pass == 0) {
					size_t len;
					uintptr_t slot = code_plt_slot(k, b, e, &len);
					bool ours = false;
					for (int j = 0; j < nslots && slot; j++)
						ours |= slot == slots[j];
					if (!ours)
						continue;
					if (c.nto == 8)
						return -1;
					c.plt_end[c.nto] = k + len;
					c.to[c.nto++] = k;
					k += len - 4;
				} else if (caller_at(&c, pass, k, b, e) < 0) {
					return -1;
				}
			}
		}
	}
	if (c.near_full)
		return -1;
	if (c.nto && shim_object_holds_address(o, c.to, c.nto))
		return -1;
	for (int t = 0; t < c.nplt; t++)
		if (!c.refs[t])
			return -1;
	return c.n;
}

#endif
