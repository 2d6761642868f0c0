/* The library's checks on a real kernel of another architecture, run by
 * stub_check as a dynamically linked program with libvforkshim.so
 * preloaded (VFORKSHIM_FORK=all, VFORKSHIM_STATS=1): 20 forks whose
 * children scribble 64 KiB of stack and then exec a program that exits
 * 6 (argv[1..], by default the static /init asked to); after each the
 * parent's locals, live values and errno must be intact and the status
 * right. The stats line (stderr) must show the 20 rerouted.
 * Also built without unwind tables as tests/progs/fork_notables, which
 * fork=all must not reroute (tests/fork.sh). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef ARCH_NAME
#define ARCH_NAME "?"
#endif

static char *default_cmd[] = { "/init", "exit", "6", NULL };
static char **cmd = default_cmd;

__attribute__((noinline)) static void scribble_and_exec(void)
{
	volatile char junk[64 * 1024];
	memset((char *)junk, 0x5A, sizeof junk);
	execv(cmd[0], cmd);
	_exit(127);
}

__attribute__((noinline)) static int one(int i)
{
	volatile unsigned long local = 0xabc000UL + (unsigned)i;
	unsigned long a = (unsigned long)i * 11 + 5, b = a * a, c = b ^ 0x1234;
	errno = 3000 + i;
	pid_t pid = fork();
	if (pid == 0) {
		local = 0;
		scribble_and_exec();
	}
	int e = errno, st = -1;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 0;
	return local == 0xabc000UL + (unsigned)i && e == 3000 + i && b == a * a && c == (b ^ 0x1234) &&
	       WIFEXITED(st) && WEXITSTATUS(st) == 6;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		cmd = argv + 1;
	int good = 0;
	for (int i = 0; i < 20; i++)
		good += one(i);
	printf("preload-check %s: %d of 20 forks through the library left the parent intact\n", ARCH_NAME, good);
	fflush(stdout);
	return good == 20 ? 0 : 1;
}
