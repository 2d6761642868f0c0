/* A site in a plugin that is unloaded, and another plugin loaded at the
 * same address: the site must not match the newcomer's code.
 *
 *   plugin_reload A.so B.so    calls A's spawn_it (a user site,
 *                              A.so:spawn_it), unloads A, loads B and
 *                              calls B's spawn_it, whose child writes a
 *                              flag without exec'ing; prints the flag as
 *                              this process sees it (0, as after fork) */
#include <dlfcn.h>
#include <stdio.h>

typedef int spawn_fn(volatile int *);

static spawn_fn *load(const char *path, void **h)
{
	*h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!*h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return NULL;
	}
	return (spawn_fn *)dlsym(*h, "spawn_it");
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	volatile int flag = 0;
	void *h;
	spawn_fn *a = load(argv[1], &h);
	if (!a)
		return 1;
	int st_a = a(&flag);
	dlclose(h);
	spawn_fn *b = load(argv[2], &h);
	if (!b)
		return 1;
	if (b != a) {
		printf("skip: the second plugin was loaded elsewhere (%p, not %p)\n", (void *)b, (void *)a);
		return 77;
	}
	int st_b = b(&flag);
	printf("A's child status %d; B loaded at A's address, its child status %d; flag %d\n", st_a, st_b, flag);
	return 0;
}
