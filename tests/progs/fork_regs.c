/* The register harness (fork_regs_<arch>.S) run N times: after each
 * rerouted fork the parent must see its callee-saved registers, its
 * stack pointer, locals and errno exactly as before, however the child
 * clobbered them and 256 KiB of stack below. Prints one line; exit 0
 * when all held. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NREG 6 /* rbx rbp r12-r15 */
#define WANT(k) (0x1111111111111111UL * ((k) + 1))
#elif defined(__aarch64__)
#define NREG 18 /* x19-x28, d8-d15 */
#define WANT(k) (0x0101010101010101UL * ((k) + 1))
#endif
/* out[0..NREG) the registers after the call, out[NREG] the stack
 * pointer after it, out[NREG + 1] before */
long regs_fork(unsigned long out[NREG + 2]);

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
	unsigned long want[NREG];
	for (int k = 0; k < NREG; k++)
		want[k] = WANT(k);
	for (int i = 0; i < n; i++) {
		volatile unsigned long canary = 0xfeedface00000000UL + (unsigned)i;
		unsigned long out[NREG + 2] = { 0 };
		errno = 1000 + i;
		long pid = regs_fork(out);
		int e = errno, st = -1;
		if (pid <= 0 || waitpid((pid_t)pid, &st, 0) != pid) {
			printf("fork %d: pid %ld\n", i, pid);
			continue;
		}
		bool ok = !memcmp(out, want, sizeof want) && out[NREG] == out[NREG + 1] && e == 1000 + i &&
			  canary == 0xfeedface00000000UL + (unsigned)i && WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (!ok) {
			printf("fork %d:", i);
			for (int k = 0; k < NREG; k++)
				if (out[k] != want[k])
					printf(" register %d: %lx", k, out[k]);
			printf(" sp %s errno %d status %x\n", out[NREG] == out[NREG + 1] ? "same" : "moved", e, st);
		}
		good += ok;
	}
	printf("registers, rsp, locals and errno intact after %d of %d forks\n", good, n);
	return good == n ? 0 : 1;
}
