/* Go #20732: the child's code inlined into the caller writes a stack
 * slot that the parent reads after fork. `slot` is volatile so the
 * compiler keeps it in main's frame; tests/fork.sh checks in the
 * disassembly that the child's store of 999 and the parent's load
 * after fork use the same slot. Exit 0 when the parent kept its value. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	volatile int slot;
	int kept = 0, n = 20;
	for (int i = 0; i < n; i++) {
		slot = 7 + i;
		pid_t p = fork();
		if (p == 0) {
			slot = 999;
			execl("/bin/true", "true", (char *)0);
			_exit(127);
		}
		int v = slot;
		waitpid(p, NULL, 0);
		kept += v == 7 + i;
	}
	printf("parent's stack slot kept in %d of %d forks\n", kept, n);
	return kept == n ? 0 : 1;
}
