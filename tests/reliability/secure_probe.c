/* secure_probe: run set-uid root by an unprivileged user with the shim
 * in /etc/ld.so.preload (secure mode), and once plainly as the control.
 * It defines getenv, which the shim's calls reach too (the program is
 * linked with -rdynamic), and counts the VFORKSHIM* names asked for.
 * Then it forks; the child writes a global and execs /bin/true: if the
 * parent sees the write, the fork was rerouted (shared memory). Prints
 *   secure=S vforkshim_reads=N fork=rerouted|real */
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static int reads;
static volatile int child_wrote;

char *getenv(const char *name)
{
	size_t n = strlen(name);
	if (!strncmp(name, "VFORKSHIM", 9))
		reads++;
	for (char **e = environ; e && *e; e++)
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

int main(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		child_wrote = 1;
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("secure=%lu vforkshim_reads=%d fork=%s\n", getauxval(AT_SECURE), reads,
	       child_wrote ? "rerouted" : "real");
	return 0;
}
