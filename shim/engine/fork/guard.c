/* The child guard: what the child of a rerouted fork may do to memory
 * it shares with its parent. Every function here is exported but acts
 * only while shim_guard.active, i.e. in that child; elsewhere it goes
 * straight to the next definition (resolved at start-up, attach.c).
 *
 * Rules the child lives by (each answers a hazard of design.md); the
 * environment is guard_env.c's, the exec family guard_exec.c's:
 *   - exit() is _exit(), and so is a return from main(): no atexit
 *     handlers, destructors or stdio flush on the parent's data;
 *   - set*id and setgroups become raw syscalls on the child task alone
 *     (glibc's would signal every thread of the parent), and the child
 *     is made non-dumpable after a credential change;
 *   - every signal stays blocked; sigprocmask and pthread_sigmask only
 *     record the mask asked for, which is applied just before execve
 *     once handled signals are back at SIG_DFL, and blocked again if
 *     the exec fails;
 *   - fork() is a real fork, whose child is an ordinary process again.
 * Nothing here allocates from the heap or takes a lock. */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fork.h"
#include "lockfree.h"

#define G shim_guard

/* ---- exit, and main's return ---- */
void engine_exit(int status)
{
	SHIM_AUDIT_NOTE("exit");
	if (SHIM_IN_CHILD)
		_exit(status);
	real.exit(status);
	__builtin_unreachable();
}

/* glibc calls exit() itself when main returns, from inside libc where
 * no interposition reaches: the child of a rerouted fork that returns
 * from main would run the parent's atexit handlers, destructors and
 * stdio flush in shared memory (and leave none for the parent). So
 * main runs under a wrapper that ends such a child with _exit. The
 * wrapper is installed only when the shim is enabled; the generic
 * __libc_start_main signature is that of every architecture we build
 * for but powerpc, whose startup passes main in a struct: there main's
 * return in a rerouted child is not covered (README, limits). */
#if !defined(__powerpc__)
static int (*program_main)(int, char **, char **);

static int main_wrapper(int argc, char **argv, char **envp)
{
	int r = program_main(argc, argv, envp);
	if (SHIM_IN_CHILD)
		_exit(r);
	return r;
}

int engine_libc_start_main(int (*main)(int, char **, char **), int argc, char **argv,
				  void (*init)(void), void (*fini)(void), void (*rtld_fini)(void),
				  void *stack_end)
{
	if (cfg.enabled && cfg.fork != FORK_OFF) {
		program_main = main;
		main = main_wrapper;
	}
	return real.libc_start_main(main, argc, argv, init, fini, rtld_fini, stack_end);
}
#endif

/* ---- signals ---- */
int engine_pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	SHIM_AUDIT_NOTE("pthread_sigmask");
	if (!SHIM_IN_CHILD)
		return real.pthread_sigmask(how, set, old);
	if (old)
		*old = G.want_mask;
	if (!set)
		return 0;
	switch (how) {
	case SIG_BLOCK:
		sigorset(&G.want_mask, &G.want_mask, set);
		return 0;
	case SIG_UNBLOCK:
		for (int sig = 1; sig < _NSIG; sig++)
			if (sigismember(set, sig) == 1)
				sigdelset(&G.want_mask, sig);
		return 0;
	case SIG_SETMASK:
		G.want_mask = *set;
		return 0;
	}
	return EINVAL;
}

int engine_sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	SHIM_AUDIT_NOTE("sigprocmask");
	if (!SHIM_IN_CHILD)
		return real.sigprocmask(how, set, old);
	int r = engine_pthread_sigmask(how, set, old);
	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}

/* ---- credentials ---- */
static int creds(long r)
{
	if (r == 0) {
		G.creds_changed = 1;
		/* no process of the new ids may ptrace our shared memory */
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	}
	return (int)r;
}

int engine_setuid(uid_t uid)
{
	SHIM_AUDIT_NOTE("setuid");
	if (!SHIM_IN_CHILD)
		return real.setuid(uid);
	return creds(syscall(SHIM_SYS_setuid, uid));
}

int engine_setgid(gid_t gid)
{
	if (!SHIM_IN_CHILD)
		return real.setgid(gid);
	return creds(syscall(SHIM_SYS_setgid, gid));
}

int engine_setresuid(uid_t r, uid_t e, uid_t s)
{
	if (!SHIM_IN_CHILD)
		return real.setresuid(r, e, s);
	return creds(syscall(SHIM_SYS_setresuid, r, e, s));
}

int engine_setresgid(gid_t r, gid_t e, gid_t s)
{
	if (!SHIM_IN_CHILD)
		return real.setresgid(r, e, s);
	return creds(syscall(SHIM_SYS_setresgid, r, e, s));
}

int engine_seteuid(uid_t e)
{
	return SHIM_IN_CHILD ? engine_setresuid((uid_t)-1, e, (uid_t)-1) : real.seteuid(e);
}

int engine_setegid(gid_t e)
{
	return SHIM_IN_CHILD ? engine_setresgid((gid_t)-1, e, (gid_t)-1) : real.setegid(e);
}

int engine_setreuid(uid_t r, uid_t e)
{
	if (!SHIM_IN_CHILD)
		return real.setreuid(r, e);
	return creds(syscall(SHIM_SYS_setreuid, r, e));
}

int engine_setregid(gid_t r, gid_t e)
{
	if (!SHIM_IN_CHILD)
		return real.setregid(r, e);
	return creds(syscall(SHIM_SYS_setregid, r, e));
}

int engine_setgroups(size_t n, const gid_t *list)
{
	if (!SHIM_IN_CHILD)
		return real.setgroups(n, list);
	return creds(syscall(SHIM_SYS_setgroups, n, list));
}
