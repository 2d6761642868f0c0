/* The last fork decisions, kept for gdb (scripts/gdb/vforkshim.gdb,
 * vforkshim-last): which fork, in which process, rerouted at which site
 * or declined for which reason.
 *
 * A ring of SHIM_DECISIONS entries; a slot is claimed with one atomic
 * add, then filled with plain stores: two threads that fork at the same
 * moment each get their own slot, and a debugger that stops the program
 * mid-store sees at worst one half-written entry. No lock, no
 * allocation: a rerouted child (sharing our memory) may record its own
 * nested fork here, which is what the user wants to see. */
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"
#include "lockfree.h"

struct shim_decisions shim_decisions;

/* In a copy (proc.c): the decisions are the parent's, one perhaps half
 * written by another thread; this process starts its own. */
void shim_decisions_forget(void)
{
	memset(&shim_decisions, 0, sizeof shim_decisions);
}
SHIM_ON_COPY(shim_decisions_forget);

/* Called after fork()'s own shim_proc_check: the ring is renewed. */
void shim_decide(const char *site, int reason, int err)
{
	unsigned long n = __atomic_fetch_add(&shim_decisions.next, 1, __ATOMIC_RELAXED);
	struct shim_decision *d = &shim_decisions.d[n % SHIM_DECISIONS];
	d->seq = n + 1;
	d->pid = (pid_t)syscall(SYS_getpid); /* a rerouted child has its own */
	d->site = site;
	d->reason = reason;
	d->err = err;
}
