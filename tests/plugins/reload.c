/* Built twice (tests/progs/plugin_reload.c): as libreload_a.so, whose
 * spawn_it forks a child that execs, and as libreload_b.so
 * (-DCHILD_EXECS=0), whose spawn_it forks a child that writes through
 * `flag` and exits. The code is the same, only the data differs, so B
 * loaded where A was has its fork at A's address. */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CHILD_EXECS
#define CHILD_EXECS 1
#endif
static volatile int child_execs = CHILD_EXECS;

__attribute__((noinline)) int spawn_it(volatile int *flag)
{
	pid_t p = fork();
	if (p == 0) {
		if (child_execs)
			execl("/bin/true", "true", (char *)0);
		else
			*flag = 1; /* no exec: this child must have its own memory */
		_exit(child_execs ? 127 : 0);
	}
	int st = -1;
	while (p > 0 && waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}
