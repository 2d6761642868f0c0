/* The engine's start: the front (front/engine.c) loads it and calls
 * vforkshim_engine_attach, once, from its constructor.
 *
 * The next definition of every function the engine interposes or calls
 * through comes from the front, found from the front's place in the
 * loader's list as dlsym(RTLD_NEXT) would find it there; the engine,
 * loaded by dlopen, would find libc's and skip a second preloaded
 * library. Nothing is resolved later: a lookup inside fork() or inside a
 * rerouted child could wait on the loader's lock, which another thread
 * may hold while it runs a plugin's constructor (issue 15, #3). Then the
 * configuration is read. shim_init also runs from the interposers, in
 * case one is called first; the once makes it one start either way. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "fork/fork.h"
#include "spawn/spawn.h"
#include "audit/audit.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static char why_loaded[112];  /* the front's reason, for the debug log */

static const char *plain_getenv(const char *name)
{
	return real.getenv(name);
}

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
	shim_config_load(&cfg, plain_getenv);
	if (why_loaded[0])
		shim_log(LOG_DEBUG, "engine loaded: %s", why_loaded);
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
	shim_walk_init((uintptr_t)shim_fork_entry);
	shim_engine_prepare();
	if (cfg.audit_dir)
		shim_audit_start();
}

static void shim_init(void)
{
	pthread_once(&init_once, init_once_fn);
}

/* The engine's implementation of each call the front interposes */
static const struct shim_calls calls = {
#define ENGINE_CALL(ret, name, params, args) .name = engine_##name,
	SHIM_CALLS(ENGINE_CALL)
#undef ENGINE_CALL
	.exit = engine_exit,
	.execveat = engine_execveat,
#if !defined(__powerpc__)
	.libc_start_main = engine_libc_start_main,
#endif
};

__attribute__((visibility("default"))) const struct shim_calls *vforkshim_engine_attach(const struct shim_front *f)
{
	if (f->version != SHIM_API_VERSION || f->size != sizeof *f || f->calls_size != sizeof(struct shim_calls))
		return NULL;
	real = *f->next;
	shim_front_code_start = f->code_start;
	shim_front_code_end = f->code_end;
	size_t n = 0;
	for (; f->why && f->why[n] && n + 1 < sizeof why_loaded; n++)
		why_loaded[n] = f->why[n];
	why_loaded[n] = '\0';
	shim_init();
	return &calls;
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
