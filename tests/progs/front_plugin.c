/* A user site in a plugin loaded with dlopen after start (issue 23): the
 * front must have loaded the engine at start, since this program can
 * load code later. A thread sets and reads the environment meanwhile.
 *   front_plugin PLUGIN COUNT */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_maps.h"

static volatile int done;

static void *churn(void *arg)
{
	(void)arg;
	char v[32];
	for (unsigned long i = 0; !done; i++) {
		snprintf(v, sizeof v, "%lu", i);
		setenv("FRONT_PLUGIN_CHURN", v, 1);
		if (!getenv("FRONT_PLUGIN_CHURN"))
			abort();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	printf("engine: %s\n", engine_loaded() ? "loaded" : "not loaded");
	fflush(stdout);
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	int (*spawn)(const char *) = (int (*)(const char *))dlsym(h, "plugin_spawn");
	pthread_t t;
	pthread_create(&t, NULL, churn, NULL);
	int n = atoi(argv[2]), sum = 0;
	for (int i = 0; i < n; i++)
		sum += spawn("front-plugin-child");
	done = 1;
	pthread_join(t, NULL);
	printf("%d spawns, statuses summed %d\n", n, sum);
	return 0;
}
