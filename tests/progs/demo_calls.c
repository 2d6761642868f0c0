/* Calls system, popen/pclose and posix_spawnp once each and prints what
 * they return; run with and without the shim, the output must match. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int st = system("echo system says hi; exit 3");
	printf("system -> %d\n", st);

	FILE *p = popen("echo popen line; exit 4", "r");
	char line[128];
	while (p && fgets(line, sizeof line, p))
		printf("popen read: %s", line);
	printf("pclose -> %d\n", p ? pclose(p) : -1);

	pid_t pid;
	char *argv[] = { "sh", "-c", "echo spawned; exit 5", NULL };
	int rc = posix_spawnp(&pid, "sh", NULL, NULL, argv, environ);
	int ws = -1;
	if (rc == 0)
		waitpid(pid, &ws, 0);
	printf("posix_spawnp -> %d, status %d\n", rc, ws);
	return 0;
}
