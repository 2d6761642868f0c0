/* The environment of a process whose fork is rerouted, with other
 * threads at work. Built with -rdynamic: the spawn_* functions are the
 * user sites of tests/concurrency.sh (VFORKSHIM_SITES=spawn_execve,...).
 *
 *   env_race race N      a thread adds and removes variables (setenv
 *                        moves the array) while main spawns N times
 *                        through spawn_execve, whose child passes an
 *                        explicit envp; prints what the parent's
 *                        environment holds afterwards
 *   env_race child-setenv the site's child calls setenv, then execs with
 *                        environ (execve) and without (execv); another
 *                        child asks getenv for what it set
 *   env_race writer N    spawn_assign's child assigns environ, as a
 *                        libuv child does, while a thread reads the
 *                        environment; prints the parent's view after
 *
 * Every line printed is what a program sees without the shim; the
 * script compares the two runs. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int wait_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- sites ---- */
__attribute__((noinline)) int spawn_execve(char *const envp[])
{
	pid_t p = fork();
	if (p == 0) {
		char *argv[] = { "true", NULL };
		execve("/bin/true", argv, envp);
		_exit(127);
	}
	return p < 0 ? -1 : wait_status(p);
}

__attribute__((noinline)) int spawn_assign(char **envp)
{
	pid_t p = fork();
	if (p == 0) {
		environ = envp; /* as libuv's child does before execvp */
		char *argv[] = { "true", NULL };
		execvp("true", argv);
		_exit(127);
	}
	return p < 0 ? -1 : wait_status(p);
}

/* the child sets a variable, then execs with the process environment
 * (execve with environ, execv) or reads it back with getenv */
__attribute__((noinline)) int spawn_setenv(int how)
{
	static char cmd[] = "echo \"$0: CHILD_VAR=${CHILD_VAR:-unset}\"";
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		setenv("CHILD_VAR", "set-in-child", 1);
		if (how == 0) {
			execve("/bin/sh", (char *[]){ "sh", "-c", cmd, "execve with environ", NULL }, environ);
		} else if (how == 1) {
			execv("/bin/sh", (char *[]){ "sh", "-c", cmd, "execv", NULL });
		} else {
			const char *v = getenv("CHILD_VAR");
			execl("/bin/echo", "echo", "getenv in the child:", v ? v : "unset", (char *)NULL);
		}
		_exit(127);
	}
	return p < 0 ? -1 : wait_status(p);
}

/* ---- race: setenv in a thread, spawns in main ---- */
#define NAMES 4000
static volatile int stop;
static int last_set[NAMES]; /* 1: the setter's last word was setenv */

static void *setter(void *arg)
{
	(void)arg;
	char name[32];
	/* new names make glibc grow the array with realloc, which moves
	 * and frees it; every third round removes one again */
	for (int i = 0; !stop; i++) {
		snprintf(name, sizeof name, "RACE_%d", i % NAMES);
		if (i % 3 == 2)
			unsetenv(name);
		else
			setenv(name, "v", 1);
		last_set[i % NAMES] = i % 3 != 2;
	}
	return NULL;
}

static int race(int n)
{
	pthread_t t;
	pthread_create(&t, NULL, setter, NULL);
	char *envp[] = { "ONLY=child", NULL };
	int bad = 0;
	for (int i = 0; i < n; i++)
		bad += spawn_execve(envp) != 0;
	stop = 1;
	pthread_join(t, NULL);
	/* the setter's last word on each name must be what environ holds */
	int wrong = 0;
	for (int k = 0; k < NAMES; k++) {
		char name[32];
		snprintf(name, sizeof name, "RACE_%d", k);
		wrong += (getenv(name) != NULL) != last_set[k];
	}
	printf("race: %d spawns, %d failed; environment as the setter left it: %s; ONLY set in parent: %s\n",
	       n, bad, wrong ? "no" : "yes", getenv("ONLY") ? "yes" : "no");
	return 0;
}

/* ---- writer: a child that assigns environ, a thread that reads ---- */
static volatile unsigned long reads, seen_child;

static void *reader(void *arg)
{
	(void)arg;
	while (!stop) {
		if (getenv("CHILD_ONLY") || !getenv("HOME"))
			seen_child++;
		reads++;
	}
	return NULL;
}

static int writer(int n)
{
	pthread_t t;
	pthread_create(&t, NULL, reader, NULL);
	while (!reads)
		sched_yield();
	char *envp[] = { "CHILD_ONLY=1", "PATH=/usr/bin:/bin", NULL };
	char **before = environ;
	int bad = 0;
	for (int i = 0; i < n; i++)
		bad += spawn_assign(envp) != 0;
	stop = 1;
	pthread_join(t, NULL);
	printf("writer: %d spawns, %d failed; parent's environ intact: %s\n", n, bad,
	       environ == before && getenv("HOME") && !getenv("CHILD_ONLY") ? "yes" : "no");
	fprintf(stderr, "writer: %lu reads, %lu saw the child's environment\n", reads, seen_child);
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	int n = argc > 2 ? atoi(argv[2]) : 200;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(what, "race"))
		return race(n);
	if (!strcmp(what, "writer"))
		return writer(n);
	if (!strcmp(what, "child-setenv")) {
		for (int how = 0; how < 3; how++)
			spawn_setenv(how);
		printf("parent: CHILD_VAR=%s\n", getenv("CHILD_VAR") ? getenv("CHILD_VAR") : "unset");
		return 0;
	}
	fprintf(stderr, "usage: env_race race|child-setenv|writer [N]\n");
	return 2;
}
