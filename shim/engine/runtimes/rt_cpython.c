/* CPython: _posixsubprocess's fork, a site exactly when its child will
 * not run Python code; the rest of the interpreter a deny object.
 *
 * Read: CPython 3.9 (Debian 11), 3.11 (12), 3.13 (13), 3.14 (sid), the
 * interpreter binary and libpython; docs/sites.md has the child's
 * writes. subprocess, multiprocessing's spawn and forkserver start, and
 * asyncio's default loop reach fork_exec. 3.9 always forks there; 3.10
 * and later vfork unless preexec_fn, user, group or extra_groups is
 * given (or subprocess._USE_VFORK is off, or vfork failed). The child
 * runs Python code (PyOS_AfterFork_Child, then preexec_fn) exactly when
 * preexec_fn is not None; without it the child is the C code that 3.10
 * made safe for vfork (bpo-35823), plus, in 3.9, no signal blocking,
 * which the stub provides.
 *
 * Finding it: the fork has no symbol (a static function, LTO-cloned),
 * in the interpreter (Debian builds the module in) or in a module of
 * its own (lib-dynload/_posixsubprocess.cpython-3XX-*.so: pyenv,
 * python.org and Docker's builds).
 * Each call of fork() in the object (import_calls.c) is followed, in
 * the machine code, along the child's path: the value fork() returned
 * moved or tested, a jump, then the child's first act. The site is a
 * call whose child first compares a word of its frame, `disp(%rsp)`,
 * with &_Py_NoneStruct (an immediate, or loaded from the GOT), and
 * calls PyOS_AfterFork_Child when they differ: that word is preexec_fn
 * as the child will test it (3.9: a local at rsp+0xf0; 3.11 and later:
 * do_fork_exec's stack argument). At each fork, the word is read where
 * the child will read it, at the stack pointer of the call plus disp:
 * None, rerouted; anything else, real (fallback_preexec). Any other
 * shape: no site, the fork stays real. x86_64 only.
 *
 * The deny: a fork with any other frame of the interpreter below a site
 * (os.fork, pty.fork, a C extension's callback) stays real, even with
 * VFORKSHIM_FORK=all. */
#include <link.h>
#include <string.h>

#include "runtimes.h"
#include "lockfree.h"

static const struct shim_runtime rt_cpython;

/* the interpreter (PyOS_AfterFork_Child: the executable or libpython)
 * and _posixsubprocess, built in or a module of its own */
static const struct shim_site_def sites[] = {
	{ "PyOS_AfterFork_Child", 0, SITE_DENY, NULL },
	{ "PyInit__posixsubprocess", 0, SITE_DENY, NULL },
	{ NULL, 0, 0, NULL },
};

static const unsigned read_versions[] = { 309, 311, 313, 314, 0 };

/* Py_Version (3.11+) is PY_VERSION_HEX; before it, the API each
 * version added: Py_IsNone (3.10), PyFrame_GetCode (3.9). A module of
 * its own says it in its file name (PEP 3149):
 * _posixsubprocess.cpython-311-x86_64-linux-gnu.so */
static unsigned version(const struct shim_object *o)
{
	uintptr_t a, start;
	size_t n, size;
	const char *tag = o->path ? strstr(o->path, ".cpython-3") : NULL;
	if (tag) {
		unsigned minor = 0;
		for (const char *p = tag + 10; *p >= '0' && *p <= '9' && minor < 100; p++)
			minor = minor * 10 + (unsigned)(*p - '0');
		return minor < 100 ? 300 + minor : 0;
	}
	if (shim_object_data(o, "Py_Version", &a, &n) && n >= 4) {
		unsigned long hex = n >= sizeof(unsigned long) ? *(const unsigned long *)a : *(const unsigned *)a;
		return (unsigned)((hex >> 24) & 0xff) * 100 + (unsigned)((hex >> 16) & 0xff);
	}
	if (shim_object_sym(o, "Py_IsNone", &start, &size))
		return 310;
	if (shim_object_sym(o, "PyFrame_GetCode", &start, &size))
		return 309;
	return 0;
}

#if defined(__x86_64__)

static int32_t s32(const unsigned char *p)
{
	int32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* A jcc at p (74/75 rel8, 0f 84/85 rel32): its length, its target, and
 * whether it jumps on equal (je) */
static int jcc(const unsigned char *p, uintptr_t *to, bool *on_equal)
{
	if (p[0] == 0x74 || p[0] == 0x75) {
		*on_equal = p[0] == 0x74;
		*to = (uintptr_t)(p + 2) + (int8_t)p[1];
		return 2;
	}
	if (p[0] == 0x0f && (p[1] == 0x84 || p[1] == 0x85)) {
		*on_equal = p[1] == 0x84;
		*to = (uintptr_t)(p + 6) + s32(p + 2);
		return 6;
	}
	return 0;
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

/* The child's first act at p: compare a word of the frame with None.
 *   48 81 /7 disp(%rsp) imm32          cmpq $None, disp(%rsp)
 *   48|4c 8b /r 05 rel32 (GOT of None), then
 *   48|4c 39|3b /r disp(%rsp)          cmp %reg, disp(%rsp) (or reverse)
 * Returns its length and the displacement, or 0. */
static int none_compare(const struct shim_object *o, const unsigned char *p, uintptr_t none, int32_t *disp)
{
	unsigned reg;
	int n;
	if (p[0] == 0x48 && p[1] == 0x81 && (n = rsp_operand(p + 2, &reg, disp)) && reg == 7)
		return (uintptr_t)(intptr_t)s32(p + 2 + n) == none ? 2 + n + 4 : 0;
	if ((p[0] == 0x48 || p[0] == 0x4c) && p[1] == 0x8b && (p[2] & 0xc7) == 0x05) {
		const uintptr_t *slot = (const uintptr_t *)((uintptr_t)(p + 7) + s32(p + 3));
		unsigned loaded = (p[2] >> 3) & 7;
		const unsigned char *q = p + 7;
		if (!shim_object_mapped(o, (uintptr_t)slot, sizeof *slot) || *slot != none || q[0] != p[0] || (q[1] != 0x39 && q[1] != 0x3b))
			return 0;
		if (!(n = rsp_operand(q + 2, &reg, disp)) || reg != loaded)
			return 0;
		return 7 + 2 + n;
	}
	return 0;
}

/* PyOS_AfterFork_Child: its address in this object, or the calls of
 * it through the PLT (a module of its own) */
struct callee {
	uintptr_t fn;
	int n;
	uintptr_t at[8];
};

static bool calls(const unsigned char *p, const struct callee *c)
{
	if (c->fn)
		return p[0] == 0xe8 && (uintptr_t)(p + 5) + s32(p + 1) == c->fn;
	for (int i = 0; i < c->n; i++)
		if ((uintptr_t)p == c->at[i])
			return true;
	return false;
}

/* Follow fork()'s return from `ret` to the child's path: moves of %eax
 * to another register, jumps, then `test %eax,%eax` and a jcc. Then the
 * None compare, whose "not None" side must call PyOS_AfterFork_Child.
 * Every address stays inside [lo, hi), the object's code. */
static bool child_tests_none(const struct shim_object *o, uintptr_t call, uintptr_t none,
			     const struct callee *after_fork_child, int32_t *disp)
{
	uintptr_t lo = o->text_start, hi = o->text_end, pc = shim_call_end(call), to;
	bool on_equal;
	int n;
	for (int step = 0; step < 6; step++) {
		if (pc < lo || pc + 16 > hi)
			return false;
		const unsigned char *p = (const unsigned char *)pc;
		if (p[0] == 0x89 && (p[1] & 0xf8) == 0xc0) { /* mov %eax,%r32 */
			pc += 2;
		} else if (p[0] == 0x41 && p[1] == 0x89 && (p[2] & 0xf8) == 0xc0) {
			pc += 3;
		} else if (p[0] == 0xeb) {
			pc += 2 + (int8_t)p[1];
		} else if (p[0] == 0xe9) {
			pc += 5 + s32(p + 1);
		} else if (p[0] == 0x85 && p[1] == 0xc0 && (n = jcc(p + 2, &to, &on_equal))) {
			pc = on_equal ? to : pc + 2 + n; /* where %eax == 0 */
			if (pc < lo || pc + 32 > hi)
				return false;
			p = (const unsigned char *)pc;
			if (!(n = none_compare(o, p, none, disp)))
				return false;
			const unsigned char *j = p + n;
			int m = jcc(j, &to, &on_equal);
			if (!m || to < lo || to + 5 > hi)
				return false;
			/* je skips the call (falls into it when not None); jne
			 * jumps to it */
			return calls(on_equal ? j + m : (const unsigned char *)to, after_fork_child);
		} else {
			return false;
		}
	}
	return false;
}

/* What the scan found, per object: megabytes of code are scanned once,
 * not at every change of the loaded set; a hit is decoded again (the
 * decoding is the proof). Written only while the table is rebuilt. */
#define MAX_FORKS 4
static struct {
	uintptr_t base, text_end;
	int n;
	uintptr_t call[MAX_FORKS];
	int32_t disp[MAX_FORKS];
} seen[2];
static unsigned next_slot;

static void forget(void)
{
	memset(seen, 0, sizeof seen);
	next_slot = 0;
}

static void find(const struct shim_object *o)
{
	uintptr_t init, none, slot;
	size_t size;
	if (!shim_object_sym(o, "PyInit__posixsubprocess", &init, &size))
		return;
	/* None and PyOS_AfterFork_Child: the object's own (the interpreter
	 * with the module built in), or bound by the loader (a module) */
	if (!shim_object_data(o, "_Py_NoneStruct", &none, &size)) {
		if (!(slot = shim_import_slot(o, "_Py_NoneStruct")) || !shim_object_mapped(o, slot, sizeof none))
			return;
		none = *(const uintptr_t *)slot;
	}
	static struct callee after; /* only while the table is rebuilt */
	after.n = 0;
	if (!shim_object_sym(o, "PyOS_AfterFork_Child", &after.fn, &size)) {
		after.fn = 0;
		after.n = shim_import_calls(o, "PyOS_AfterFork_Child", after.at, 8);
	}
	int k = 0;
	while (k < 2 && !(seen[k].base == o->info->dlpi_addr && seen[k].text_end == o->text_end))
		k++;
	if (k == 2) {
		k = (int)(next_slot++ % 2);
		seen[k].base = o->info->dlpi_addr;
		seen[k].text_end = o->text_end;
		uintptr_t forks[16];
		int nf = shim_import_calls(o, "fork", forks, 16);
		seen[k].n = 0;
		for (int i = 0; i < nf && seen[k].n < MAX_FORKS; i++) {
			int32_t disp;
			if (child_tests_none(o, forks[i], none, &after, &disp)) {
				seen[k].call[seen[k].n] = forks[i];
				seen[k].disp[seen[k].n++] = disp;
			}
		}
	}
	uintptr_t fork_slot = shim_import_slot(o, "fork");
	for (int i = 0; i < seen[k].n; i++) {
		int32_t disp;
		uintptr_t call = seen[k].call[i];
		/* decoded again, the call itself included: another object may
		 * have been loaded where a scanned one was */
		if (!shim_is_call_through(o, call, fork_slot) || !child_tests_none(o, call, none, &after, &disp) ||
		    disp != seen[k].disp[i])
			continue;
		/* frame 1 returns to the instruction after the call */
		shim_site_add_if(o, call, shim_call_end(call), "cpython:fork_exec", 1,
				 shim_runtime_flags(&rt_cpython, o, 0), disp, none);
	}
}

#else

static void find(const struct shim_object *o)
{
	(void)o;
}

static void forget(void)
{
}

#endif

/* the symbols every object with a site of ours defines (sites above, and
 * the ones find() looks for first) */
SHIM_MARKERS("PyOS_AfterFork_Child", "PyInit__posixsubprocess");

SHIM_RUNTIME(rt_cpython) = { .markers = markers, .name = "cpython", .sites = sites, .find = find, .version = version,
			     .read = read_versions, .forget = forget };
