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
 * Nothing here allocates or takes a lock of libc's. */
#include <limits.h>
#include <linux/futex.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"
#include "lockfree.h"

static int gate;
static __thread int in_setenv __attribute__((tls_model("initial-exec")));

/* Until the gate is no longer v (or `timeout`, when not NULL). */
static void wait_while(int v, const struct timespec *timeout)
{
	syscall(SYS_futex, &gate, FUTEX_WAIT_PRIVATE, v, timeout, NULL, 0);
}

static void wake_all(void)
{
	syscall(SYS_futex, &gate, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

int shim_threads(void)
{
	/* /proc/PID/task links 2 + the number of threads */
	struct stat st;
	if (stat("/proc/self/task", &st) != 0 || st.st_nlink < 3)
		return 0;
	return (int)(st.st_nlink - 2);
}

bool shim_env_window_open(void)
{
	if (in_setenv)
		return false;
	static const struct timespec ms = { 0, 1000000 };
	int v = __atomic_load_n(&gate, __ATOMIC_RELAXED);
	for (int tries = 0; tries < 100;) {
		if (v < 0) {
			wait_while(v, &ms);
			v = __atomic_load_n(&gate, __ATOMIC_RELAXED);
			tries++;
		} else if (__atomic_compare_exchange_n(&gate, &v, v + 1, true, __ATOMIC_ACQUIRE,
						       __ATOMIC_RELAXED)) {
			return true;
		}
	}
	return false;
}

void shim_env_window_close(void)
{
	if (__atomic_sub_fetch(&gate, 1, __ATOMIC_RELEASE) == 0)
		wake_all();
}

/* in_setenv is set before the gate is taken and cleared after it is
 * given back: a signal handler that forks in between never waits for
 * its own thread. */
void shim_env_enter(void)
{
	in_setenv = 1;
	int v = __atomic_load_n(&gate, __ATOMIC_RELAXED);
	for (;;) {
		if (v > 0) {
			wait_while(v, NULL);
			v = __atomic_load_n(&gate, __ATOMIC_RELAXED);
		} else if (__atomic_compare_exchange_n(&gate, &v, v - 1, true, __ATOMIC_ACQUIRE,
						       __ATOMIC_RELAXED)) {
			return;
		}
	}
}

void shim_env_leave(void)
{
	if (__atomic_add_fetch(&gate, 1, __ATOMIC_RELEASE) == 0)
		wake_all();
	in_setenv = 0;
}
