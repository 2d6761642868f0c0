/* The exec family in the child of a rerouted fork.
 *
 * The program an exec starts must see what it would after fork+exec:
 *   - the environment the child built: its own setenv copy when it
 *     execs with the environment it copied from (guard_env.c);
 *   - its signal dispositions as exec leaves them: every handled
 *     signal at SIG_DFL, libc's internal ones (32, 33) included, ignored
 *     ones ignored (exec resets handlers; it keeps SIG_IGN);
 *   - the mask the child asked for (guard.c records it), applied only
 *     now, once no handler of the parent's can run in shared memory;
 *     blocked again if the exec fails.
 * Every exec entry point is interposed, execveat included (glibc 2.34
 * and later export it). A raw syscall(SYS_execve) or an inline syscall
 * bypasses all of this: the program then starts with every signal
 * blocked (README, limits).
 *
 * Outside a rerouted child each function goes to libc, with one change
 * under fork=all (in_place below). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fork.h"
#include "lockfree.h"

extern char **environ;
#define G shim_guard

/* fork=all holds for the process that read it (attach.c removed it
 * from the environment) and for what that process execs in place: an
 * exec from that very pid, not from one of its children, passes
 * VFORKSHIM_FORK=all on, after the environment it asked for (an entry
 * of its own of the same name comes first and wins). A caller's envp is
 * read with process_vm_readv, so that a bad one still gets the kernel's
 * EFAULT and not a crash here; the copy is mmap'd, not malloc'd: after
 * a fork of a threaded program only async-signal-safe calls are
 * allowed. Whatever fails, the envp goes on as it was. */
struct in_place {
	char **env;
	size_t size;
};

static bool read_ptrs(char *const *from, char **to, size_t n)
{
	return shim_read_memory(to, from, n * sizeof *to);
}

static char *const *in_place(char *const *envp, struct in_place *ip)
{
	ip->env = NULL;
	if (!cfg.fork_all_pid || getpid() != cfg.fork_all_pid)
		return envp;
	bool ours = envp == environ; /* valid by definition: read directly */
	size_t n = 0;
	char *chunk[256];
	for (bool end = !envp; !end;) {
		if (ours) {
			end = !envp[n];
			n += !end;
			continue;
		}
		if (!read_ptrs(envp + n, chunk, 256) && !read_ptrs(envp + n, chunk, 1))
			return envp;
		for (size_t i = 0; i < 256 && !end; i++) {
			end = !chunk[i];
			n += !end;
		}
	}
	size_t size = (n + 2) * sizeof(char *);
	char **env = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (env == MAP_FAILED)
		return envp;
	if (ours) {
		for (size_t i = 0; i < n; i++)
			env[i] = envp[i];
	} else if (n && !read_ptrs(envp, env, n)) {
		munmap(env, size);
		return envp;
	}
	env[n] = (char *)"VFORKSHIM_FORK=all";
	env[n + 1] = NULL;
	ip->env = env;
	ip->size = size;
	return env;
}

static int done(int r, struct in_place *ip)
{
	if (ip->env) {
		int e = errno;
		munmap(ip->env, ip->size);
		errno = e;
	}
	return r;
}

/* Just before execve: the environment to pass; handled signals to
 * SIG_DFL (exec would do that anyway, but no handler may run in our
 * memory once signals flow); then the child's own mask. */
static char *const *before_exec(char *const *envp)
{
	envp = shim_guard_exec_env(envp);
	shim_child_reset_handlers(NULL, false);
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
	pid_t pid = real.fork();
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

int engine_execve(const char *path, char *const argv[], char *const envp[])
{
	if (!SHIM_IN_CHILD) {
		struct in_place ip;
		int (*next)(const char *, char *const[], char *const[]) = real.execve;
		return SHIM_AUDIT_EXEC("execve", done(next(path, argv, in_place(shim_guard_envp(envp), &ip)), &ip));
	}
	envp = before_exec(envp);
	real.execve(path, argv, envp);
	return after_failed_exec();
}

int engine_execv(const char *path, char *const argv[])
{
	if (!SHIM_IN_CHILD && !cfg.fork_all_pid)
		return SHIM_AUDIT_EXEC("execv", real.execv(path, argv));
	return engine_execve(path, argv, environ);
}

int engine_execvpe(const char *file, char *const argv[], char *const envp[])
{
	if (!SHIM_IN_CHILD) {
		struct in_place ip;
		int (*next)(const char *, char *const[], char *const[]) = real.execvpe;
		return SHIM_AUDIT_EXEC("execvpe", done(next(file, argv, in_place(shim_guard_envp(envp), &ip)), &ip));
	}
	/* the PATH searched is the calling environment's, as glibc's */
	bool own_path = (G.env && G.env_base == shim_guard_environ()) || G.environ_as;
	const char *path = own_path ? shim_guard_path() : NULL;
	envp = before_exec(envp);
	if (own_path)
		shim_exec_search(file, argv, envp, path, true);
	else
		real.execvpe(file, argv, envp);
	return after_failed_exec();
}

int engine_execvp(const char *file, char *const argv[])
{
	if (!SHIM_IN_CHILD && !cfg.fork_all_pid)
		return SHIM_AUDIT_EXEC("execvp", real.execvp(file, argv));
	return engine_execvpe(file, argv, environ);
}

int engine_fexecve(int fd, char *const argv[], char *const envp[])
{
	if (!SHIM_IN_CHILD) {
		struct in_place ip;
		int (*next)(int, char *const[], char *const[]) = real.fexecve;
		return SHIM_AUDIT_EXEC("fexecve", done(next(fd, argv, in_place(shim_guard_envp(envp), &ip)), &ip));
	}
	envp = before_exec(envp);
	real.fexecve(fd, argv, envp);
	return after_failed_exec();
}

static int sys_execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	if (real.execveat)
		return real.execveat(dirfd, path, argv, envp, flags);
#ifdef SYS_execveat
	return (int)syscall(SYS_execveat, dirfd, path, argv, envp, flags);
#else
	errno = ENOSYS;
	return -1;
#endif
}

int engine_execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	if (!SHIM_IN_CHILD) {
		struct in_place ip;
		return SHIM_AUDIT_EXEC("execveat", done(sys_execveat(dirfd, path, argv, in_place(shim_guard_envp(envp), &ip), flags), &ip));
	}
	envp = before_exec(envp);
	sys_execveat(dirfd, path, argv, envp, flags);
	return after_failed_exec();
}
