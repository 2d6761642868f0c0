/* The loader's list lock, in a copy made by a fork.
 *
 * dl_iterate_phdr holds glibc's dl_load_write_lock for its whole walk,
 * and dlopen and dlclose hold it while they change the list. glibc's
 * fork does not make it right in the child (seen on 2.36; Julia hit the
 * same hang, JuliaLang/julia#57017): a child forked while another
 * thread held it waits for ever in its first dl_iterate_phdr. Without
 * the library that child hangs only if it loads or unloads a library
 * itself; with it, its first fork would (sites.c asks dl_iterate_phdr
 * whether the loaded set changed, and the unwinder may walk the list).
 * Our own site-table rebuild holds it longest of all.
 *
 * So the library finds where that lock records its owner, and a copy
 * (proc.c) looks there: held by a thread that is not this one, it can
 * only stay held, and this process never asks the loader again: every
 * fork stays real (fallback_busy), as it would without the library.
 *
 * The lock is a recursive pthread mutex inside ld.so's _rtld_global,
 * whose layout differs between versions: it is found, not assumed. In
 * a dl_iterate_phdr callback this thread owns it, so its owner word
 * holds this thread's id; the only such word of _rtld_global is a
 * candidate, confirmed when it reads 0 once dl_iterate_phdr has
 * returned (glibc clears the owner at unlock). Anything else (two such
 * words, none, no _rtld_global: musl) leaves it unknown, and a copy then
 * behaves as before. Nothing here allocates or locks. */
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"
#include "lockfree.h"

static const int *owner;      /* the lock's owner word, once confirmed */
static const int *candidate;  /* found in a callback, not yet confirmed */
static bool stuck;            /* this copy inherited it held */

/* Inside a dl_iterate_phdr callback, for each object: the one that
 * defines _rtld_global is searched for this thread's id. */
void shim_loader_probe(const struct shim_object *o)
{
	uintptr_t start;
	size_t size;
	if (owner || candidate || !shim_object_data(o, "_rtld_global", &start, &size))
		return;
	int tid = (int)syscall(SYS_gettid);
	const int *found = NULL, *w = (const int *)start;
	for (size_t i = 0; i < size / sizeof *w; i++) {
		if (w[i] != tid)
			continue;
		if (found)
			return; /* two: this thread holds another lock too */
		found = &w[i];
	}
	candidate = found;
}

/* After dl_iterate_phdr returned: the candidate is the lock if released. */
void shim_loader_confirm(void)
{
	if (candidate && !owner && __atomic_load_n(candidate, __ATOMIC_RELAXED) == 0)
		__atomic_store_n(&owner, candidate, __ATOMIC_RELEASE);
	candidate = NULL;
}

/* In a copy (proc.c): held by nobody who can release it? */
void shim_loader_forget(void)
{
	const int *o = __atomic_load_n(&owner, __ATOMIC_ACQUIRE);
	int held = o ? __atomic_load_n(o, __ATOMIC_RELAXED) : 0;
	candidate = NULL;
	stuck = held != 0 && held != (int)syscall(SYS_gettid);
	if (stuck)
		shim_log(LOG_INFO, "%d: this process was forked while another thread held the loader's list lock; its forks stay real", (int)syscall(SYS_getpid));
}

bool shim_loader_stuck(void)
{
	return stuck;
}
