/* fork_cost GIB COUNT: holds GIB GiB of touched 4 KiB pages, then spawns
 * /bin/true COUNT times by each method, interleaved (one of each per
 * round) so that a noisy machine slows all methods alike. Prints, per
 * method, "name median_ms p99_ms".
 *   fork     the program's fork(): the shim's when preloaded (rerouted
 *            with VFORKSHIM_FORK=all, declined with =sites: no site in
 *            main), else libc's
 *   libc     libc's own fork, looked up in libc.so.6: never the shim's
 *   vfork    libc's vfork+exec: the floor
 * The child execs with an empty environment (clean_env below). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t (*libc_fork)(void);
/* The child's environment: empty, so that /bin/true does not load the
 * shim (LD_PRELOAD) and the figures are the spawn's own cost. What a
 * preloaded child adds is measured apart (scripts/bench/fork.sh). */
static char *clean_env[] = { NULL };

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void reap(pid_t pid)
{
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0)
		abort();
}

static void fork_exec(pid_t (*f)(void))
{
	pid_t pid = f();
	if (pid == 0) {
		execle("/bin/true", "true", (char *)NULL, clean_env);
		_exit(127);
	}
	reap(pid);
}

static void via_fork(void) { fork_exec(fork); } /* the shim's, when preloaded */
static void via_libc(void) { fork_exec(libc_fork); }

/* vfork's child must not return from the function that called vfork:
 * no helper here */
static void via_vfork(void)
{
	pid_t pid = vfork();
	if (pid == 0) {
		execle("/bin/true", "true", (char *)NULL, clean_env);
		_exit(127);
	}
	reap(pid);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t gib = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
	int count = argc > 2 ? atoi(argv[2]) : 50;
	void *libc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_NOW);
	libc_fork = libc ? (pid_t(*)(void))dlsym(libc, "fork") : NULL;
	if (!libc_fork || count < 1)
		return 2;
	if (gib) {
		size_t size = gib << 30;
		char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		madvise(mem, size, MADV_NOHUGEPAGE); /* a runtime's heap: 4 KiB pages */
		memset(mem, 1, size);
	}
	static const struct { const char *name; void (*fn)(void); } m[] = {
		{ "fork", via_fork }, { "libc", via_libc }, { "vfork", via_vfork },
	};
	enum { N = sizeof m / sizeof *m };
	double *t[N];
	for (int k = 0; k < N; k++) {
		t[k] = calloc((size_t)count, sizeof(double));
		m[k].fn(); /* warm-up */
	}
	for (int i = 0; i < count; i++)
		for (int j = 0; j < N; j++) {
			int k = (i + j) % N; /* rotate the order too */
			double t0 = now_ms();
			m[k].fn();
			t[k][i] = now_ms() - t0;
		}
	for (int k = 0; k < N; k++) {
		qsort(t[k], (size_t)count, sizeof(double), cmp);
		int p99 = (int)(count * 0.99);
		printf("%s %.4f %.4f\n", m[k].name, t[k][count / 2], t[k][p99 >= count ? count - 1 : p99]);
	}
	return 0;
}
