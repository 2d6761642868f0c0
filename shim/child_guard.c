/* The child guard: what the child of a rerouted fork may do to memory
 * it shares with its parent. Every function here is exported but acts
 * only while shim_guard.active, i.e. in that child; elsewhere it goes
 * straight to the next definition.
 *
 * Rules the child lives by (each answers a hazard of design.md):
 *   - exit() is _exit(): no atexit handlers, destructors or stdio
 *     flush on the parent's data;
 *   - setenv/unsetenv/putenv/clearenv work on a child-private copy of
 *     the environment, in mmap'd blocks the parent unmaps afterwards;
 *     the exec family without an explicit envp passes that copy on, and
 *     execvp/execlp search its PATH;
 *   - set*id and setgroups become raw syscalls on the child task alone
 *     (glibc's would signal every thread of the parent), and the child
 *     is made non-dumpable after a credential change;
 *   - every signal stays blocked; sigprocmask and pthread_sigmask only
 *     record the mask asked for, which is applied just before execve
 *     once handled signals are back at SIG_DFL, and blocked again if
 *     the exec fails;
 *   - fork() is a real fork, whose child is an ordinary process again.
 * Nothing here allocates from the heap or takes a lock. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

extern char **environ;
__thread struct shim_guard shim_guard __attribute__((tls_model("initial-exec")));

#define G shim_guard
#define IN_CHILD __builtin_expect(shim_guard.active, 0)

/* The next definition, resolved on first use without shim_init(): these
 * are called by libc-heavy code that may run before our constructor. */
#define NEXT(fn) ({                                                        \
	static __typeof__(&fn) next_;                                      \
	if (!next_)                                                        \
		next_ = (__typeof__(&fn))dlsym(RTLD_NEXT, #fn);            \
	next_; })

/* ---- the arena: blocks mmap'd by the child, unmapped by the parent ---- */
struct block {
	struct block *next;
	size_t size, used;
};

static void *alloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct block *b = G.arena;
	if (!b || b->size - b->used < n) {
		size_t size = n + sizeof *b + 64 * 1024;
		b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED)
			return NULL;
		b->next = G.arena;
		b->size = size;
		b->used = (sizeof *b + 15) & ~(size_t)15;
		G.arena = b;
	}
	void *p = (char *)b + b->used;
	b->used += n;
	return p;
}

void shim_guard_parent_cleanup(void)
{
	for (struct block *b = G.arena, *next; b; b = next) {
		next = b->next;
		munmap(b, b->size);
	}
	G = (struct shim_guard){ 0 };
}

/* ---- the private environment ---- */
static int env_copy(void)
{
	if (G.env)
		return 0;
	size_t n = 0;
	while (environ && environ[n])
		n++;
	char **e = alloc((n + 16) * sizeof *e);
	if (!e)
		return -1;
	for (size_t i = 0; i < n; i++)
		e[i] = environ[i];
	e[n] = NULL;
	G.env = e;
	G.env_len = n;
	G.env_cap = n + 16;
	return 0;
}

static ssize_t env_find(const char *name, size_t len)
{
	for (size_t i = 0; i < G.env_len; i++)
		if (!strncmp(G.env[i], name, len) && G.env[i][len] == '=')
			return (ssize_t)i;
	return -1;
}

static int env_put(char *entry, size_t name_len, bool overwrite)
{
	ssize_t i = env_find(entry, name_len);
	if (i >= 0) {
		if (overwrite)
			G.env[i] = entry;
		return 0;
	}
	if (G.env_len + 1 >= G.env_cap) {
		char **e = alloc(G.env_cap * 2 * sizeof *e);
		if (!e) {
			errno = ENOMEM;
			return -1;
		}
		memcpy(e, G.env, (G.env_len + 1) * sizeof *e);
		G.env = e;
		G.env_cap *= 2;
	}
	G.env[G.env_len++] = entry;
	G.env[G.env_len] = NULL;
	return 0;
}

static bool bad_name(const char *name)
{
	return !name || !*name || strchr(name, '=');
}

SHIM_EXPORT int setenv(const char *name, const char *value, int overwrite)
{
	if (!IN_CHILD)
		return NEXT(setenv)(name, value, overwrite);
	if (bad_name(name)) {
		errno = EINVAL;
		return -1;
	}
	size_t nl = strlen(name), vl = strlen(value);
	char *entry;
	if (env_copy() || !(entry = alloc(nl + vl + 2))) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(entry, name, nl);
	entry[nl] = '=';
	memcpy(entry + nl + 1, value, vl + 1);
	return env_put(entry, nl, overwrite != 0);
}

SHIM_EXPORT int unsetenv(const char *name)
{
	if (!IN_CHILD)
		return NEXT(unsetenv)(name);
	if (bad_name(name)) {
		errno = EINVAL;
		return -1;
	}
	if (env_copy()) {
		errno = ENOMEM;
		return -1;
	}
	size_t nl = strlen(name);
	ssize_t i;
	while ((i = env_find(name, nl)) >= 0) {
		memmove(&G.env[i], &G.env[i + 1], (G.env_len - (size_t)i) * sizeof *G.env);
		G.env_len--;
	}
	return 0;
}

SHIM_EXPORT int putenv(char *string)
{
	if (!IN_CHILD)
		return NEXT(putenv)(string);
	const char *eq = strchr(string, '=');
	if (!eq) /* glibc: "NAME" alone removes NAME */
		return unsetenv(string);
	if (env_copy()) {
		errno = ENOMEM;
		return -1;
	}
	return env_put(string, (size_t)(eq - string), true);
}

SHIM_EXPORT int clearenv(void)
{
	if (!IN_CHILD)
		return NEXT(clearenv)();
	if (env_copy())
		return -1;
	G.env_len = 0;
	G.env[0] = NULL;
	return 0;
}

static const char *child_path(void)
{
	ssize_t i = env_find("PATH", 4);
	return i >= 0 ? G.env[i] + 5 : NULL;
}

/* ---- exit ---- */
SHIM_EXPORT void exit(int status)
{
	if (IN_CHILD)
		_exit(status);
	NEXT(exit)(status);
	__builtin_unreachable();
}

/* ---- signals ---- */
SHIM_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	if (!IN_CHILD)
		return NEXT(pthread_sigmask)(how, set, old);
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

SHIM_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (!IN_CHILD)
		return NEXT(sigprocmask)(how, set, old);
	int r = pthread_sigmask(how, set, old);
	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}

/* fork=all is the program's promise that each of its forks execs; the
 * programs it starts (a shell, pyenv's bash wrapper) make no such
 * promise. A rerouted child that execs with the process environment
 * (no envp, or envp == environ) passes it on without VFORKSHIM_FORK, so
 * they start in the default, sites. An explicit envp is the caller's
 * and is passed untouched: the shim never reads exec arguments before
 * the kernel does (a bad pointer must give EFAULT, not a crash). */
static char *const *pass_on(char *const *envp)
{
	if (!(cfg.enabled && cfg.fork == FORK_ALL) || (envp != environ && envp != G.env))
		return envp;
	if (unsetenv("VFORKSHIM_FORK") != 0) /* the guard's: a private copy */
		return envp;
	return G.env;
}

/* Just before execve: the environment to pass (pass_on); no handler
 * may run in our memory once signals flow, so handled ones go back to
 * SIG_DFL (exec would do that anyway) before the child's own mask is
 * applied. */
static char *const *before_exec(char *const *envp)
{
	envp = pass_on(envp);
	shim_child_reset_handlers(NULL);
	sigset_t m = G.want_mask;
	sigdelset(&m, SIGKILL);
	sigdelset(&m, SIGSTOP);
	shim_set_mask(&m);
	return envp;
}

/* The exec failed in a child whose site runs its language's code on
 * that path (fail_fork): run it in a real fork of this child, a private
 * copy of the memory as it is now, and mirror that process's end. The
 * parent stays suspended meanwhile; it waits for the error report of
 * such a child anyway. The copy gets what the child asked for: its
 * environment and its mask; handled signals stay at SIG_DFL. */
static void finish_in_real_fork(int e)
{
	/* An ignored SIGCHLD would reap the copy before we can read how it
	 * ended: default here, the program's own in the copy. */
	struct sigaction chld, dfl = { .sa_handler = SIG_DFL };
	sigaction(SIGCHLD, &dfl, &chld);
	pid_t pid = real.fork ? real.fork() : -1;
	if (pid == 0) {
		sigaction(SIGCHLD, &chld, NULL);
		shim_guard_nested_child();
		errno = e;
		return;
	}
	if (pid < 0)
		_exit(127); /* cannot run the failure path anywhere safe */
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		signal(sig, SIG_DFL);
		sigset_t all_but;
		sigfillset(&all_but);
		sigdelset(&all_but, sig);
		shim_set_mask(&all_but); /* only `sig` can end us, as it ended the copy */
		syscall(SYS_tgkill, syscall(SYS_getpid), syscall(SYS_gettid), sig);
		_exit(128 + sig);
	}
	_exit(WEXITSTATUS(st));
}

static int after_failed_exec(void)
{
	int e = errno;
	shim_block_all(NULL);
	if (G.fail_fork)
		finish_in_real_fork(e);
	errno = e;
	return -1;
}

/* ---- the exec family ---- */
SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	if (!IN_CHILD)
		return NEXT(execve)(path, argv, envp);
	envp = before_exec(envp);
	NEXT(execve)(path, argv, envp);
	return after_failed_exec();
}

SHIM_EXPORT int execv(const char *path, char *const argv[])
{
	if (!IN_CHILD)
		return NEXT(execv)(path, argv);
	return execve(path, argv, G.env ? G.env : environ);
}

SHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	if (!IN_CHILD)
		return NEXT(execvpe)(file, argv, envp);
	envp = before_exec(envp);
	if (G.env) /* the PATH the child set */
		shim_exec_search(file, argv, envp, child_path(), true);
	else
		NEXT(execvpe)(file, argv, envp);
	return after_failed_exec();
}

SHIM_EXPORT int execvp(const char *file, char *const argv[])
{
	if (!IN_CHILD)
		return NEXT(execvp)(file, argv);
	return execvpe(file, argv, G.env ? G.env : environ);
}

SHIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	if (!IN_CHILD)
		return NEXT(fexecve)(fd, argv, envp);
	envp = before_exec(envp);
	NEXT(fexecve)(fd, argv, envp);
	return after_failed_exec();
}

/* execl, execlp, execle: the argument list on this (the child's) stack */
#define COLLECT_ARGS(arg0, ap, argv, extra)                                \
	size_t argc_ = 1;                                                  \
	va_start(ap, arg0);                                                \
	while (va_arg(ap, char *))                                         \
		argc_++;                                                   \
	va_end(ap);                                                        \
	char *argv[argc_ + 1];                                             \
	argv[0] = (char *)arg0;                                            \
	va_start(ap, arg0);                                                \
	for (size_t i_ = 1; i_ <= argc_; i_++)                             \
		argv[i_] = va_arg(ap, char *);                             \
	extra;                                                             \
	va_end(ap)

SHIM_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv, (void)0);
	return execv(path, argv);
}

SHIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv, (void)0);
	return execvp(file, argv);
}

SHIM_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	char *const *envp;
	COLLECT_ARGS(arg, ap, argv, envp = va_arg(ap, char *const *));
	return execve(path, argv, envp);
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

SHIM_EXPORT int setuid(uid_t uid)
{
	if (!IN_CHILD)
		return NEXT(setuid)(uid);
	return creds(syscall(SHIM_SYS_setuid, uid));
}

SHIM_EXPORT int setgid(gid_t gid)
{
	if (!IN_CHILD)
		return NEXT(setgid)(gid);
	return creds(syscall(SHIM_SYS_setgid, gid));
}

SHIM_EXPORT int setresuid(uid_t r, uid_t e, uid_t s)
{
	if (!IN_CHILD)
		return NEXT(setresuid)(r, e, s);
	return creds(syscall(SHIM_SYS_setresuid, r, e, s));
}

SHIM_EXPORT int setresgid(gid_t r, gid_t e, gid_t s)
{
	if (!IN_CHILD)
		return NEXT(setresgid)(r, e, s);
	return creds(syscall(SHIM_SYS_setresgid, r, e, s));
}

SHIM_EXPORT int seteuid(uid_t e)
{
	return IN_CHILD ? setresuid((uid_t)-1, e, (uid_t)-1) : NEXT(seteuid)(e);
}

SHIM_EXPORT int setegid(gid_t e)
{
	return IN_CHILD ? setresgid((gid_t)-1, e, (gid_t)-1) : NEXT(setegid)(e);
}

SHIM_EXPORT int setreuid(uid_t r, uid_t e)
{
	if (!IN_CHILD)
		return NEXT(setreuid)(r, e);
	return creds(syscall(SHIM_SYS_setreuid, r, e));
}

SHIM_EXPORT int setregid(gid_t r, gid_t e)
{
	if (!IN_CHILD)
		return NEXT(setregid)(r, e);
	return creds(syscall(SHIM_SYS_setregid, r, e));
}

SHIM_EXPORT int setgroups(size_t n, const gid_t *list)
{
	if (!IN_CHILD)
		return NEXT(setgroups)(n, list);
	return creds(syscall(SHIM_SYS_setgroups, n, list));
}

/* ---- a real fork inside the child ---- */
void shim_guard_nested_child(void)
{
	/* An ordinary process with its own memory: the environment the
	 * child built becomes its environ, the mask it asked for its mask. */
	if (G.env)
		environ = G.env;
	sigset_t m = G.want_mask;
	G.active = 0;
	G.arena = NULL;
	shim_set_mask(&m);
}
