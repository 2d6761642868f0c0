/* Machine code read along the child's path of a fork call: the proof
 * that lets libuv's child run without writing environ (rt_libuv.c).
 * The reading is the same on every architecture; what an instruction
 * does comes from code_<arch>.c (arch.h).
 *
 * What is proved, for one call of fork in uv_spawn:
 *   1. the child's side: from the call's return, fork's result (and the
 *      registers it is moved to) is compared and the branches resolved
 *      for 0, until the branch on 0 that parts the child from the
 *      parent (code_child_entry);
 *   2. from there, every path (both sides of each conditional branch,
 *      calls assumed to return) reaches the load of `off(rX)` into a
 *      register A, its test against NULL, the branch over the store and
 *      the store of A to environ (the word, or through the GOT slot the
 *      loader bound to it: code_env_store); or ends (a return, a trap,
 *      a call of abort, _exit, __assert_fail and their kin);
 *   3. rX is callee-saved (x86_64: rbx, rbp, r12-r15; aarch64: x19-x28),
 *      and no instruction on any of those paths, nor on the paths after
 *      the store up to the exec and the child's end, writes it, reads it
 *      as a register (a copy of the pointer could reach a helper that
 *      reads the struct), or reads the struct through it other than at
 *      [0, size) outside the env word.
 * Any instruction the decoder does not know, an indirect jump, a jump
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

#include "arch.h"
#include "lockfree.h"

#ifdef CODE_STEP

#define BIT(r) (1u << (r))

/* Functions that do not return: a call of one ends a path (otherwise
 * the reading would go on into whatever code follows the call). */
static const char *const noreturn_names[] = { "abort", "__assert_fail", "_exit", "exit", "__stack_chk_fail",
					      "__chk_fail", "__fortify_fail" };
#define NNORETURN (sizeof noreturn_names / sizeof *noreturn_names)

/* Is the call at pc one through one of these GOT slots (its PLT entry,
 * or the slot itself)? */
static bool calls_slot(uintptr_t pc, uintptr_t lo, uintptr_t hi, const uintptr_t *slots)
{
	uintptr_t target, slot;
	size_t len;
	if (!code_call(pc, hi, &target, &slot))
		return false;
	if (target && !(target >= lo && target + CODE_MAX <= hi && (slot = code_plt_slot(target, lo, hi, &len))))
		return false;
	for (size_t i = 0; i < NNORETURN; i++)
		if (slots[i] && slots[i] == slot)
			return true;
	return false;
}

/* Where a call or jump to t goes in this object's code: t, or, for a PLT
 * entry whose slot the loader bound to a function of this very object
 * (an exported function called through the PLT), that function; 0 for
 * an entry bound elsewhere (another object: not read), or not bound yet
 * (lazy binding: the slot leads back into the PLT, which no FDE starts
 * at) */
static uintptr_t local(const struct shim_object *o, uintptr_t t, uintptr_t lo, uintptr_t hi)
{
	size_t len;
	uintptr_t slot, to;
	if (!(t >= lo && t + CODE_MAX <= hi && (slot = code_plt_slot(t, lo, hi, &len))))
		return t;
	if (!shim_object_mapped(o, slot, sizeof to))
		return t; /* not a slot of ours: read as code (and refused) */
	memcpy(&to, (const void *)slot, sizeof to);
	return to >= lo && to + CODE_MAX <= hi && shim_function_start(to) == to && !code_plt_slot(to, lo, hi, &len) ? to
												    : 0;
}

/* Is register r dead from pc on: written before any use of it (as a
 * value, a base or an index) on every path (both ways at a branch),
 * within *budget instructions? After the env store, the register it
 * went through holds environ's address: a later store through it would
 * be a write of environ the proof does not see. A branch target seen
 * already in this reading is being read (loops): not again. */
#define DEAD_SEEN 512
static uintptr_t dead_seen[DEAD_SEEN];
static int ndead_seen;

static bool dead_visit(uintptr_t pc)
{
	for (int i = 0; i < ndead_seen; i++)
		if (dead_seen[i] == pc)
			return false;
	if (ndead_seen < DEAD_SEEN)
		dead_seen[ndead_seen++] = pc;
	return true;
}

static bool dead(uintptr_t pc, uintptr_t lo, uintptr_t hi, int r, int *budget, int depth)
{
	if (!depth)
		ndead_seen = 0;
	for (;;) {
		struct code_insn in;
		if (--*budget < 0 || pc < lo || pc + CODE_MAX > hi || ndead_seen == DEAD_SEEN || !code_decode(pc, hi, &in))
			return false;
		if ((in.uses & BIT(r)) || (in.mem && (in.base == r || in.index == r)))
			return false;
		if ((in.writes & BIT(r)) || in.flow == FLOW_END)
			return true;
		if (in.flow == FLOW_JMP) {
			if (!in.target)
				return false;
			if (!dead_visit(in.target))
				return true;
			pc = in.target;
			continue;
		}
		if (in.flow == FLOW_JCC && dead_visit(in.target) &&
		    (depth == 64 || !dead(in.target, lo, hi, r, budget, depth + 1)))
			return false;
		pc += (uintptr_t)in.len;
	}
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
	uint32_t written = 0, used = 0;
	*stop = call;
	uintptr_t start = code_child_entry(shim_call_end(call), lo, hi, &written, &used);
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
	 * the fork) is a store the proof would not see. Not a chance call
	 * pattern in the middle of an instruction (x86_64): its target must
	 * start a function by its FDE (hand-written code without one is not
	 * read: compilers give every function one on these architectures). */
	for (uintptr_t k = fn; k < fn_end; k += CODE_STEP) {
		uintptr_t t, slot;
		if (!code_call(k, fn_end, &t, &slot) || !t)
			continue;
		if (!(t = local(o, t, lo, hi)))
			continue; /* into another object */
		if (t < lo || t + CODE_MAX > hi || t == fn || shim_function_start(t) != t)
			continue; /* no call, or not to a function's start: a chance pattern */
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
			struct code_insn in;
			*stop = pc;
			if (v < 0 || ++nseen == MAX_VISITS || pc < lo || pc + CODE_MAX > hi || !code_decode(pc, hi, &in))
				return -1;
			uintptr_t next = pc + (uintptr_t)in.len;
			/* the load, the test, the branch and the store are not
			 * read as the path (they are the shape); what follows
			 * both ways is, by the same rules: libuv's exec must not
			 * read env again */
			uintptr_t after, skip, ref;
			int base, scratch, budget = 4096;
			if (!callee && code_env_store(o, pc, hi, off, &base, &after, &skip, &ref, &scratch)) {
				if ((x >= 0 && x != base) || ntodo == MAX_TODO || nshape == 8 ||
				    (scratch >= 0 && !dead(after, lo, hi, scratch, &budget, 0)))
					return -1;
				x = base;
				shape_refs[nshape++] = ref;
				todo[ntodo] = skip;
				todo_callee[ntodo++] = 0;
				pc = after;
				continue;
			}
			/* any other naming of environ on the child's paths, or in
			 * a function they call: a write the proof does not see */
			if (code_insn_names_environ(o, pc, hi))
				return -1;
			if (!callee) {
				written |= in.writes;
				used |= in.uses;
				if (in.mem && in.base >= 0 && (code_callee_saved & BIT(in.base))) {
					if (naccess == MAX_ACCESS)
						return -1;
					access[naccess].base = in.base;
					access[naccess].disp = in.disp;
					/* an index reaches anywhere from the base */
					access[naccess++].width = in.index >= 0 ? 1 << 20 : in.width;
				}
			}
			if (in.flow == FLOW_END || (in.flow == FLOW_CALL && calls_slot(pc, lo, hi, ends)))
				break;
			if (in.flow == FLOW_JMP) {
				if (!in.target) /* through a register: not followed */
					return -1;
				/* a jump to a PLT entry: a tail call into another
				 * object, which returns to the caller's caller */
				uintptr_t to = local(o, in.target, lo, hi);
				if (!to)
					break;
				pc = to;
				continue;
			}
			/* a function of this object the child calls: read for
			 * environ too. Calls into other objects (libc, whose
			 * setenv family the guard keeps in the child) and through
			 * pointers (libuv's allocator) are not read: trusted not
			 * to assign environ, and if one did, the parent would see
			 * it after the child and decline from then on (fork.c) */
			uintptr_t to = in.flow == FLOW_CALL && in.target ? local(o, in.target, lo, hi) : 0;
			bool follow = to >= lo && to < hi;
			if (in.flow == FLOW_JCC || follow) {
				if (ntodo == MAX_TODO)
					return -1;
				todo[ntodo] = follow ? to : in.target;
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
	 * of it kept from before the fork */
	for (uintptr_t k = fn; k < fn_end; k += CODE_STEP) {
		uintptr_t ref;
		if (!code_names_environ_at(o, k, hi, &ref))
			continue;
		bool ours = false;
		for (int m = 0; m < nshape && !ours; m++)
			ours = shape_refs[m] == ref;
		if (!ours)
			return -1;
	}
	return code_dwarf(x);
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
