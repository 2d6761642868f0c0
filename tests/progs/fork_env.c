/* What the programs started by a fork=all process see of VFORKSHIM_FORK:
 * prints the program's own value, then each child's (a shell started
 * with execlp, and with execve and the process environment). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void child(int how)
{
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		char *argv[] = { "sh", "-c", "echo \"child: ${VFORKSHIM_FORK:-unset}\"", NULL };
		if (how == 0)
			execvp("sh", argv);
		else
			execve("/bin/sh", argv, environ);
		_exit(127);
	}
	waitpid(p, NULL, 0);
}

int main(void)
{
	const char *v = getenv("VFORKSHIM_FORK");
	printf("program: %s\n", v ? v : "unset");
	child(0);
	child(1);
	return 0;
}
