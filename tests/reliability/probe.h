/* Shared by faults.c and hostile.c, whose every result is printed as a
 * line to compare with the same program run without the shim. */
#ifndef VFORKSHIM_PROBE_H
#define VFORKSHIM_PROBE_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../errname.h"

/* An errno's name, "0" for none. */
static inline const char *en(int e) { return e ? errname(e) : "0"; }

/* The program's fork (the shim's when preloaded), then execve(path,
 * argv, envp) in the child, which sends execve's errno back on a
 * close-on-exec pipe. Returns the child's wait status with *err set to
 * execve's errno (0: it ran); or -1 with *err set to why fork (or the
 * pipe) failed. */
/* Through a pointer: hostile.c passes the NULLs execve is declared not
 * to take, and UBSan would stop the child at a direct call. */
static int (*volatile probe_execve)(const char *, char *const[], char *const[]) = execve;

static inline int probe_fork_exec(const char *path, char *const argv[], char *const envp[], int *err)
{
	int p[2], e = 0;
	if (pipe2(p, O_CLOEXEC)) {
		*err = errno;
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		probe_execve(path, argv, envp);
		e = errno;
		write(p[1], &e, sizeof e);
		_exit(127);
	}
	*err = errno;
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	if (read(p[0], &e, sizeof e) != sizeof e)
		e = 0;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	*err = e;
	return st;
}

#endif
