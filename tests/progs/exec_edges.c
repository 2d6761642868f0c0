/* How the child of a rerouted fork ends: what the program it execs
 * starts with, and what happens when it never execs.
 *
 *   exec_edges sigs REPORT      spawn_report's child execs `REPORT mask
 *                               ign`: the mask and ignored signals the new
 *                               program starts with (as after fork+exec)
 *   exec_edges execveat REPORT  the child execs REPORT with execveat
 *   exec_edges return           the child returns from main without
 *                               exec'ing; an atexit handler says in which
 *                               process it ran
 * Built with -rdynamic: spawn_report is a user site. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static pid_t parent;

/* glibc has execveat from 2.34: declared here for older headers, weak
 * so that the program links without it, and called only where libc
 * itself has one (the shim's own would answer otherwise). */
extern int execveat(int, const char *, char *const[], char *const[], int);
#pragma weak execveat

static bool libc_has_execveat(void)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	return libc && dlsym(libc, "execveat");
}

static int wait_status(pid_t p)
{
	int st = -1;
	while (p > 0 && waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	return p < 0 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

__attribute__((noinline)) int spawn_report(const char *report, int how)
{
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		char *argv[] = { (char *)report, "mask", "ign", "env:VFORKSHIM_FORK", NULL };
		if (how == 0)
			execv(report, argv);
		else
			execveat(AT_FDCWD, report, argv, environ, 0);
		_exit(127);
	}
	return wait_status(p);
}

static void at_exit(void)
{
	printf("atexit handler ran in the %s\n", getpid() == parent ? "parent" : "child");
}

int main(int argc, char **argv)
{
	parent = getpid();
	if (argc == 3 && !strcmp(argv[1], "sigs"))
		return spawn_report(argv[2], 0);
	if (argc == 3 && !strcmp(argv[1], "execveat")) {
		if (!libc_has_execveat()) {
			printf("no execveat in this libc\n");
			return 0;
		}
		return spawn_report(argv[2], 1);
	}
	if (argc == 2 && !strcmp(argv[1], "return")) {
		atexit(at_exit);
		fflush(stdout);
		pid_t p = fork();
		if (p == 0)
			return 3; /* main returns: glibc calls exit(3) itself */
		printf("child status %d\n", wait_status(p));
		return 0;
	}
	fprintf(stderr, "usage: exec_edges sigs|execveat REPORT | return\n");
	return 2;
}
