/* Concurrency torture: rerouted children while the rest of the process
 * does everything that could see them or trip on them.
 *
 *   torture SPAWNS PLUGIN
 *
 * Four spawner threads each spawn SPAWNS children through the user site
 * torture_spawn (tests/concurrency.sh names it), every third one with
 * an explicit environment, every third with environ passed by hand;
 * each child's output is read back and checked. (A child of a real
 * fork in a threaded process may only make async-signal-safe calls, so
 * no setenv in these children: the run without the shim must hold.) Meanwhile, until the
 * spawners are done:
 *   - two threads setenv names of their own and read them back (values
 *     only: glibc 2.36's getenv is not safe against a setenv that grows
 *     the array in another thread, shim or not; env_race covers that);
 *   - a thread reads HOME and a variable only children have: it must
 *     always see the parent's environment;
 *   - a thread dlopens and dlcloses PLUGIN (the loader's lock);
 *   - a thread churns malloc, one calls localtime (tzset reads TZ from
 *     environ), one calls getaddrinfo for localhost;
 *   - SIGALRM fires every 2 ms on the main thread, whose handler looks
 *     at environ (a handler that forks is tests/progs/signal_fork and
 *     tests/embed/perl_alarm.pl: fork is not async-signal-safe in a
 *     threaded process, shim or not).
 * Prints one line per property, the same with and without the shim. */
#include <dlfcn.h>
#include <fcntl.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int spawns;
static const char *plugin;
static volatile int done;
static char **start_environ;
static volatile int handled, handler_saw_other_environ;
static int bad_output, env_anomalies, setter_mismatch, churn_runs[5];

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		abort();
	return p;
}

/* ---- the site: fork, child execs `echo TAG`, output read back ---- */
__attribute__((noinline)) int torture_spawn(int kind, const char *tag, char *out, size_t cap)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	static char *const env_only[] = { "PATH=/usr/bin:/bin", "TORTURE_CHILD=explicit", NULL };
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		char *argv[] = { "sh", "-c", "echo \"$0 ${TORTURE_CHILD:-none}\"", (char *)tag, NULL };
		if (kind == 1) {
			execve("/bin/sh", argv, env_only);
		} else if (kind == 2) {
			execve("/bin/sh", argv, environ);
		} else {
			execv("/bin/sh", argv);
		}
		_exit(127);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (pid > 0 && n + 1 < cap && ((r = read(p[0], out + n, cap - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
		n += r > 0 ? (size_t)r : 0;
	out[n] = '\0';
	close(p[0]);
	int st = -1;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return pid < 0 ? -1 : st;
}

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static void *spawner(void *arg)
{
	long id = (long)arg;
	char tag[32], out[128], want[128];
	int bad = 0;
	for (int i = 0; i < spawns; i++) {
		int kind = i % 3;
		snprintf(tag, sizeof tag, "s%ld.%d", id, i);
		snprintf(want, sizeof want, "%s %s\n", tag, kind == 1 ? "explicit" : "none");
		if (torture_spawn(kind, tag, out, sizeof out) != 0 || strcmp(out, want) != 0)
			bad++;
	}
	pthread_mutex_lock(&count_lock);
	bad_output += bad;
	pthread_mutex_unlock(&count_lock);
	return NULL;
}

/* ---- the rest of the process ---- */
static void *setter(void *arg)
{
	long id = (long)arg;
	char name[32], value[32];
	int mismatch = 0;
	for (int i = 0; !done; i++) {
		snprintf(name, sizeof name, "TORTURE_%ld_%d", id, i % 64);
		/* glibc keeps every distinct value ever set: a bounded set */
		snprintf(value, sizeof value, "%d", i % 1000);
		setenv(name, value, 1);
		const char *got = getenv(name);
		mismatch += !got || strcmp(got, value) != 0;
	}
	__atomic_add_fetch(&setter_mismatch, mismatch, __ATOMIC_RELAXED);
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	int bad = 0;
	while (!done)
		bad += getenv("TORTURE_CHILD") != NULL || getenv("HOME") == NULL;
	env_anomalies = bad;
	return NULL;
}

static void *loader(void *arg)
{
	(void)arg;
	while (!done) {
		void *h = dlopen(plugin, RTLD_NOW | RTLD_LOCAL);
		if (h)
			dlclose(h);
		churn_runs[0]++;
	}
	return NULL;
}

static void *churn(void *arg)
{
	long what = (long)arg;
	while (!done) {
		if (what == 1) {
			void *p[64];
			for (int i = 0; i < 64; i++)
				p[i] = xmalloc((size_t)(16 << (i % 10)));
			for (int i = 0; i < 64; i++)
				free(p[i]);
		} else if (what == 2) {
			time_t t = time(NULL);
			if (!localtime(&t))
				abort();
		} else {
			struct addrinfo *ai = NULL, hints = { .ai_socktype = SOCK_STREAM };
			if (getaddrinfo("localhost", "80", &hints, &ai) == 0)
				freeaddrinfo(ai);
			usleep(1000);
		}
		churn_runs[what]++;
	}
	return NULL;
}

/* No new name is set once the threads run, so environ never moves:
 * the handler must always find the array it started with. */
static void on_alarm(int sig)
{
	(void)sig;
	if (environ != start_environ)
		handler_saw_other_environ++;
	handled++;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: torture SPAWNS PLUGIN\n");
		return 2;
	}
	spawns = atoi(argv[1]);
	plugin = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int id = 1; id <= 2; id++) /* the names exist before any reader */
		for (int k = 0; k < 64; k++) {
			char name[32];
			snprintf(name, sizeof name, "TORTURE_%d_%d", id, k);
			setenv(name, "0", 1);
		}
	start_environ = environ;
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	sigaction(SIGALRM, &sa, NULL);

	/* the helpers block SIGALRM: the main thread takes it */
	sigset_t alrm, old;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, &old);
	pthread_t helpers[8], spawners[4];
	pthread_create(&helpers[0], NULL, setter, (void *)1L);
	pthread_create(&helpers[1], NULL, setter, (void *)2L);
	pthread_create(&helpers[2], NULL, reader, NULL);
	pthread_create(&helpers[3], NULL, loader, NULL);
	pthread_create(&helpers[4], NULL, churn, (void *)1L);
	pthread_create(&helpers[5], NULL, churn, (void *)2L);
	pthread_create(&helpers[6], NULL, churn, (void *)3L);
	for (long i = 0; i < 4; i++)
		pthread_create(&spawners[i], NULL, spawner, (void *)i);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	struct itimerval t = { { 0, 2000 }, { 0, 2000 } };
	setitimer(ITIMER_REAL, &t, NULL);
	for (int i = 0; i < 4; i++)
		while (pthread_join(spawners[i], NULL) == EINTR)
			;
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	done = 1;
	for (int i = 0; i < 7; i++)
		pthread_join(helpers[i], NULL);

	printf("spawners: 4 x %d children, every output and status right: %s\n", spawns, bad_output ? "no" : "yes");
	printf("the environment readers saw only the parent's environment: %s\n", env_anomalies ? "no" : "yes");
	printf("the setenv threads read back their own values: %s\n", setter_mismatch ? "no" : "yes");
	printf("the signal handler ran and always found the parent's environ: %s\n",
	       handled > 0 && !handler_saw_other_environ ? "yes" : "no");
	printf("dlopen/dlclose, malloc, localtime and getaddrinfo ran throughout: %s\n",
	       churn_runs[0] && churn_runs[1] && churn_runs[2] && churn_runs[3] ? "yes" : "no");
	printf("the parent's environment holds no child's variable: %s\n", getenv("TORTURE_CHILD") ? "no" : "yes");
	fprintf(stderr, "torture: %d signals handled, %d dlopen rounds\n", handled, churn_runs[0]);
	return 0;
}
