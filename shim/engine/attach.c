/* Real symbols and one-time initialisation.
 *
 * The first call into the shim may come from another library's
 * constructor, before ours has run, so every interposer starts with
 * shim_init() (or REAL(), which calls it when a pointer is still
 * empty): a pthread_once that resolves the next definition of every
 * function the shim interposes or calls through, with
 * dlsym(RTLD_NEXT), then reads the configuration. Nothing is resolved
 * later: a dlsym inside fork() or inside a rerouted child would take
 * the loader's lock, which another thread may hold while it runs a
 * plugin's constructor (issue 15, #3). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

struct shim_real real;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void *need(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (!p) {
		/* Without the real function there is nothing safe to fall
		 * back to: this means a broken libc, not a configuration. */
		static const char pre[] = "vforkshim: fatal: no next definition of ";
		write(2, pre, sizeof pre - 1);
		write(2, name, strlen(name));
		write(2, "\n", 1);
		_exit(127);
	}
	return p;
}

/* getenv is called by our own start-up (the configuration) and may be
 * called before it by another library's constructor: resolved on its
 * own, without the once. */
char *(*shim_next_getenv(void))(const char *)
{
	char *(*f)(const char *) = __atomic_load_n(&real.getenv, __ATOMIC_ACQUIRE);
	if (!f) {
		f = (char *(*)(const char *))need("getenv");
		__atomic_store_n(&real.getenv, f, __ATOMIC_RELEASE);
	}
	return f;
}

static const char *plain_getenv(const char *name)
{
	return shim_next_getenv()(name);
}

#define NEED(fn) (real.fn = (__typeof__(real.fn))need(#fn))

/* What a recursive mutex held once by this thread looks like, for
 * loader.c to recognise the loader's own (its owner word aside). */
static void loader_reference(void)
{
	pthread_mutex_t m = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP; /* as ld.so's are */
	pthread_mutex_lock(&m);
	shim_loader_reference(&m);
	pthread_mutex_unlock(&m);
}

static void init_once_fn(void)
{
	shim_next_getenv();
	NEED(fork);
	NEED(system);
	NEED(popen);
	NEED(pclose);
	NEED(posix_spawn);
	NEED(posix_spawnp);
	NEED(exit);
	NEED(setenv);
	NEED(unsetenv);
	NEED(putenv);
	NEED(clearenv);
	NEED(secure_getenv);
	NEED(execve);
	NEED(execv);
	NEED(execvp);
	NEED(execvpe);
	NEED(fexecve);
	real.execveat = (__typeof__(real.execveat))dlsym(RTLD_NEXT, "execveat"); /* glibc >= 2.34 */
	NEED(pthread_sigmask);
	NEED(sigprocmask);
	NEED(setuid);
	NEED(setgid);
	NEED(seteuid);
	NEED(setegid);
	NEED(setreuid);
	NEED(setregid);
	NEED(setresuid);
	NEED(setresgid);
	NEED(setgroups);
	real.libc_start_main = (__typeof__(real.libc_start_main))need("__libc_start_main");

	shim_config_load(&cfg, plain_getenv);
	/* before any state is held: a copy must be able to tell (proc.c) */
	if (cfg.enabled && !shim_proc_init())
		pthread_atfork(NULL, NULL, shim_proc_renew);
	if (cfg.enabled)
		loader_reference();
	shim_live.enabled = cfg.enabled;
	shim_live.fork = (int32_t)cfg.fork;
	shim_live.spawn = (int32_t)cfg.spawn;
	if (!cfg.enabled || cfg.fork == FORK_OFF)
		return;
	/* VFORKSHIM_FORK=all is the program's own promise: nothing it
	 * starts inherits it, whatever environment it passes (issue 15,
	 * #9). Removed here, before main, so that the program's own copies
	 * of its environment (Java's System.getenv, say) lack it too; an
	 * exec in place (this pid: env, nice, valgrind's launcher, a
	 * wrapper script's exec) puts it back (guard_exec.c). */
	if (cfg.fork == FORK_ALL) {
		cfg.fork_all_pid = getpid();
		real.unsetenv("VFORKSHIM_FORK");
	}
	shim_sites_init();
	shim_walk_init();
	shim_engine_prepare();
	if (cfg.audit_dir)
		shim_audit_start();
}

void shim_init(void)
{
	pthread_once(&init_once, init_once_fn);
}

__attribute__((constructor)) static void shim_constructor(void)
{
	shim_init();
}

/* The stats line: printed once, by the process that counted, and only
 * if it made at least one call through the shim: VFORKSHIM_STATS is
 * inherited, and every exec'd descendant that spawns nothing (each
 * `sh -c` and `true`) would otherwise add a line of zeros. A rerouted
 * child never gets here (its exit and main's return are _exit), and
 * the child of a real fork owns no counts until it counts (log.c). */
__attribute__((destructor)) static void shim_destructor(void)
{
	static int printed;
	if (cfg.enabled && cfg.audit_dir)
		shim_audit_report();
	if (!cfg.enabled || !cfg.stats || __atomic_exchange_n(&printed, 1, __ATOMIC_ACQ_REL))
		return;
	if (!shim_stats_mine())
		return; /* counted nothing: the counts, if any, are a parent's */
	char line[1024];
	int n = shim_stats_format(line, sizeof line);
	if (n > 0)
		shim_write_log(line, (size_t)n);
}
