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
 * shape: no site, the fork stays real. x86_64 and aarch64 (the
 * architectures code/arch.h decodes; aarch64: `ldr xA, [sp, #disp]`, the
 * address of None, `cmp`, `b.ne`).
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

/* PyOS_AfterFork_Child: its address in this object, or the calls of
 * it through the PLT (a module of its own) */
struct callee {
	uintptr_t fn;
	int n;
	uintptr_t at[8];
};

static bool calls(const struct shim_object *o, uintptr_t p, const struct callee *c)
{
	if (c->fn)
		return shim_call_target(p, o->text_end) == c->fn;
	for (int i = 0; i < c->n; i++)
		if (p == c->at[i])
			return true;
	return false;
}

/* From fork()'s return to the child's side, then the None compare,
 * whose "not None" side must call PyOS_AfterFork_Child (code.h: the
 * machine code read by the architecture's decoder). */
static bool child_tests_none(const struct shim_object *o, uintptr_t call, uintptr_t none,
			     const struct callee *after_fork_child, int32_t *disp)
{
	uintptr_t differ;
	return shim_code_child_tests_word(o, call, none, disp, &differ) && calls(o, differ, after_fork_child);
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

/* the symbols every object with a site of ours defines (sites above, and
 * the ones find() looks for first) */
SHIM_MARKERS("PyOS_AfterFork_Child", "PyInit__posixsubprocess");

SHIM_RUNTIME(rt_cpython) = { .markers = markers, .name = "cpython", .sites = sites, .find = find, .version = version,
			     .read = read_versions, .forget = forget };
