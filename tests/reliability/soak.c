/* soak GIB SPAWNS [SPAWNERS [CHURNERS [HZ]]]: a process holding GIB GiB
 * of touched memory in which SPAWNERS threads (default 8) spawn SPAWNS
 * children in all, through each path in turn:
 *   0 fork + exec of /bin/echo, stdout on a pipe   (rerouted: fork=all)
 *   1 system("exit K")                             (the engine: spawn=always)
 *   2 popen("echo TOKEN", "r")
 *   3 posix_spawn of /bin/echo with dup2/close file actions
 * while CHURNERS threads (default 4) malloc and free, and a timer
 * delivers SIGUSR1 at HZ per second (default 5000). Every child's output
 * and status is checked. Afterwards the process must have the same open
 * descriptors as before, no child left to reap, and an RSS within 64 MiB
 * of where it started. Prints one line of figures, per path counts
 * included (the runner checks them against the stats line), and exits
 * non-zero on any failure. The runner bounds it with a watchdog. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long total;
static atomic_long next, failures, done[4];
static atomic_int stop_churn;
static volatile sig_atomic_t ticks;

static void fail(long i, const char *what, const char *detail)
{
	if (atomic_fetch_add(&failures, 1) < 20)
		fprintf(stderr, "soak: spawn %ld: %s%s%s\n", i, what, detail ? ": " : "", detail ? detail : "");
}

static void on_tick(int sig)
{
	int e = errno;
	(void)sig;
	ticks++;
	errno = e;
}

/* Reads fd to EOF into buf (NUL-terminated, truncated); closes it. */
static void read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n > 0 && len + (size_t)n < cap - 1) {
			len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0)
			len += (size_t)n;
		if (n != 0 && len < cap - 1)
			break; /* error */
		if (n == 0 || len >= cap - 1)
			break;
	}
	buf[len] = '\0';
	close(fd);
}

static int reap(pid_t pid)
{
	int st;
	pid_t r;
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	return r == pid ? st : -1;
}

static void check_output(long i, const char *got, const char *token)
{
	char want[64];
	snprintf(want, sizeof want, "%s\n", token);
	if (strcmp(got, want) != 0)
		fail(i, "wrong output", got);
}

/* After a spawn whose stdout is the pipe p: err is the spawn's error
 * (0: pid runs). Reads the output, checks it and the child's status. */
static void finish(long i, const char *what, int err, pid_t pid, int p[2], const char *token)
{
	close(p[1]);
	if (err) {
		close(p[0]);
		return fail(i, what, strerror(err));
	}
	char buf[128];
	read_all(p[0], buf, sizeof buf);
	check_output(i, buf, token);
	if (reap(pid) != 0)
		fail(i, what, "child status");
}

static void via_fork(long i, const char *token)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return fail(i, "pipe", strerror(errno));
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl("/bin/echo", "echo", token, (char *)NULL);
		_exit(127);
	}
	finish(i, "fork", pid < 0 ? errno : 0, pid, p, token);
}

static void via_system(long i)
{
	char cmd[32];
	int k = (int)(i % 100);
	snprintf(cmd, sizeof cmd, "exit %d", k);
	int st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != k)
		fail(i, "system: wrong status", NULL);
}

static void via_popen(long i, const char *token)
{
	char cmd[80], buf[128] = "";
	snprintf(cmd, sizeof cmd, "echo %s", token);
	FILE *f = popen(cmd, "re");
	if (!f)
		return fail(i, "popen", strerror(errno));
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	check_output(i, buf, token);
	if (pclose(f) != 0)
		fail(i, "pclose", "child status");
}

static void via_posix_spawn(long i, const char *token)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return fail(i, "pipe", strerror(errno));
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	char *argv[] = { "echo", (char *)token, NULL };
	pid_t pid;
	int err = posix_spawn(&pid, "/bin/echo", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	finish(i, "posix_spawn", err, pid, p, token);
}

static void *spawner(void *arg)
{
	(void)arg;
	long i;
	while ((i = atomic_fetch_add(&next, 1)) < total) {
		char token[32];
		snprintf(token, sizeof token, "t%ld", i);
		switch (i % 4) {
		case 0: via_fork(i, token); break;
		case 1: via_system(i); break;
		case 2: via_popen(i, token); break;
		case 3: via_posix_spawn(i, token); break;
		}
		atomic_fetch_add(&done[i % 4], 1);
	}
	return NULL;
}

static void *churner(void *arg)
{
	unsigned seed = (unsigned)(unsigned long)arg;
	void *slot[64] = { 0 };
	while (!atomic_load(&stop_churn)) {
		int k = rand_r(&seed) % 64;
		free(slot[k]);
		slot[k] = malloc((size_t)(rand_r(&seed) % 65536) + 16);
		if (slot[k])
			memset(slot[k], k, 16);
	}
	for (int k = 0; k < 64; k++)
		free(slot[k]);
	return NULL;
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n - 1; /* the directory's own */
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f && fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	if (f)
		fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	size_t gib = strtoul(argv[1], NULL, 10);
	total = atol(argv[2]);
	int spawners = argc > 3 ? atoi(argv[3]) : 8, churners = argc > 4 ? atoi(argv[4]) : 4;
	long hz = argc > 5 ? atol(argv[5]) : 5000;
	if (total < 1 || spawners < 1 || spawners > 64 || churners < 0 || churners > 64 || hz < 0)
		return 2;
	if (gib) {
		size_t size = gib << 30;
		char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED)
			return perror("mmap"), 1;
		memset(mem, 1, size);
	}
	struct sigaction sa = { .sa_handler = on_tick, .sa_flags = SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);
	timer_t timer;
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	if (hz && timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0)
		return perror("timer_create"), 1;

	int fds_before = count_fds();
	long rss_before = rss_kib();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (hz) {
		long ns = 1000000000L / hz;
		struct itimerspec its = { { ns / 1000000000L, ns % 1000000000L }, { ns / 1000000000L, ns % 1000000000L } };
		timer_settime(timer, 0, &its, NULL);
	}
	pthread_t s[64], c[64];
	for (int k = 0; k < churners; k++)
		pthread_create(&c[k], NULL, churner, (void *)(unsigned long)(k + 1));
	for (int k = 0; k < spawners; k++)
		pthread_create(&s[k], NULL, spawner, NULL);
	for (int k = 0; k < spawners; k++)
		pthread_join(s[k], NULL);
	atomic_store(&stop_churn, 1);
	for (int k = 0; k < churners; k++)
		pthread_join(c[k], NULL);
	if (hz)
		timer_delete(timer);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	int fds_after = count_fds();
	long rss_after = rss_kib();
	int zombies = 0;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		zombies++;
	if (errno != ECHILD && zombies == 0 && waitpid(-1, NULL, WNOHANG) == 0)
		zombies = -1; /* a child still running */
	double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("soak spawns=%ld fork=%ld system=%ld popen=%ld posix_spawn=%ld failures=%ld "
	       "fds_before=%d fds_after=%d leftover_children=%d rss_before_kib=%ld rss_after_kib=%ld "
	       "signals=%ld seconds=%.1f\n",
	       total, atomic_load(&done[0]), atomic_load(&done[1]), atomic_load(&done[2]),
	       atomic_load(&done[3]), atomic_load(&failures), fds_before, fds_after, zombies,
	       rss_before, rss_after, (long)ticks, secs);
	int ok = atomic_load(&failures) == 0 && fds_after == fds_before && zombies == 0 &&
		 rss_after - rss_before < 64 * 1024;
	return ok ? 0 : 1;
}
