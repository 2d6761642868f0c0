/* The front loaded with dlopen rather than preloaded (issue 23's review):
 * its functions must still reach libc, which is before it in the list.
 *   front_dlopen LIB: getenv("HOME") and fork+exit through the library */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	void *h = argc > 1 ? dlopen(argv[1], RTLD_NOW | RTLD_LOCAL) : NULL;
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	char *(*get)(const char *) = (char *(*)(const char *))dlsym(h, "getenv");
	pid_t (*fk)(void) = (pid_t (*)(void))dlsym(h, "fork");
	printf("getenv: %s\n", get ? get("FRONT_DLOPEN") : "(none)");
	pid_t p = fk ? fk() : -1;
	if (p == 0)
		_exit(7);
	int st = 0;
	if (p > 0)
		waitpid(p, &st, 0);
	printf("fork: child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
