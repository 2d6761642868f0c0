/* Holds GIB GiB of touched memory, then spawns /bin/true COUNT times
 * through each method (or METHOD only) and prints "method ms-per-spawn"
 * lines. via_fork_exec is a function of its own, exported (-rdynamic):
 * the demo names it as a site, as a user would name theirs.
 * usage: spawn_cost [GIB [COUNT [METHOD]]] */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void via_system(void)
{
	if (system("/bin/true") != 0)
		abort();
}

static void via_popen(void)
{
	FILE *f = popen("/bin/true", "r");
	if (!f || pclose(f) != 0)
		abort();
}

static void via_posix_spawn(void)
{
	pid_t pid;
	int st;
	char *argv[] = { "true", NULL };
	if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) != pid || st != 0)
		abort();
}

__attribute__((noinline)) void via_fork_exec(void)
{
	int st;
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0)
		abort();
}

/* The method to run, by name; every method when none is given. */
int main(int argc, char **argv)
{
	size_t gib = argc > 1 ? strtoul(argv[1], NULL, 10) : 2;
	int count = argc > 2 ? atoi(argv[2]) : 20;
	const char *only = argc > 3 ? argv[3] : NULL;
	size_t size = gib << 30;
	char *mem = NULL;
	if (size) {
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		/* 4 KiB pages, as a runtime's heap mostly is: with huge pages
		 * the page tables (what fork copies) would be 512x smaller */
		madvise(mem, size, MADV_NOHUGEPAGE);
		memset(mem, 1, size);
	}
	static const struct { const char *name; void (*fn)(void); } m[] = {
		{ "system", via_system }, { "popen", via_popen },
		{ "posix_spawn", via_posix_spawn }, { "fork+exec", via_fork_exec },
	};
	int ran = 0;
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		if (only && strcmp(only, m[i].name) != 0)
			continue;
		m[i].fn(); /* warm-up */
		double t0 = now_ms();
		for (int k = 0; k < count; k++)
			m[i].fn();
		printf("%s %.3f\n", m[i].name, (now_ms() - t0) / count);
		ran++;
	}
	if (mem)
		munmap(mem, size);
	if (!ran)
		fprintf(stderr, "spawn_cost: no method '%s' (system, popen, posix_spawn, fork+exec)\n", only);
	return ran ? 0 : 2;
}
