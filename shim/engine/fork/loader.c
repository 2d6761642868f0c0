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
 * a dl_iterate_phdr callback this thread holds it once, so it reads as a
 * recursive mutex of ours held once does (attach.c makes one at
 * start-up for comparison: lock, count, owner, users and kind), with
 * this thread's id as its owner (nptl's third word). The only place of
 * _rtld_global that reads so is a candidate, confirmed when its owner
 * reads 0 once dl_iterate_phdr has returned (glibc clears the owner at
 * unlock). The whole pattern, not the id alone: an id as small as 1 (a
 * container's first process) is found in many words. Inside dlopen (the
 * library loaded by the program, not preloaded) this thread also holds
 * the other loader lock, which reads the same: of the two, the one
 * released when the walk returns is the list lock. Anything else (a
 * contended lock; no _rtld_global: musl) leaves it unknown for now, and
 * the next rebuild looks again. Nothing here allocates or locks. */
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fork.h"
#include "lockfree.h"

static const int *owner;      /* the lock's owner word, once confirmed */
static const int *candidate[2]; /* found in a callback, not yet confirmed */
#define REF_WORDS 5
#define OWNER_WORD 2
static int ref[REF_WORDS];    /* a recursive mutex held once, owner aside */
static bool have_ref;

/* At start-up (attach.c): `m` is a recursive mutex this thread holds once. */
void shim_loader_reference(const void *m)
{
	memcpy(ref, m, sizeof ref);
	have_ref = ref[OWNER_WORD] == (int)syscall(SYS_gettid);
}

/* Inside a dl_iterate_phdr callback, for each object: the one that
 * defines _rtld_global is searched for this thread's id. */
void shim_loader_probe(const struct shim_object *o)
{
	uintptr_t start;
	size_t size;
	if (!have_ref || owner || candidate[0] || !shim_object_data(o, "_rtld_global", &start, &size))
		return;
	int want[REF_WORDS];
	memcpy(want, ref, sizeof want);
	want[OWNER_WORD] = (int)syscall(SYS_gettid);
	const int *found[2] = { NULL, NULL }, *w = (const int *)start;
	int n = 0;
	for (size_t i = 0; i + REF_WORDS <= size / sizeof *w; i++) {
		if (w[i + OWNER_WORD] != want[OWNER_WORD] || memcmp(&w[i], want, sizeof want) != 0)
			continue;
		if (n == 2)
			return; /* more than the two loader locks: not this */
		found[n++] = &w[i + OWNER_WORD];
	}
	candidate[0] = found[0];
	candidate[1] = found[1];
}

/* After dl_iterate_phdr returned: the candidate is the lock if released. */
void shim_loader_confirm(void)
{
	const int *released = NULL;
	int n = 0;
	for (int i = 0; i < 2; i++)
		if (candidate[i] && __atomic_load_n(candidate[i], __ATOMIC_RELAXED) == 0) {
			released = candidate[i];
			n++;
		}
	if (n == 1 && !owner) {
		__atomic_store_n(&owner, released, __ATOMIC_RELEASE);
		shim_log(LOG_DEBUG, "the loader's list lock records its owner at %p", (const void *)released);
	}
	candidate[0] = candidate[1] = NULL;
}

/* Is the holder `held` a thread of this copy, which will let it go? A
 * copy with no other thread: no. With others (started before its first
 * call), one may be in dl_iterate_phdr now: a thread of that id must
 * exist here (tgkill, signal 0), and, since the id recorded may be the
 * parent's in another PID namespace (a clone with CLONE_NEWPID numbers
 * threads afresh), it must also let the lock go within a second. */
static bool held_here(const int *o, int held)
{
	if (shim_threads() == 1 || syscall(SYS_tgkill, syscall(SYS_getpid), held, 0) != 0)
		return false;
	for (int ms = 0; ms < 1000; ms++) {
		if (__atomic_load_n(o, __ATOMIC_RELAXED) != held)
			return true;
		struct timespec t = { 0, 1000000 };
		nanosleep(&t, NULL);
	}
	return false;
}

/* In a copy (proc.c): held by nobody who can release it? */
void shim_loader_forget(void)
{
	const int *o = __atomic_load_n(&owner, __ATOMIC_ACQUIRE);
	int held = o ? __atomic_load_n(o, __ATOMIC_RELAXED) : 0;
	candidate[0] = candidate[1] = NULL;
	shim_loader_stuck = held != 0 && held != (int)syscall(SYS_gettid) && !held_here(o, held);
	if (shim_loader_stuck)
		shim_log(LOG_INFO, "%d: this process was forked while another thread held the loader's list lock; its forks stay real", (int)syscall(SYS_getpid));
}
SHIM_ON_COPY(shim_loader_forget);
