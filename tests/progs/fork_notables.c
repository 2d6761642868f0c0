/* Built without unwind tables (tests.mk): under VFORKSHIM_FORK=all the
 * shim cannot find the top of this program's frames, so it must not
 * reroute (fallback_unwind): a rerouted child returning into one() and
 * writing its locals would change the parent's. Prints how many of 20
 * forks left the parent's locals, live values and errno intact. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static void scribble_and_exec(void)
{
	volatile char junk[64 * 1024];
	memset((char *)junk, 0x5A, sizeof junk);
	execl("/bin/true", "true", (char *)0);
	_exit(127);
}

__attribute__((noinline)) static int one(int i)
{
	volatile unsigned long local = 0xabc000UL + (unsigned)i;
	errno = 3000 + i;
	pid_t pid = fork();
	if (pid == 0) {
		local = 0;
		scribble_and_exec();
	}
	int e = errno, st = -1;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 0;
	return local == 0xabc000UL + (unsigned)i && e == 3000 + i && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(void)
{
	int good = 0;
	for (int i = 0; i < 20; i++)
		good += one(i);
	printf("%d of 20 forks left the parent intact\n", good);
	return good == 20 ? 0 : 1;
}
