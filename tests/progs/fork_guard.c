/* Forks whose children misbehave in every way the child guard covers;
 * prints what the parent sees. Run under VFORKSHIM_FORK=all: the
 * output must equal the output without the shim (tests/integration.sh
 * compares) and the stats line must show every fork rerouted. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static const char *report;

static void at_exit(void) { printf("atexit handler ran once\n"); }

/* deep enough to overwrite anything a shallow check would miss */
__attribute__((noinline)) static void scribble(void)
{
	volatile char big[256 * 1024];
	memset((char *)big, 0xAB, sizeof big);
}

static int wait_status(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	report = argc > 1 ? argv[1] : "report";
	atexit(at_exit);
	printf("buffered output before the forks, printed once\n");
	fflush(NULL); /* stdout is a file: keep the two runs comparable */
	printf("still buffered: ");

	int local = 42;
	errno = 77;
	pid_t p = fork();
	if (p == 0) {
		scribble();
		setenv("GUARD_VAR", "from-child", 1);
		putenv("GUARD_PUT=1");
		unsetenv("HOME");
		execlp("sh", "sh", "-c", "echo child sees GUARD_VAR=$GUARD_VAR GUARD_PUT=$GUARD_PUT HOME=${HOME:-unset}", (char *)0);
		_exit(127);
	}
	int e = errno;
	printf("exit %d, local %d, errno %d, parent GUARD_VAR=%s HOME %s\n", wait_status(p), local, e,
	       getenv("GUARD_VAR") ? getenv("GUARD_VAR") : "(unset)", getenv("HOME") ? "set" : "unset");

	p = fork();
	if (p == 0)
		exit(3); /* atexit handlers must not run, stdio not flushed */
	printf("exit(3) in child -> %d\n", wait_status(p));

	char **saved = environ;
	p = fork();
	if (p == 0) {
		static char *env[] = { "ONLY=this", NULL };
		environ = env; /* as libuv's child does */
		execl("/bin/sh", "sh", "-c", "echo child env: ONLY=$ONLY", (char *)0);
		_exit(127);
	}
	printf("environ assigned in child -> %d, parent's environ intact: %d\n", wait_status(p), environ == saved);

	p = fork();
	if (p == 0) {
		execlp("no-such-program-vforkshim", "x", (char *)0);
		_exit(errno == ENOENT ? 42 : 1);
	}
	printf("exec failure in child -> %d\n", wait_status(p));

	p = fork();
	if (p == 0) { /* a real fork inside the child */
		pid_t q = fork();
		if (q == 0)
			_exit(5);
		_exit(wait_status(q) + 1);
	}
	printf("nested fork -> %d\n", wait_status(p));

	sigset_t set, now;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	p = fork();
	if (p == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigaddset(&none, SIGUSR2);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl(report, "report", "mask", (char *)0);
		_exit(127);
	}
	printf("mask set in child -> %d\n", wait_status(p));
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("parent still blocks SIGUSR1: %d, SIGUSR2: %d\n", sigismember(&now, SIGUSR1), sigismember(&now, SIGUSR2));
	printf("done\n");
	return 0;
}
