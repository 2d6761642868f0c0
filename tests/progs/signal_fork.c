/* A signal handler that forks while a site is further up the stack.
 *
 * site_run (a user site, tests/concurrency.sh) forks a child that execs
 * `sleep` and waits for it; meanwhile SIGALRM interrupts the wait and
 * its handler forks a worker that does not exec: it writes a global and
 * exits. That fork is the handler's, not the site's, and must stay a
 * real fork: its write must not reach this process. Prints the global
 * after each round. Built with -rdynamic (site_run is a user site). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int written_by_worker;
static volatile int handled;

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	pid_t p = fork();
	if (p == 0) {
		written_by_worker = 42; /* in its own memory, as after fork() */
		_exit(0);
	}
	if (p > 0)
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
	handled++;
	errno = saved;
}

__attribute__((noinline)) int site_run(void)
{
	pid_t p = fork();
	if (p == 0) {
		execl("/bin/sleep", "sleep", "0.3", (char *)NULL);
		_exit(127);
	}
	int st = -1;
	while (waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 3;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	for (int i = 0; i < rounds; i++) {
		handled = 0;
		struct itimerval t = { .it_value = { .tv_usec = 100000 } };
		setitimer(ITIMER_REAL, &t, NULL);
		int st = site_run();
		printf("round %d: site child status %d, handler ran %d, global %d\n", i, st, handled,
		       written_by_worker);
	}
	return 0;
}
