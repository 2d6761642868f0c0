/* burst GIB MS ROUNDS THREADS,... METHOD,...: holds GIB GiB of touched
 * memory; for each thread count, ROUNDS times, each method in turn
 * (rotating) runs a burst: that many threads spawn /bin/true (empty
 * environment) back to back for MS milliseconds. Meanwhile a sampler
 * thread reads /proc/meminfo every millisecond. Prints per thread
 * count and method:
 *   threads method spawns_per_s pagetables_peak_kib used_peak_kib
 * spawns per second is the median over rounds; the peaks are the
 * largest rise over the burst's start of the system's PageTables and of
 * its memory in use (MemTotal - MemAvailable), over all rounds. Then
 *   parent rss_kib hwm_kib pte_kib
 * the parent's VmRSS, VmHWM and VmPTE after every burst.
 * Methods:
 *   fork         the program's fork + execve: the shim's when preloaded
 *   libc_fork    libc's fork + execve
 *   posix_spawn  the program's posix_spawn
 *   libc_posix_spawn */
#include "bench.h"
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static pid_t (*libc_fork)(void);
static int (*libc_posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			       const posix_spawnattr_t *, char *const[], char *const[]);

static void via_fork(void) { bench_fork_exec(fork); }
static void via_libc_fork(void) { bench_fork_exec(libc_fork); }
static void via_posix_spawn(void)
{
	pid_t pid;
	bench_reap(posix_spawn(&pid, "/bin/true", NULL, NULL, bench_true_argv, bench_clean_env) ? -1 : pid);
}
static void via_libc_posix_spawn(void)
{
	pid_t pid;
	bench_reap(libc_posix_spawn(&pid, "/bin/true", NULL, NULL, bench_true_argv, bench_clean_env) ? -1 : pid);
}

static const struct bench_method methods[] = {
	{ "fork", via_fork },
	{ "libc_fork", via_libc_fork },
	{ "posix_spawn", via_posix_spawn },
	{ "libc_posix_spawn", via_libc_posix_spawn },
};
enum { NMETHODS = sizeof methods / sizeof *methods, MAXT = 64, MAXR = 64 };

/* One burst's shared state. */
static struct {
	void (*fn)(void);
	double deadline;
	atomic_long spawns;
	atomic_int running; /* spawning threads not yet done */
	long pt_base, used_base;
	long pt_peak, used_peak; /* sampler's maxima, kiB */
} b;

static void meminfo(long *pt, long *used)
{
	char buf[4096];
	long total = 0, avail = 0;
	FILE *f = fopen("/proc/meminfo", "r");
	*pt = *used = 0;
	if (!f)
		return;
	while (fgets(buf, sizeof buf, f)) {
		sscanf(buf, "MemTotal: %ld", &total);
		sscanf(buf, "MemAvailable: %ld", &avail);
		sscanf(buf, "PageTables: %ld", pt);
	}
	fclose(f);
	*used = total - avail;
}

static void *spawner(void *arg)
{
	(void)arg;
	while (now_ms() < b.deadline) {
		b.fn();
		atomic_fetch_add(&b.spawns, 1);
	}
	atomic_fetch_sub(&b.running, 1);
	return NULL;
}

static void *sampler(void *arg)
{
	(void)arg;
	const struct timespec ms = { 0, 1000000 };
	while (atomic_load(&b.running) > 0) {
		long pt, used;
		meminfo(&pt, &used);
		if (pt - b.pt_base > b.pt_peak)
			b.pt_peak = pt - b.pt_base;
		if (used - b.used_base > b.used_peak)
			b.used_peak = used - b.used_base;
		nanosleep(&ms, NULL);
	}
	return NULL;
}

/* One burst: returns spawns per second; raises b.pt_peak/used_peak. */
static double burst(const struct bench_method *m, int threads, double ms)
{
	pthread_t t[MAXT], s;
	b.fn = m->fn;
	atomic_store(&b.spawns, 0);
	atomic_store(&b.running, threads);
	meminfo(&b.pt_base, &b.used_base);
	double t0 = now_ms();
	b.deadline = t0 + ms;
	pthread_create(&s, NULL, sampler, NULL);
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, spawner, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	double elapsed = now_ms() - t0;
	pthread_join(s, NULL);
	return atomic_load(&b.spawns) * 1e3 / elapsed;
}

static long status_kib(const char *key)
{
	char buf[256];
	long v = -1;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(buf, sizeof buf, f))
		if (!strncmp(buf, key, n) && buf[n] == ':')
			v = atol(buf + n + 1);
	if (f)
		fclose(f);
	return v;
}

static int parse_list(const char *s, int *out, int max)
{
	int n = 0;
	for (const char *p = s; *p && n < max; p = strchr(p, ',') ? strchr(p, ',') + 1 : "")
		out[n++] = atoi(p);
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: burst GIB MS ROUNDS THREADS,... METHOD,...\n");
		return 2;
	}
	size_t gib = strtoul(argv[1], NULL, 10);
	double ms = atof(argv[2]);
	int rounds = atoi(argv[3]), threads[16], nt = parse_list(argv[4], threads, 16);
	if (ms <= 0 || rounds < 1 || rounds > MAXR)
		return 2;
	for (int i = 0; i < nt; i++)
		if (threads[i] < 1 || threads[i] > MAXT)
			return 2;
	libc_fork = libc_sym("fork");
	libc_posix_spawn = libc_sym("posix_spawn");
	const struct bench_method *m[NMETHODS];
	int n = bench_pick(argv[5], methods, NMETHODS, m);
	environ = bench_clean_env;
	hold_memory(gib);
	for (int k = 0; k < n; k++)
		m[k]->fn(); /* warm-up */

	for (int ti = 0; ti < nt; ti++) {
		double rate[NMETHODS][MAXR];
		long pt[NMETHODS] = { 0 }, used[NMETHODS] = { 0 };
		for (int r = 0; r < rounds; r++)
			for (int j = 0; j < n; j++) {
				int k = (r + j) % n;
				b.pt_peak = b.used_peak = 0;
				rate[k][r] = burst(m[k], threads[ti], ms);
				if (b.pt_peak > pt[k])
					pt[k] = b.pt_peak;
				if (b.used_peak > used[k])
					used[k] = b.used_peak;
			}
		for (int k = 0; k < n; k++) {
			qsort(rate[k], (size_t)rounds, sizeof(double), cmp_double);
			printf("%d %s %.1f %ld %ld\n", threads[ti], m[k]->name, rate[k][rounds / 2], pt[k], used[k]);
			fflush(stdout);
		}
	}
	printf("parent %ld %ld %ld\n", status_kib("VmRSS"), status_kib("VmHWM"), status_kib("VmPTE"));
	return 0;
}
