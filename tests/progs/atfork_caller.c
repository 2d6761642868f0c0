/* A site called from a plugin that registers fork handlers
 * (tests/plugins/atfork.c, uvloop's pattern), while another thread
 * allocates and reads the environment.
 *
 *   atfork_caller PLUGIN REPORT [MORE...]
 *                                 the plugin calls spawn_exec (a user
 *                                 site, here) with `REPORT fd:W`; its
 *                                 child handler closes W; then main
 *                                 calls spawn_exec itself, `REPORT mask`;
 *                                 MORE: other plugins loaded first (the
 *                                 site table's overflow)
 *
 * The first fork must stay real (fallback_atfork), the second one may
 * be rerouted: nothing registered expects to run in its child. Built
 * with -rdynamic: the plugin finds spawn_exec here. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop;

__attribute__((noinline)) int spawn_exec(char *const argv[])
{
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	int st = -1;
	while (p > 0 && waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	return p < 0 ? -1 : st;
}

static void *busy(void *arg)
{
	(void)arg;
	while (!stop) {
		free(malloc(64));
		if (!getenv("PATH"))
			abort();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	for (int i = 3; i < argc; i++)
		if (!dlopen(argv[i], RTLD_NOW)) {
			fprintf(stderr, "dlopen: %s\n", dlerror());
			return 1;
		}
	void *h = dlopen(argv[1], RTLD_NOW);
	int (*plugin_spawn)(const char *) = h ? (int (*)(const char *))dlsym(h, "plugin_spawn") : NULL;
	if (!plugin_spawn) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, busy, NULL);
	int a = plugin_spawn(argv[2]);
	char *own[] = { argv[2], "mask", NULL };
	int b = spawn_exec(own);
	stop = 1;
	pthread_join(t, NULL);
	printf("statuses %d %d\n", a, b);
	return 0;
}
