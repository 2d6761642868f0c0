/* A fork while another thread holds the dynamic loader's lock.
 *
 *   loader_lock dlopen PLUGIN    thread T loads PLUGIN, whose constructor
 *                                waits for app_lock, held by main while it
 *                                forks (no site: the program's own fork)
 *   loader_lock dlclose PLUGIN   thread T unloads PLUGIN, whose destructor
 *                                waits for app_lock; main forks through the
 *                                site spawn_true, whose child execs: the
 *                                first rerouted child of the process
 *
 * The loader holds its lock while it runs constructors and destructors,
 * so a fork() that asks the loader for anything (dlopen, dlsym, dladdr)
 * before it lets main go on never returns. Prints "done" when main got
 * through. Built with -rdynamic: the plugin finds app_lock here. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

pthread_mutex_t app_lock = PTHREAD_MUTEX_INITIALIZER;
volatile int in_loader;
static void *plugin;

static void *load(void *path)
{
	plugin = dlopen(path, RTLD_NOW);
	if (!plugin)
		fprintf(stderr, "dlopen: %s\n", dlerror());
	return NULL;
}

static void *unload(void *arg)
{
	(void)arg;
	dlclose(plugin);
	return NULL;
}

__attribute__((noinline)) int spawn_true(void)
{
	pid_t p = fork();
	if (p == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	int st = -1;
	while (p > 0 && waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	return p < 0 ? -1 : st;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int closing = !strcmp(argv[1], "dlclose");
	if (closing && !(plugin = dlopen(argv[2], RTLD_NOW))) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	if (closing) { /* a fork that is no site's, before: the loaded set is known */
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		waitpid(p, NULL, 0);
	}
	pthread_mutex_lock(&app_lock);
	pthread_t t;
	pthread_create(&t, NULL, closing ? unload : load, argv[2]);
	while (!in_loader)
		usleep(1000);
	usleep(20000); /* T is waiting for app_lock, inside the loader */
	int st;
	if (closing) {
		st = spawn_true();
	} else {
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		waitpid(p, &st, 0);
	}
	pthread_mutex_unlock(&app_lock);
	pthread_join(t, NULL);
	printf("%s: done, child status %d\n", argv[1], st);
	return 0;
}
