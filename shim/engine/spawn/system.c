/* system() on the engine, with glibc 2.36's contract
 * (sysdeps/posix/system.c): SIGINT and SIGQUIT are ignored in the
 * caller while any system() runs (reference-counted across threads),
 * SIGCHLD is blocked in the calling thread while it waits, the child
 * gets the caller's mask and SIGINT/SIGQUIT back at SIG_DFL unless the
 * caller ignored them, a shell that cannot run gives status 127 with
 * errno set, and system(NULL) asks the shell to `exit 0`. A cancelled
 * caller kills and reaps its child, as glibc's cancel handler does. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int users;
static struct sigaction saved_intr, saved_quit;

static void lock_prepare(void) { pthread_mutex_lock(&lock); }
static void lock_parent(void) { pthread_mutex_unlock(&lock); }
static void lock_child(void) { pthread_mutex_init(&lock, NULL); }

/* In a copy (proc.c), made by any fork: the threads that counted
 * themselves in `users` or held the lock are not there. The copy's
 * SIGINT and SIGQUIT are as the fork found them (ignored while another
 * thread ran system(), as glibc's copy would have them); its first
 * system() saves and puts back those. Stores only: proc.c is lock-free. */
void shim_system_forget(void)
{
	lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	users = 0;
}
SHIM_ON_COPY(shim_system_forget);

/* A real fork while another thread holds the lock must not leave the
 * child with it held. Registered at the first engine system(), not at
 * load: fork handlers write our data after every fork, a copy-on-write
 * fault in both processes (about 90 us each on a paravirtual VM), which
 * a process that never runs system() on the engine must not pay. */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void register_atfork(void) { pthread_atfork(lock_prepare, lock_parent, lock_child); }

static void release_signals(void)
{
	pthread_mutex_lock(&lock);
	if (users > 0 && --users == 0) { /* 0: counted in a parent, renewed here */
		sigaction(SIGINT, &saved_intr, NULL);
		sigaction(SIGQUIT, &saved_quit, NULL);
	}
	pthread_mutex_unlock(&lock);
}

static void on_cancel(void *arg)
{
	pid_t pid = *(pid_t *)arg;
	kill(pid, SIGKILL);
	int state;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	pthread_setcancelstate(state, NULL);
	release_signals();
}

/* Returns the status, or SHIM_DECLINED (nothing done) for the caller
 * to use the real system(). */
static int system_on_engine(const char *line, int *status_out)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, intr, quit;
	sigemptyset(&ign.sa_mask);

	/* A rerouted child is a process of its own with one thread and
	 * dispositions of its own, but `users` and the saved dispositions
	 * are its parent's memory: it keeps its own on its stack. */
	bool in_child = SHIM_IN_CHILD;
	if (in_child) {
		sigaction(SIGINT, &ign, &intr);
		sigaction(SIGQUIT, &ign, &quit);
	} else {
		pthread_once(&atfork_once, register_atfork);
		pthread_mutex_lock(&lock);
		if (users++ == 0) {
			sigaction(SIGINT, &ign, &saved_intr);
			sigaction(SIGQUIT, &ign, &saved_quit);
		}
		intr = saved_intr;
		quit = saved_quit;
		pthread_mutex_unlock(&lock);
	}

	sigset_t chld, omask, reset;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &omask);
	sigemptyset(&reset);
	if (intr.sa_handler != SIG_IGN)
		sigaddset(&reset, SIGINT);
	if (quit.sa_handler != SIG_IGN)
		sigaddset(&reset, SIGQUIT);

	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &omask);
	posix_spawnattr_setsigdefault(&attr, &reset);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	pid_t pid;
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)line, NULL };
	extern char **environ;
	bool clone_failed;
	int ret = shim_engine_spawn(&pid, "/bin/sh", NULL, 0, &attr, argv, environ, false, &clone_failed);
	if (clone_failed) { /* nothing created: libc's system says what it says (-1 or 127) */
		shim_engine_declined(R_RESOURCE);
		ret = SHIM_DECLINED;
	}
	posix_spawnattr_destroy(&attr);

	int status = -1;
	if (ret == 0) {
		pthread_cleanup_push(on_cancel, &pid);
		int r;
		while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
		if (r != pid)
			status = -1;
		pthread_cleanup_pop(0);
	} else if (ret > 0) {
		status = W_EXITCODE(127, 0);
	}
	if (in_child) {
		/* A SIGINT or SIGQUIT sent meanwhile is pending, not discarded:
		 * the child runs with every signal blocked, and the kernel keeps
		 * a blocked signal even when ignored. A real fork's child would
		 * have discarded it, unless its own mask blocked it; setting
		 * SIG_IGN again discards it here (POSIX), before the child's
		 * own disposition comes back. */
		if (!sigismember(&shim_guard.want_mask, SIGINT)) /* blocked: kept, as glibc */
			sigaction(SIGINT, &ign, NULL);
		if (!sigismember(&shim_guard.want_mask, SIGQUIT))
			sigaction(SIGQUIT, &ign, NULL);
		sigaction(SIGINT, &intr, NULL);
		sigaction(SIGQUIT, &quit, NULL);
	} else {
		release_signals();
	}
	sigprocmask(SIG_SETMASK, &omask, NULL);
	if (ret == SHIM_DECLINED)
		return SHIM_DECLINED;
	if (ret > 0)
		errno = ret;
	*status_out = status;
	return 0;
}

int engine_system(const char *line)
{
	shim_proc_check();
	SHIM_AUDIT_NOTE("system");
	if (cfg.enabled && cfg.audit_dir) {
		unsigned long long t0 = shim_audit_now();
		int r = real.system(line);
		shim_audit_spawn(SHIM_AUDIT_SYSTEM, (uintptr_t)__builtin_return_address(0), shim_audit_now() - t0);
		return r;
	}
	/* in a rerouted child, the engine whatever the mode: it alone gives
	 * the shell the child's environment and mask (spawn.c) */
	if (!cfg.enabled || (!SHIM_IN_CHILD && !shim_engine_wanted(false)))
		return real.system(line);
	int status;
	if (line == NULL) {
		if (system_on_engine("exit 0", &status) == 0)
			return status == 0;
	} else if (system_on_engine(line, &status) == 0) {
		return status;
	}
	return real.system(line);
}
