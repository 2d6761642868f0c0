/* uv_shapes LIB N: N spawns through the uv_spawn of LIB (a shape of
 * tests/plugins/uv_shapes_x86_64.S, loaded with dlopen, so after
 * start-up) with an environment of their own, while a thread reads the
 * environment. Prints each child's output, whether the reader ever saw
 * a child's variable, and whether the parent's environ is as it was. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;
static volatile int stop;
static volatile unsigned long reads, seen;

/* uv_process_options_t, as uv.h lays it out */
struct options {
	void *exit_cb;
	const char *file;
	char **args, **env;
	const char *cwd;
	unsigned int flags;
	int stdio_count;
	void *stdio;
	unsigned int uid, gid;
};

static void *reader(void *arg)
{
	(void)arg;
	while (!stop) {
		if (getenv("SHAPE_CHILD") || !getenv("HOME"))
			seen++;
		reads++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: uv_shapes LIB N\n");
		return 2;
	}
	void *h = dlopen(argv[1], RTLD_NOW);
	int (*spawn)(void *, void *, const struct options *) = h ? (int (*)(void *, void *, const struct options *))dlsym(h, "uv_spawn") : NULL;
	if (!spawn) {
		fprintf(stderr, "uv_shapes: %s\n", dlerror());
		return 2;
	}
	pthread_t t;
	pthread_create(&t, NULL, reader, NULL);
	while (!reads)
		;
	char **before = environ;
	char *args[] = { "sh", "-c", "echo child: $SHAPE_CHILD", NULL };
	char *env[] = { "SHAPE_CHILD=yes", "PATH=/usr/bin:/bin", NULL };
	struct options o = { .file = "sh", .args = args, .env = env, .stdio_count = 3 };
	int n = atoi(argv[2]), failed = 0;
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		int pid = spawn(NULL, NULL, &o), st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("%d spawns, %d failed; the reader saw a child's environment: %s; the parent's environ as before: %s\n", n,
	       failed, seen ? "yes" : "no", environ == before && getenv("HOME") && !getenv("SHAPE_CHILD") ? "yes" : "no");
	return 0;
}
