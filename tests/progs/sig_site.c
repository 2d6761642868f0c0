/* A site that is itself a signal handler: its fork is a signal
 * handler's, never rerouted (fallback_signal), whatever the site says.
 *   sig_site REPORT [called]
 *     SIGUSR1's handler, handler_spawn (a user site: -rdynamic), forks
 *     and execs `REPORT mask`; a thread reads the environment meanwhile.
 *     With "called", the handler is another function that calls the
 *     site (no tail call): the same verdict. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *report;
static volatile int stop;

__attribute__((noinline)) void handler_spawn(int sig)
{
	(void)sig;
	pid_t p = fork();
	if (p == 0) {
		execl(report, report, "mask", (char *)NULL);
		_exit(127);
	}
	int st;
	while (p > 0 && waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
}

static volatile int calls;
__attribute__((noinline)) static void handler_calls(int sig)
{
	handler_spawn(sig);
	calls++; /* after the call: not a tail call */
}

static void *reader(void *arg)
{
	(void)arg;
	while (!stop)
		if (!getenv("PATH"))
			abort();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3)
		return 2;
	report = argv[1];
	pthread_t t;
	pthread_create(&t, NULL, reader, NULL);
	signal(SIGUSR1, argc == 3 ? handler_calls : handler_spawn);
	fflush(stdout);
	raise(SIGUSR1);
	stop = 1;
	pthread_join(t, NULL);
	printf("done\n");
	return 0;
}
