/* libusersite.so: a plugin whose exported plugin_spawn forks and execs
 * echo, named by the tests as a user site (VFORKSHIM_SITES). */
#include <sys/wait.h>
#include <unistd.h>

int plugin_spawn(const char *word)
{
	int st = 0;
	pid_t p = fork();
	if (p == 0) {
		execl("/bin/echo", "echo", word, (char *)0);
		_exit(127);
	}
	if (p > 0)
		waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}
