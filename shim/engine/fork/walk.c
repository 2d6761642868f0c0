/* Which site, if any, a fork() belongs to: the walk up the caller's
 * stack.
 *
 * Rules (design.md, "a signal handler that forks"):
 *   - a fork belongs to a site only through the site's own direct call
 *     chain: the site is at most `depth` frames above fork() (fork()'s
 *     caller is frame 1), and every frame in between runs code of the
 *     site's own object. A fork made by a callback the site called,
 *     or by an interpreter the site re-entered, is further away;
 *   - a signal frame ends the walk: what lies above it was interrupted,
 *     it is not the fork's call chain;
 *   - the innermost decisive frame decides: walking up from fork(), the
 *     first frame that is a site (within its depth) or lies in a deny
 *     object settles the matter; what lies further up never runs in the
 *     child of a site below it. Except one thing: the site's own caller,
 *     when it lies in another object that registers fork handlers,
 *     expects them to run in the child (uvloop's around libuv's
 *     uv_spawn), which a rerouted fork does not do.
 *
 * The unwinder is libgcc's, linked into the library (libgcc_eh, hidden):
 * no dlopen of libgcc_s at a fork, and its frame lookup takes no lock
 * but the loader's list lock that dl_iterate_phdr takes briefly (or
 * none, with glibc's _dl_find_object). It does not allocate: nothing
 * registers frames with this private copy, so it never builds the
 * sorted tables that would. */
#include <string.h>
#include <unwind.h>

#include "fork.h"
#include "lockfree.h"

/* Our own fork(), not whichever the program binds: its frame is where
 * the walk starts counting (given at start-up: fork.c's shim_fork_entry) */
static uintptr_t fork_entry;

struct state {
	struct shim_walk *w;
	const struct shim_site *sites;
	int n, max;
	bool past_fork;
	const struct shim_site *matched;
	int after_site; /* frames looked at above the site (3 at most) */
	uintptr_t pc[SHIM_MAX_SITE_DEPTH + 1]; /* frames 1.. of the chain */
};

/* Frames 1 .. depth-1 all run the site's object's code. */
static bool direct_chain(const struct state *st, const struct shim_site *s, int depth)
{
	for (int i = 1; i < depth; i++)
		if (st->pc[i] < s->obj_start || st->pc[i] >= s->obj_end)
			return false;
	return true;
}

/* libgcc hands each callback the IP of frame N with the CFA of frame
 * N-1 (its callee), i.e. the bottom of frame N: the top of a matched
 * site's frame is the CFA given with the frame after it. */
static _Unwind_Reason_Code frame(struct _Unwind_Context *ctx, void *arg)
{
	struct state *st = arg;
	struct shim_walk *w = st->w;
	int signal_frame = 0;
	uintptr_t ip = FRAME_IP(ctx, &signal_frame), cfa = FRAME_CFA(ctx);
	if (st->matched) {
		/* The three frames above the site: its caller, then two more.
		 * libgcc marks the *interrupted* frame as the signal frame,
		 * the one above the kernel's trampoline: one of these three is
		 * marked when the site is a handler (trampoline, interrupted)
		 * or is called by one directly (handler, trampoline,
		 * interrupted). Its fork is a handler's. A helper between the
		 * handler and the site is not seen (docs/sites.md). */
		if (signal_frame || !ip) {
			if (signal_frame)
				w->verdict = WALK_SIGNAL;
			return _URC_END_OF_STACK;
		}
		if (st->after_site++ == 0) { /* the caller */
			w->site_top = cfa;
			uintptr_t caller = ip - 1;
			for (int i = 0; i < st->n; i++) {
				const struct shim_site *s = &st->sites[i];
				if ((s->flags & SITE_ATFORK_CALLER) && caller - s->start < s->end - s->start &&
				    s->start != st->matched->obj_start)
					w->caller_atfork = true;
			}
		}
		return st->after_site < 3 ? _URC_NO_REASON : _URC_END_OF_STACK;
	}
	if (!ip)
		return _URC_END_OF_STACK;
	uintptr_t fn = SHIM_CODE(_Unwind_GetRegionStart(ctx));
	if (!st->past_fork) {
		st->past_fork = fn == fork_entry;
		return _URC_NO_REASON;
	}
	/* the front's fork(), when it called ours rather than jumped to it:
	 * not a frame of the program's */
	if (ip - 1 - shim_front_code_start < shim_front_code_end - shim_front_code_start)
		return _URC_NO_REASON;
	int depth = ++w->frames;
	w->last_cfa = cfa;
	if (signal_frame) { /* interrupted here: the rest is not our chain */
		w->verdict = WALK_SIGNAL;
		return _URC_END_OF_STACK;
	}
	/* a return address points after its call: step back into it */
	uintptr_t pc = ip - 1;
	if (depth <= SHIM_MAX_SITE_DEPTH)
		st->pc[depth] = pc;
	/* a site in this frame is more precise than a deny range around
	 * it (CPython's fork_exec call lies in the interpreter it denies) */
	bool deny = false;
	for (int i = 0; i < st->n; i++) {
		const struct shim_site *s = &st->sites[i];
		if (s->flags & SITE_ATFORK_CALLER)
			continue;
		if (!(s->flags & SITE_BY_START ? fn == s->start : pc - s->start < s->end - s->start))
			continue;
		if (s->flags & SITE_REFUSED) {
			if (!w->refused && depth <= s->depth && direct_chain(st, s, depth))
				w->refused = s->label;
			continue;
		}
		if (s->flags & SITE_DENY) {
			deny = true;
			continue;
		}
		if (depth <= s->depth && direct_chain(st, s, depth)) {
			st->matched = s;
			w->site = *s;
			w->verdict = WALK_SITE;
#ifdef SHIM_RESUME_REGS
			/* where its child resumes (fork.c): this frame's callee-
			 * saved registers as fork() returns to it, its stack
			 * pointer then (the CFA of fork's frame), the return
			 * address */
			if ((s->flags & SITE_SWAP_ENV) && depth == 1) {
				static const int dwarf[SHIM_RESUME_REGS] = SHIM_RESUME_DWARF;
				for (int k = 0; k < SHIM_RESUME_REGS; k++)
					w->resume.reg[k] = (uintptr_t)_Unwind_GetGR(ctx, dwarf[k]);
				w->resume.sp = cfa;
				w->resume.ip = ip;
			}
#endif
			return _URC_NO_REASON; /* one more frame: the site's top */
		}
	}
	if (deny) {
		w->verdict = WALK_DENY;
		return _URC_END_OF_STACK;
	}
	return depth >= st->max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

/* Fills *w; returns 0, or -1 when the stack could not be walked past
 * fork() itself. `max` bounds the frames looked at above fork(). */
int shim_walk(struct shim_walk *w, const struct shim_site *sites, int n, int max)
{
	memset(w, 0, sizeof *w);
	struct state st = { .w = w, .sites = sites, .n = n, .max = max };
	_Unwind_Backtrace(frame, &st);
	return st.past_fork && w->last_cfa ? 0 : -1;
}

/* The unwinder's first use initialises its register table (a
 * pthread_once of its own); do it at start-up, not inside a fork. */
static _Unwind_Reason_Code nothing(struct _Unwind_Context *ctx, void *arg)
{
	(void)ctx, (void)arg;
	return _URC_END_OF_STACK;
}

void shim_walk_init(uintptr_t fork_fn)
{
	fork_entry = SHIM_CODE(fork_fn);
	_Unwind_Backtrace(nothing, NULL);
}
