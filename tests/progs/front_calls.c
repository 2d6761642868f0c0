/* The front alone (issue 23): a program that can gain nothing from the
 * engine (no runtime, no dlopen) forks, execs and spawns; it says
 * whether the engine was loaded, and what each call gave. Imports no
 * dlopen: the front must not load the engine for it (tests/front.sh). */
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_maps.h"

extern char **environ;

int main(int argc, char **argv)
{
	const char *prog = argc > 1 ? argv[1] : "/bin/true";
	printf("engine: %s\n", engine_loaded() ? "loaded" : "not loaded");
	fflush(stdout);
	int st;
	pid_t p = fork();
	if (p == 0) {
		execl(prog, prog, (char *)NULL);
		_exit(127);
	}
	waitpid(p, &st, 0);
	printf("fork+execl: status %d\n", WEXITSTATUS(st));
	char *args[] = { (char *)prog, NULL };
	int r = posix_spawn(&p, prog, NULL, NULL, args, environ);
	if (r == 0)
		waitpid(p, &st, 0);
	printf("posix_spawn: %d, status %d\n", r, r ? -1 : WEXITSTATUS(st));
	r = posix_spawn(&p, "/nonexistent/x", NULL, NULL, args, environ);
	printf("posix_spawn missing: %d (%s)\n", r, strerror(r));
	fflush(stdout);
	return 0;
}
