/* Real symbols and one-time initialisation.
 *
 * The first call into the shim may come from another library's
 * constructor, before ours has run, so every interposer starts with
 * shim_init(): a pthread_once that resolves the next definition of each
 * interposed function with dlsym(RTLD_NEXT) and then reads the
 * configuration. Resolution happens once, never inside a child. */
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

static const char *plain_getenv(const char *name)
{
	return getenv(name);
}

static void init_once_fn(void)
{
	real.fork = need("fork");
	real.system = need("system");
	real.popen = need("popen");
	real.pclose = need("pclose");
	real.posix_spawn = need("posix_spawn");
	real.posix_spawnp = need("posix_spawnp");
	shim_config_load(&cfg, plain_getenv);
	if (cfg.enabled && cfg.fork != FORK_OFF)
		shim_sites_init();
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
 * child never gets here (its exit is _exit), and the child of a real
 * fork owns no counts until it counts (log.c). */
__attribute__((destructor)) static void shim_destructor(void)
{
	static int printed;
	if (!cfg.enabled || !cfg.stats || __atomic_exchange_n(&printed, 1, __ATOMIC_ACQ_REL))
		return;
	if (!shim_stats_mine())
		return; /* counted nothing: the counts, if any, are a parent's */
	char line[1024];
	int n = shim_stats_format(line, sizeof line);
	if (n > 0)
		shim_write_log(line, (size_t)n);
}
