/* The environment while a rerouted child runs.
 *
 * environ is one variable that every thread reads (getenv, and libc's
 * own readers: tzset, the resolver, execvp) and that the setenv family
 * replaces (glibc's setenv reallocs the array and frees the old one).
 * A child that shares our memory and assigns environ is seen by every
 * other thread at once: nothing can hide a store from a thread that
 * loads the variable. So (fork.c):
 *   - a site whose child may assign environ is rerouted only when the
 *     process has no other thread, counted with every signal blocked
 *     (no thread can then appear until the child is gone);
 *   - with other threads, a window keeps the setenv family out while
 *     the child runs: environ then changes during the window only if
 *     the child assigned it, and putting it back cannot discard another
 *     thread's setenv, nor can a setenv build on the child's array.
 * The window is one counter: above 0, the rerouted children running;
 * below 0, the setenv-family calls running. Each side waits on a futex
 * for the other to finish, as it would for glibc's own lock, with two
 * exceptions where waiting could be forever: a fork from a signal
 * handler that interrupted a setenv of its own thread, and a fork that
 * keeps losing the race to a thread that calls setenv in a loop; such
 * a fork stays real (fallback_busy).
 *
 * A setenv that waits is served first: while one waits for the windows
 * open now to close, no new window opens (a fork waits for the setenv,
 * microseconds, as it would wait for one running). Without that, threads
 * that spawn back to back keep a window open almost all the time, and a
 * setenv waited for a gap: 60 ms at worst with 4 spawning threads here,
 * against 6 ms without the shim; with it, about one child's run to its
 * exec (issue 21's note has the figures).
 *
 * The child of a fork has none of the threads that held the counter:
 * it starts it again from 0 (shim_env_forget, proc.c), in a generation
 * of its own, the top byte of the word. A setenv of the forking thread
 * that a handler's fork interrupted finishes in the copy too: its leave
 * gives back only what its enter took in the same generation, read from
 * the very value its compare-and-swap replaced, so that no instant of
 * the enter or the leave leaves the copy's counter off by one.
 *
 * Nothing here allocates or takes a lock of libc's. */
#include <limits.h>
#include <linux/futex.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fork.h"
#include "lockfree.h"

/* the generation in the top byte; the count below, biased */
#define GEN_SHIFT 24
#define BIAS 0x800000u
#define COUNT(w) ((int)((w) & 0xffffffu) - (int)BIAS)
static unsigned gate = BIAS;
static int writers; /* setenv-family calls waiting for windows to close */
static __thread int in_setenv __attribute__((tls_model("initial-exec")));

/* Until the gate is no longer w (or `timeout`, when not NULL). */
static void wait_while(unsigned w, const struct timespec *timeout)
{
	syscall(SYS_futex, &gate, FUTEX_WAIT_PRIVATE, w, timeout, NULL, 0);
}

static void wake_all(void)
{
	syscall(SYS_futex, &gate, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void shim_env_forget(void)
{
	unsigned w = __atomic_load_n(&gate, __ATOMIC_RELAXED);
	__atomic_store_n(&gate, (((w >> GEN_SHIFT) + 1) << GEN_SHIFT) + BIAS, __ATOMIC_RELAXED);
	__atomic_store_n(&writers, 0, __ATOMIC_RELAXED);
}
SHIM_ON_COPY(shim_env_forget);

/* Never below 0: in a copy, a setenv that was waiting when the fork
 * came gives back what the renewal already cleared. */
static void writer_served(void)
{
	int v = __atomic_load_n(&writers, __ATOMIC_RELAXED);
	while (v > 0 && !__atomic_compare_exchange_n(&writers, &v, v - 1, true, __ATOMIC_RELAXED,
						     __ATOMIC_RELAXED))
		;
}

bool shim_env_window_open(void)
{
	if (in_setenv)
		return false;
	static const struct timespec ms = { 0, 1000000 };
	unsigned w = __atomic_load_n(&gate, __ATOMIC_RELAXED);
	for (int tries = 0; tries < 100;) {
		if (COUNT(w) < 0 || __atomic_load_n(&writers, __ATOMIC_RELAXED) > 0) {
			wait_while(w, &ms);
			w = __atomic_load_n(&gate, __ATOMIC_RELAXED);
			tries++;
		} else if (__atomic_compare_exchange_n(&gate, &w, w + 1, true, __ATOMIC_ACQUIRE,
						       __ATOMIC_RELAXED)) {
			return true;
		}
	}
	return false;
}

/* Only the parent that opened it closes it, with every signal blocked
 * since the open: no copy of this process can be made in between. */
void shim_env_window_close(void)
{
	if (COUNT(__atomic_sub_fetch(&gate, 1, __ATOMIC_RELEASE)) == 0)
		wake_all();
}

/* in_setenv is set before the gate is taken and cleared after it is
 * given back: a signal handler that forks in between never waits for
 * its own thread. The generation taken is returned for the leave. */
unsigned shim_env_enter(void)
{
	shim_proc_check();
	in_setenv = 1;
	bool waited = false;
	unsigned w = __atomic_load_n(&gate, __ATOMIC_RELAXED);
	for (;;) {
		if (COUNT(w) > 0) {
			if (!waited)
				__atomic_add_fetch(&writers, 1, __ATOMIC_RELAXED);
			waited = true;
			wait_while(w, NULL);
			w = __atomic_load_n(&gate, __ATOMIC_RELAXED);
		} else if (__atomic_compare_exchange_n(&gate, &w, w - 1, true, __ATOMIC_ACQUIRE,
						       __ATOMIC_RELAXED)) {
			if (waited)
				writer_served();
			return w >> GEN_SHIFT;
		}
	}
}

void shim_env_leave(unsigned gen)
{
	unsigned w = __atomic_load_n(&gate, __ATOMIC_RELAXED);
	while (w >> GEN_SHIFT == gen) { /* else: taken before a fork, gone with it */
		if (__atomic_compare_exchange_n(&gate, &w, w + 1, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
			if (COUNT(w + 1) == 0)
				wake_all();
			break;
		}
	}
	in_setenv = 0;
}
