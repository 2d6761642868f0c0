/* Which process this memory is: the library's per-process state made
 * right in the child of any fork.
 *
 * The library holds state for the process it runs in: the setenv gate
 * (env.c), the site table and its rebuild (sites.c, rt_*.c), the stats
 * and the live record `vforkshim ps` reads (log.c), the last decisions
 * (decisions.c), the engine's locks and counts (system.c, popen.c),
 * audit mode's table (audit.c), and the guard of a rerouted child
 * (guard*.c, in TLS). A fork copies all of it as it stands at that
 * instant, whoever forks: our fork(), libc's fork() or _Fork() called
 * by anyone, a raw clone() without CLONE_VM, a rerouted child's own
 * fork. In the copy, a window another thread held is held by nobody, a
 * rebuild another thread ran is half done for ever, a lock another
 * thread held is never released (issue 21: the grandchild's setenv
 * waited for ever on a window its grandparent had opened).
 *
 * So a copy must know it is one, whoever made it, without paying for
 * it at every fork. One word in a page the kernel empties in the child
 * of any fork that copies the address space (MADV_WIPEONFORK, Linux
 * 4.14; the fact BoringSSL's fork detection rests on) and shares, like
 * all memory, with a CLONE_VM child: it reads 0 only in a copy. Every
 * entry point that uses per-process state reads it first (one load,
 * shim_proc_check) and, in a copy, renews the state before use. A child
 * that never calls the library never writes its pages: no copy-on-write
 * fault for the many children that only exec.
 *
 * What is renewed, and to what (each file's *_forget says why; each
 * names its forget with SHIM_ON_COPY, core.h):
 *   - held by threads that do not exist here: the gate, the rebuild
 *     lock and a half-built table, the engine's system() count and its
 *     locks, audit mode's busy flag: as if nobody held them;
 *   - this process's own records: the stats (claimed anew at the first
 *     count, log.c), the decisions ring;
 *   - the guard of a rerouted child that a raw fork copied (our fork()
 *     does it at once): the copy is an ordinary process, with the
 *     environment and mask the child asked for. That state is the
 *     forking thread's (TLS), so that thread makes it right itself, at
 *     its first guarded call, whichever thread renewed the rest: the
 *     guard knows the process it was set in (guard*.c).
 * Kept: what was learned of the code and the kernel (a site's child
 * assigns environ, the kernel refused CLONE_VM), which the copy shares.
 *
 * A vfork or other CLONE_VM child is no copy: it reads 1 and renews
 * nothing, which is right, since it shares the state with its parent
 * (and a rerouted child counts into its parent's counters).
 *
 * On a kernel without MADV_WIPEONFORK the word stays 1 and the renewal
 * runs from a fork handler instead: libc's fork() then, not raw clones.
 * Nothing here allocates or takes a lock. */
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"
#include "lockfree.h"

/* every SHIM_ON_COPY, gathered by the linker */
extern void (*const __start_shim_copy[])(void) __attribute__((visibility("hidden")));
extern void (*const __stop_shim_copy[])(void) __attribute__((visibility("hidden")));

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif

static int always_one = 1;
int *shim_proc_marker = &always_one; /* until shim_proc_init */
pid_t shim_proc_pid;
/* Which process this memory is, as a number no other process of the
 * lineage has: a pid can be a copy's too (process 1 of a new PID
 * namespace, whose parent was process 1 of its own). */
unsigned shim_proc_gen = 1;
static bool fallback; /* no MADV_WIPEONFORK: renewed by a fork handler */
/* This copy inherited the loader's list lock held by another thread
 * (fork/loader.c finds out at the renewal): nothing may ask the loader,
 * the unwinder included. */
bool shim_loader_stuck;

/* The word: 0 in a copy not yet renewed, 2 while one thread renews it,
 * 1 once renewed. A copy has one thread when it is made, but may start
 * others before its first call into the library: one renews, the others
 * wait for it (a few microseconds), and none uses the state meanwhile. */
#define RENEWING 2

/* A copy seen by shim_proc_check, or (fallback) libc's fork's child. */
void shim_proc_renew(void)
{
	sigset_t mask;
	/* a handler of this thread that calls the library must not renew it
	 * again, nor use it half renewed */
	shim_block_all(&mask);
	int zero = 0;
	if (fallback || __atomic_compare_exchange_n(shim_proc_marker, &zero, RENEWING, false,
						    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		shim_proc_pid = (pid_t)syscall(SYS_getpid);
		shim_proc_gen++;
		/* each file's own state, independent of the others' */
		for (void (*const *f)(void) = __start_shim_copy; f < __stop_shim_copy; f++)
			(*f)();
		__atomic_store_n(shim_proc_marker, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, shim_proc_marker, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	} else {
		while (__atomic_load_n(shim_proc_marker, __ATOMIC_ACQUIRE) == RENEWING)
			syscall(SYS_futex, shim_proc_marker, FUTEX_WAIT_PRIVATE, RENEWING, NULL, NULL, 0);
	}
	shim_set_mask(&mask);
}

/* Threads of this process; 0 when /proc cannot tell */
int shim_threads(void)
{
	/* /proc/PID/task links 2 + the number of threads */
	struct stat st;
	if (stat("/proc/self/task", &st) != 0 || st.st_nlink < 3)
		return 0;
	return (int)(st.st_nlink - 2);
}

/* n bytes of this process's memory at `from`, or false (unmapped,
 * unreadable, or process_vm_readv refused by a seccomp filter): never a
 * fault. */
bool shim_read_memory(void *to, const void *from, size_t n)
{
	struct iovec local = { to, n }, remote = { (void *)from, n };
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n;
}

/* Our own real forks' children call this at once when they set state of
 * their own right after (audit mode's slot, the guard's nested child):
 * a renewal later would undo it. */
void shim_proc_child(void)
{
	if (fallback || __atomic_load_n(shim_proc_marker, __ATOMIC_ACQUIRE) != 1)
		shim_proc_renew();
}

/* At start-up, before any state is held. false: no MADV_WIPEONFORK (a
 * kernel before 4.14), the caller registers shim_proc_renew as a fork
 * handler instead. */
bool shim_proc_init(void)
{
	shim_proc_pid = (pid_t)syscall(SYS_getpid);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int *m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED && madvise(m, page, MADV_WIPEONFORK) == 0) {
		*m = 1;
		__atomic_store_n(&shim_proc_marker, m, __ATOMIC_RELEASE);
		return true;
	}
	if (m != MAP_FAILED)
		munmap(m, page);
	fallback = true;
	return false;
}
