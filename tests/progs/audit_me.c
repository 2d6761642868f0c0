/* A program for vforkshim audit (tests/audit.sh): a home-made exec-bound
 * fork (run_tool, exported: -rdynamic), a worker fork whose child runs
 * on without exec, and a system() call.
 *   audit_me [N]   N run_tool calls (default 3) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) int run_tool(const char *path)
{
	int st = -1;
	pid_t c = fork();
	if (c == 0) {
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	waitpid(c, &st, 0);
	return st;
}

__attribute__((noinline)) int worker(void)
{
	int st = -1;
	pid_t c = fork();
	if (c == 0) {
		printf("worker %d\n", 6 * 7);
		exit(0);
	}
	waitpid(c, &st, 0);
	return st;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	for (int i = 0; i < n; i++)
		if (run_tool("/bin/true") != 0)
			return 1;
	fflush(stdout);
	if (worker() != 0 || system("exit 0") != 0)
		return 1;
	printf("done\n");
	return 0;
}
