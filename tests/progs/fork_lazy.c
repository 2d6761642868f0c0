/* A program that imports no fork() (it finds the function with dlsym,
 * as an interpreter's FFI would): the shim defers loading its unwinder
 * to this first fork, which must still be rerouted under fork=all.
 * Prints the child's exit status. */
#include <dlfcn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	pid_t (*f)(void) = (pid_t(*)(void))dlsym(RTLD_DEFAULT, "fork");
	if (!f)
		return 2;
	pid_t p = f();
	if (p == 0) {
		execl("/bin/sh", "sh", "-c", "exit 6", (char *)0);
		_exit(127);
	}
	int st;
	waitpid(p, &st, 0);
	printf("child exit %d\n", WEXITSTATUS(st));
	return 0;
}
