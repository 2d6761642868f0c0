/* spawn_cost GIB COUNT [METHOD,...]: holds GIB GiB of touched memory,
 * then spawns /bin/true COUNT times by each method, interleaved (one of
 * each per round, the order rotating) so that a noisy machine slows all
 * methods alike. Prints, per method, "name median_ms p99_ms".
 *
 * A method named after a function calls the program's own symbol: the
 * shim's when the shim is preloaded, libc's otherwise. libc_* calls
 * libc's definition looked up in libc.so.6, never the shim's, so one
 * preloaded process measures both side by side.
 *   fork, libc_fork            fork + execve + waitpid
 *   vfork                      libc's vfork + execve: the floor
 *   posix_spawn, libc_posix_spawn
 *   system, libc_system        system("/bin/true")
 *   popen, libc_popen          popen("/bin/true", "r"), read to EOF, pclose
 *   fork_exit, libc_fork_exit  fork, the child _exits at once: a fork
 *                              that is not exec-bound
 *   inherit                    posix_spawn with the environment the
 *                              program was started with: the child loads
 *                              whatever LD_PRELOAD says
 * Every other method's child gets an empty environment (environ is
 * emptied at start): see bench.h. */
#include "bench.h"
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static char **start_env;

static pid_t (*libc_fork)(void);
static int (*libc_posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			       const posix_spawnattr_t *, char *const[], char *const[]);
static int (*libc_system)(const char *);
static FILE *(*libc_popen)(const char *, const char *);
static int (*libc_pclose)(FILE *);

static void via_fork(void) { bench_fork_exec(fork); }
static void via_libc_fork(void) { bench_fork_exec(libc_fork); }

/* vfork's child must not return from the function that called vfork:
 * no helper here */
static void via_vfork(void)
{
	pid_t pid = vfork();
	if (pid == 0) {
		execve("/bin/true", bench_true_argv, bench_clean_env);
		_exit(127);
	}
	bench_reap(pid);
}

static void fork_exit(pid_t (*f)(void))
{
	pid_t pid = f();
	if (pid == 0)
		_exit(0);
	bench_reap(pid);
}

static void via_fork_exit(void) { fork_exit(fork); }
static void via_libc_fork_exit(void) { fork_exit(libc_fork); }

static void spawn_with(int (*f)(pid_t *, const char *, const posix_spawn_file_actions_t *,
				const posix_spawnattr_t *, char *const[], char *const[]),
		       char **envp)
{
	pid_t pid;
	if (f(&pid, "/bin/true", NULL, NULL, bench_true_argv, envp) != 0)
		pid = -1;
	bench_reap(pid);
}

static void via_posix_spawn(void) { spawn_with(posix_spawn, bench_clean_env); }
static void via_libc_posix_spawn(void) { spawn_with(libc_posix_spawn, bench_clean_env); }
static void via_inherit(void) { spawn_with(posix_spawn, start_env); }

static void system_with(int (*f)(const char *))
{
	if (f("/bin/true") != 0) {
		fprintf(stderr, "spawn_cost: system failed\n");
		exit(1);
	}
}

static void via_system(void) { system_with(system); }
static void via_libc_system(void) { system_with(libc_system); }

static void popen_with(FILE *(*open)(const char *, const char *), int (*close)(FILE *))
{
	FILE *f = open("/bin/true", "r");
	char buf[64];
	if (!f) {
		perror("spawn_cost: popen");
		exit(1);
	}
	while (fread(buf, 1, sizeof buf, f) > 0)
		;
	if (close(f) != 0) {
		fprintf(stderr, "spawn_cost: pclose failed\n");
		exit(1);
	}
}

static void via_popen(void) { popen_with(popen, pclose); }
static void via_libc_popen(void) { popen_with(libc_popen, libc_pclose); }

static const struct bench_method methods[] = {
	{ "fork", via_fork },
	{ "libc_fork", via_libc_fork },
	{ "vfork", via_vfork },
	{ "posix_spawn", via_posix_spawn },
	{ "libc_posix_spawn", via_libc_posix_spawn },
	{ "system", via_system },
	{ "libc_system", via_libc_system },
	{ "popen", via_popen },
	{ "libc_popen", via_libc_popen },
	{ "fork_exit", via_fork_exit },
	{ "libc_fork_exit", via_libc_fork_exit },
	{ "inherit", via_inherit },
};
enum { NMETHODS = sizeof methods / sizeof *methods };

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: spawn_cost GIB COUNT [METHOD,...]\n");
		return 2;
	}
	size_t gib = strtoul(argv[1], NULL, 10);
	int count = atoi(argv[2]);
	const char *want = argc > 3 ? argv[3] : "fork,libc_fork,vfork,posix_spawn,libc_posix_spawn,"
						"system,libc_system,popen,libc_popen";
	if (count < 1)
		return 2;
	libc_fork = libc_sym("fork");
	libc_posix_spawn = libc_sym("posix_spawn");
	libc_system = libc_sym("system");
	libc_popen = libc_sym("popen");
	libc_pclose = libc_sym("pclose");

	const struct bench_method *m[NMETHODS];
	int n = bench_pick(want, methods, NMETHODS, m);
	start_env = environ;
	environ = bench_clean_env;
	hold_memory(gib);

	double *t[NMETHODS];
	for (int k = 0; k < n; k++) {
		t[k] = calloc((size_t)count, sizeof(double));
		m[k]->fn(); /* warm-up */
	}
	for (int i = 0; i < count; i++)
		for (int j = 0; j < n; j++) {
			int k = (i + j) % n;
			double t0 = now_ms();
			m[k]->fn();
			t[k][i] = now_ms() - t0;
		}
	for (int k = 0; k < n; k++)
		print_percentiles(m[k]->name, t[k], count);
	return 0;
}
