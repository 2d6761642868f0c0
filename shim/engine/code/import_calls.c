/* The calls one loaded object makes to a function of another (vfork,
 * fork), found in its relocations and machine code, for sites that have
 * no dynamic symbol: Ruby's function that calls vfork (rt_ruby.c),
 * CPython's fork in _posixsubprocess (rt_cpython.c).
 *
 * Located the way a disassembler would: the GOT slot that the dynamic
 * relocations bind to the function, the PLT entry that jumps through it,
 * and every call to either. The encodings are the architecture's file's
 * (arch.h: x86_64 and aarch64); where none is built, nothing is found
 * and those sites stay unknown (real forks).
 *
 * Runs while the site table is rebuilt (sites.c), inside a
 * dl_iterate_phdr callback; the runtimes keep what they found per
 * object (a scan reads megabytes of code). */
#include <elf.h>
#include <link.h>
#include <string.h>

#include "arch.h"
#include "lockfree.h"

#if defined(__x86_64__)
#define R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define R_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define R_GLOB_DAT R_AARCH64_GLOB_DAT
#endif

#ifdef CODE_STEP

struct scan {
	uintptr_t *calls;
	int max, n;
	uintptr_t plt[4];
	int nplt;
};


/* The GOT slot bound to `name` by a JUMP_SLOT or GLOB_DAT relocation:
 * the object calls that function of another object. */
/* Every GOT slot bound to `name` by a JUMP_SLOT or GLOB_DAT relocation
 * (lld gives a function called both ways one of each), at most `max`;
 * *others: whether another relocation names it (a pointer to it held in
 * data). */
static int import_slots(const struct shim_object *o, const char *name, uintptr_t *slots, int max, bool *others)
{
	const struct dl_phdr_info *info = o->info;
	const ElfW(Dyn) *dyn = NULL;
	int n = 0;
	if (others)
		*others = false;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	if (!dyn)
		return 0;
	const ElfW(Rela) *rel[2] = { NULL, NULL };
	size_t relsz[2] = { 0, 0 };
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_JMPREL: rel[0] = (const void *)shim_dyn_ptr(info->dlpi_addr, dyn->d_un.d_ptr); break;
		case DT_PLTRELSZ: relsz[0] = dyn->d_un.d_val; break;
		case DT_RELA: rel[1] = (const void *)shim_dyn_ptr(info->dlpi_addr, dyn->d_un.d_ptr); break;
		case DT_RELASZ: relsz[1] = dyn->d_un.d_val; break;
		}
	}
	for (int t = 0; t < 2; t++)
		for (size_t i = 0; rel[t] && i < relsz[t] / sizeof **rel; i++) {
			unsigned type = ELF64_R_TYPE(rel[t][i].r_info);
			size_t sym = ELF64_R_SYM(rel[t][i].r_info);
			if (!sym || o->sym.symtab[sym].st_name >= o->sym.strsz || strcmp(o->sym.strtab + o->sym.symtab[sym].st_name, name))
				continue;
			if (type != R_JUMP_SLOT && type != R_GLOB_DAT) {
				if (others)
					*others = true;
				continue;
			}
			if (n < max)
				slots[n++] = info->dlpi_addr + rel[t][i].r_offset;
		}
	return n;
}

/* The GOT slot the loader binds to an imported symbol, or 0 */
uintptr_t shim_import_slot(const struct shim_object *o, const char *name)
{
	uintptr_t slot = 0;
	return import_slots(o, name, &slot, 1, NULL) ? slot : 0;
}

static void add_call(struct scan *sc, uintptr_t call)
{
	if (sc->n < sc->max)
		sc->calls[sc->n++] = call;
}

/* The PLT entries that jump through `slot`, in one executable segment.
 * The PLT may lie in a segment of its own (node: .plt apart from
 * .text). */
static void find_plt(struct scan *sc, uintptr_t b, size_t len, uintptr_t slot)
{
	for (uintptr_t k = b; k < b + len && sc->nplt < 4; k += CODE_STEP) {
		size_t n;
		if (code_plt_slot(k, b, b + len, &n) == slot) {
			sc->plt[sc->nplt++] = k;
			k += n - CODE_STEP;
		}
	}
}

/* The calls, in one executable segment, to those entries or through
 * the slot itself. */
static void find_calls(struct scan *sc, uintptr_t b, size_t len, uintptr_t slot)
{
	for (uintptr_t k = b; k < b + len; k += CODE_STEP) {
		uintptr_t to, through;
		if (!code_call(k, b + len, &to, &through))
			continue;
		if (through == slot)
			add_call(sc, k); /* -fno-plt call */
		for (int i = 0; to && i < sc->nplt; i++)
			if (to == sc->plt[i])
				add_call(sc, k);
	}
}

/* The end of the call at `call` (its return address), one of the forms
 * shim_import_calls finds */
uintptr_t shim_call_end(uintptr_t call)
{
	uintptr_t to, slot;
	return call + (uintptr_t)code_call(call, call + CODE_MAX, &to, &slot);
}

/* Is the instruction at `call` (in the object's code) a call of the
 * function whose GOT slot is `slot`: through its PLT entry, or through
 * the slot itself? */
bool shim_is_call_through(const struct shim_object *o, uintptr_t call, uintptr_t slot)
{
	uintptr_t to, through;
	size_t len;
	if (!slot || call < o->text_start || !code_call(call, o->text_end, &to, &through))
		return false;
	if (through)
		return through == slot;
	return code_plt_slot(to, o->text_start, o->text_end, &len) == slot;
}

#endif

#if defined(__x86_64__)

static int32_t rel32(const unsigned char *p)
{
	int32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* The calls that reach `name` in the object: those of
 * shim_import_calls, and the calls of any function of the object that
 * ends in a jump to it (glibc's pthread_atfork, linked in from
 * libc_nonshared.a, is a jump to __register_atfork): -1 when such a
 * function's start is unknown, when it is tail-called, when the slot is
 * loaded or one of those addresses taken (a call through a pointer), or
 * more than `max` calls. Byte patterns, not decoded instructions: a
 * chance match errs towards -1. One pass over the code for the PLT
 * entries, one for the jumps, one for the calls. */
struct callers {
	uintptr_t slots[4], to[8], *calls;
	int nslots, nto, nplt, n, max;
	int refs[8]; /* the direct calls and jumps to each target */
};

static bool is_slot(const struct callers *c, uintptr_t a)
{
	for (int i = 0; i < c->nslots; i++)
		if (a == c->slots[i])
			return true;
	return false;
}

static bool is_target(const struct callers *c, uintptr_t a)
{
	for (int t = 0; t < c->nto; t++)
		if (a == c->to[t])
			return true;
	return false;
}

/* One byte of code at b[k] (k + 5 <= len) in pass 0, 1 or 2: 0 to go
 * on, -1 when the answer is unknown. */
static int caller_at(struct callers *c, int pass, const unsigned char *b, size_t k, size_t len)
{
	uintptr_t at = (uintptr_t)(b + k);
	bool six = k + 6 <= len;
	if (pass == 0) { /* the PLT entries: jmp *slot(%rip) */
		if (six && b[k + 1] == 0x25 && is_slot(c, at + 6 + (uintptr_t)(intptr_t)rel32(b + k + 2))) {
			size_t s = k;
			if (s >= 1 && b[s - 1] == 0xf2)
				s--;
			if (s >= 4 && !memcmp(b + s - 4, "\xf3\x0f\x1e\xfa", 4))
				s -= 4;
			if (c->nto == 4)
				return -1;
			if (!is_target(c, (uintptr_t)(b + s)))
				c->to[c->nto++] = (uintptr_t)(b + s);
		}
		return 0;
	}
	/* the slot loaded, or the address of an entry or of a function
	 * that jumps to it taken (mov/lea rip-relative): a call through a
	 * pointer, not followed */
	if (b[k] == 0x8b || b[k] == 0x8d) {
		if (!six || (b[k + 1] & 0xc7) != 0x05)
			return 0;
		uintptr_t ref = at + 6 + (uintptr_t)(intptr_t)rel32(b + k + 2);
		return is_target(c, ref) || is_slot(c, ref) ? -1 : 0;
	}
	/* a conditional tail call to an entry or such a function */
	if (b[k] == 0x0f) {
		if (six && b[k + 1] >= 0x80 && b[k + 1] <= 0x8f &&
		    is_target(c, at + 6 + (uintptr_t)(intptr_t)rel32(b + k + 2)))
			return -1;
		return 0;
	}
	if (b[k] == 0xff) {
		if (!six || (b[k + 1] != 0x15 && b[k + 1] != 0x25) ||
		    !is_slot(c, at + 6 + (uintptr_t)(intptr_t)rel32(b + k + 2)))
			return 0;
		if (b[k + 1] == 0x25) { /* a jump through the slot that is not a PLT entry: a tail call */
			for (int t = 0; t < c->nplt; t++)
				if (at - c->to[t] <= 5)
					return 0;
			return pass == 2 ? -1 : 0;
		}
		if (pass == 1)
			return 0;
		if (c->n == c->max)
			return -1;
		c->calls[c->n++] = at; /* -fno-plt call */
		return 0;
	}
	uintptr_t dest = at + 5 + (uintptr_t)(intptr_t)rel32(b + k + 1);
	if (!is_target(c, dest))
		return 0;
	for (int t = 0; t < c->nto; t++)
		if (dest == c->to[t] && (pass == 2 || t < c->nplt))
			c->refs[t]++;
	if (pass == 1) { /* a tail jump to the entry: its function's calls count */
		if (b[k] != 0xe9)
			return 0;
		uintptr_t fn = shim_function_start(at);
		if (!fn || c->nto == 8)
			return -1;
		if (!is_target(c, fn))
			c->to[c->nto++] = fn;
		return 0;
	}
	if (b[k] == 0xe9) { /* pass 2: a tail call of a function that jumps to it: not followed */
		for (int t = c->nplt; t < c->nto; t++)
			if (dest == c->to[t])
				return -1;
		return 0;
	}
	if (c->n == c->max)
		return -1;
	c->calls[c->n++] = at;
	return 0;
}

/* A short jump (jcc or jmp rel8) to one of the targets: a tail call the
 * passes above do not look for; they lie within 130 bytes of it. */
static bool short_jump_to(const struct callers *c, const struct shim_object *o)
{
	for (int t = 0; t < c->nto; t++) {
		uintptr_t lo = c->to[t] > o->text_start + 130 ? c->to[t] - 130 : o->text_start;
		for (uintptr_t a = lo; a + 2 <= c->to[t] + 130 && a + 2 <= o->text_end; a++) {
			unsigned char op = *(const unsigned char *)a;
			if (((op >= 0x70 && op <= 0x7f) || op == 0xeb) &&
			    a + 2 + (uintptr_t)(intptr_t)(int8_t)((const unsigned char *)a)[1] == c->to[t])
				return true;
		}
	}
	return false;
}

/* The calls that reach `name` in the object: those of
 * shim_import_calls, and the calls of any function of the object that
 * ends in a jump to it (glibc's pthread_atfork, linked in from
 * libc_nonshared.a, is a jump to __register_atfork): -1 when the answer
 * is not known: such a function's start unknown; it or the entry
 * reached by a tail call (jmp, jcc, a jump through the slot); the slot
 * loaded; an address of theirs taken, held in data or named by a
 * relocation other than the slots' (a call through a pointer); more than
 * `max` calls. Byte patterns, not decoded instructions: a chance match
 * errs towards -1. Pass 0 finds the PLT entries (in the first and last
 * MiB of each code segment: .plt leads .text with GNU ld, follows it
 * with lld), pass 1 the functions that jump to them, pass 2 the calls;
 * each looks only at the bytes that can start what it wants, found with
 * memchr (nodejs.org's node has 28 MB of code: about 60 ms, once per
 * process, at its first fork). */
int shim_import_callers(const struct shim_object *o, const char *name, uintptr_t *calls, int max)
{
	const struct dl_phdr_info *info = o->info;
	bool others;
	struct callers c = { .calls = calls, .max = max };
	c.nslots = import_slots(o, name, c.slots, 4, &others);
	if (others)
		return -1;
	if (!c.nslots)
		return 0;
	static const unsigned char firsts[3][6] = { { 0xff }, { 0xe9, 0xff }, { 0xe8, 0xe9, 0xff, 0x8b, 0x8d, 0x0f } };
	static const int nfirsts[3] = { 1, 2, 6 };
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1)
			c.nplt = c.nto;
		for (int i = 0; i < info->dlpi_phnum; i++) {
			const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
			if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || !(ph->p_flags & PF_R))
				continue;
			const unsigned char *seg = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
			size_t seglen = ph->p_filesz;
			/* pass 0: the first and the last MiB (or the whole) */
			for (int part = 0; part < (pass == 0 && seglen > (2u << 20) ? 2 : 1); part++) {
				const unsigned char *b = seg;
				size_t len = seglen;
				if (pass == 0 && seglen > (2u << 20)) {
					len = 1u << 20;
					if (part == 1)
						b = seg + seglen - len;
				}
				/* to the very end: a tail jump (5 bytes) can be a
				 * segment's last instruction (node's pthread_atfork is) */
				for (int f = 0; f < nfirsts[pass]; f++)
					for (const unsigned char *p = b;
					     len >= 5 && (p = memchr(p, firsts[pass][f], len - 4 - (size_t)(p - b))); p++)
						if (caller_at(&c, pass, b, (size_t)(p - b), len) < 0)
							return -1;
			}
		}
	}
	if (c.nto && (short_jump_to(&c, o) || shim_object_holds_address(o, c.to, c.nto)))
		return -1;
	/* a jump through the slot that nothing calls or jumps to is not a
	 * PLT entry but a function's tail call (jmp *slot, -fno-plt) */
	for (int t = 0; t < c.nplt; t++)
		if (!c.refs[t])
			return -1;
	return c.n;
}

#endif

#ifdef CODE_STEP

/* The calls of `name` (through its PLT entry or its slot) that lie in
 * [lo, hi), one function's code: no scan of the whole object. */
int shim_import_calls_in(const struct shim_object *o, const char *name, uintptr_t lo, uintptr_t hi,
			 uintptr_t *calls, int max)
{
	uintptr_t slot = shim_import_slot(o, name);
	int n = 0;
	for (uintptr_t k = lo; slot && k < hi && n < max; k += CODE_STEP)
		if (shim_is_call_through(o, k, slot)) {
			uintptr_t to, through;
			if ((uintptr_t)code_call(k, hi, &to, &through) + k <= hi)
				calls[n++] = k;
		}
	return n;
}

int shim_import_calls(const struct shim_object *o, const char *name, uintptr_t *calls, int max)
{
	struct scan sc = { calls, max, 0, { 0 }, 0 };
	const struct dl_phdr_info *info = o->info;
	uintptr_t slot = shim_import_slot(o, name);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; slot && i < info->dlpi_phnum; i++) {
			const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
			if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || !(ph->p_flags & PF_R))
				continue;
			uintptr_t b = info->dlpi_addr + ph->p_vaddr;
			(pass ? find_calls : find_plt)(&sc, b, ph->p_filesz, slot);
		}
	return sc.n;
}

#endif

#if defined(CODE_STEP) && !defined(__x86_64__)

/* Decoded, not byte patterns: code_import_callers (code_<arch>.c) */
int shim_import_callers(const struct shim_object *o, const char *name, uintptr_t *calls, int max)
{
	uintptr_t slots[4];
	bool others;
	int n = import_slots(o, name, slots, 4, &others);
	if (others)
		return -1;
	return n ? code_import_callers(o, slots, n, calls, max) : 0;
}

#endif

#ifndef CODE_STEP

int shim_import_calls(const struct shim_object *o, const char *name, uintptr_t *calls, int max)
{
	(void)o, (void)name, (void)calls, (void)max;
	return 0;
}

uintptr_t shim_import_slot(const struct shim_object *o, const char *name)
{
	(void)o, (void)name;
	return 0;
}

bool shim_is_call_through(const struct shim_object *o, uintptr_t call, uintptr_t slot)
{
	(void)o, (void)call, (void)slot;
	return false;
}

int shim_import_callers(const struct shim_object *o, const char *name, uintptr_t *calls, int max)
{
	(void)o, (void)name, (void)calls, (void)max;
	return 0;
}

int shim_import_calls_in(const struct shim_object *o, const char *name, uintptr_t lo, uintptr_t hi,
			 uintptr_t *calls, int max)
{
	(void)o, (void)name, (void)lo, (void)hi, (void)calls, (void)max;
	return 0;
}

uintptr_t shim_call_end(uintptr_t call)
{
	return call + 1; /* no calls are found here: never asked */
}

#endif
