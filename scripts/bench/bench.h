/* Shared by the benchmark programs of scripts/bench/: timing, holding
 * memory, percentiles, libc's own symbols. Header-only: each program is
 * one translation unit. */
#ifndef VFORKSHIM_BENCH_H
#define VFORKSHIM_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Linux 5.14; older kernel headers (bullseye's) lack the name, and an
 * older kernel says EINVAL, which the memset below makes up for. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Holds gib GiB of anonymous memory, every 4 KiB page present and
 * written: a runtime's heap. Transparent huge pages are refused for it,
 * since they would shrink the page tables a fork copies 512-fold and
 * hide the cost this library removes. MADV_POPULATE_WRITE allocates
 * the pages in one call (a fault per page costs several µs on a VM:
 * minutes for 16 GiB); the memset then only writes. Exits on failure. */
static inline void *hold_memory(size_t gib)
{
	if (!gib)
		return NULL;
	size_t size = gib << 30;
	char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("bench: mmap");
		exit(1);
	}
	madvise(mem, size, MADV_NOHUGEPAGE);
	madvise(mem, size, MADV_POPULATE_WRITE);
	memset(mem, 1, size);
	return mem;
}

/* Every spawned /bin/true gets an empty environment, so that it does
 * not load the shim (LD_PRELOAD) and the figure is the spawn's own
 * cost; what a preloaded child adds is measured apart (overhead.sh). */
static char *bench_clean_env[] = { NULL };
static char *const bench_true_argv[] = { "true", NULL };

/* Waits for pid; ends the benchmark unless the child exited 0. */
static inline void bench_reap(pid_t pid)
{
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0) {
		fprintf(stderr, "bench: child %d failed\n", (int)pid);
		exit(1);
	}
}

/* f() (a fork), the child execs /bin/true; then reaped. */
static inline void bench_fork_exec(pid_t (*f)(void))
{
	pid_t pid = f();
	if (pid == 0) {
		execve("/bin/true", bench_true_argv, bench_clean_env);
		_exit(127);
	}
	bench_reap(pid);
}

/* libc's own definition of name, never an interposer's: looked up in
 * libc.so.6 itself. Exits when absent. */
static inline void *libc_sym(const char *name)
{
	static void *libc;
	if (!libc)
		libc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_NOW);
	void *p = libc ? dlsym(libc, name) : NULL;
	if (!p) {
		fprintf(stderr, "bench: libc.so.6 has no %s\n", name);
		exit(2);
	}
	return p;
}

struct bench_method {
	const char *name;
	void (*fn)(void);
};

/* The methods named in the comma list `want`, in its order, into out
 * (room for nall); their number. Ends the benchmark on an unknown name
 * or a list longer than nall. */
static inline int bench_pick(const char *want, const struct bench_method *all, int nall,
			     const struct bench_method **out)
{
	int n = 0;
	char *list = strdup(want), *save = NULL;
	for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int k = 0;
		while (k < nall && strcmp(all[k].name, w) != 0)
			k++;
		if (k == nall || n == nall) {
			fprintf(stderr, "bench: unknown or repeated method %s\n", w);
			exit(2);
		}
		out[n++] = &all[k];
	}
	free(list);
	return n;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorts t[0..n) and prints "name median p99" (ms). */
static inline void print_percentiles(const char *name, double *t, int n)
{
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	int p99 = (int)(n * 0.99);
	printf("%s %.4f %.4f\n", name, t[n / 2], t[p99 >= n ? n - 1 : p99]);
}

#endif
