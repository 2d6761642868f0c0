/* The register harness (fork_regs_x86_64.S) run N times: after each
 * rerouted fork the parent must see its callee-saved registers, rsp,
 * locals and errno exactly as before, however the child clobbered them
 * and 256 KiB of stack below. Prints one line; exit 0 when all held. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

long regs_fork(unsigned long out[8]);

__attribute__((noreturn, used)) void regs_child(void)
{
	volatile char big[256 * 1024];
	memset((char *)big, 0xCD, sizeof big);
	execl("/bin/true", "true", (char *)0);
	_exit(127);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 50, good = 0;
	static const unsigned long want[6] = {
		0x1111111111111111UL, 0x2222222222222222UL, 0x3333333333333333UL,
		0x4444444444444444UL, 0x5555555555555555UL, 0x6666666666666666UL,
	};
	for (int i = 0; i < n; i++) {
		volatile unsigned long canary = 0xfeedface00000000UL + (unsigned)i;
		unsigned long out[8] = { 0 };
		errno = 1000 + i;
		long pid = regs_fork(out);
		int e = errno, st = -1;
		if (pid <= 0 || waitpid((pid_t)pid, &st, 0) != pid) {
			printf("fork %d: pid %ld\n", i, pid);
			continue;
		}
		bool ok = !memcmp(out, want, sizeof want) && out[6] == out[7] && e == 1000 + i &&
			  canary == 0xfeedface00000000UL + (unsigned)i && WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (!ok)
			printf("fork %d: rbx %lx rbp %lx r12 %lx r15 %lx rsp %s errno %d status %x\n", i, out[0],
			       out[1], out[2], out[5], out[6] == out[7] ? "same" : "moved", e, st);
		good += ok;
	}
	printf("registers, rsp, locals and errno intact after %d of %d forks\n", good, n);
	return good == n ? 0 : 1;
}
