/* seccomp_spawn [strict] [EPERM|ENOSYS|EINVAL]: installs a seccomp
 * filter that refuses clone() with CLONE_VM, with that errno (default
 * EPERM), as container runtimes do, then calls system, popen,
 * posix_spawnp and fork. With "strict", clone3 is refused too (ENOSYS),
 * so that glibc itself cannot spawn either. Prints what each call
 * returned. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int install(int strict, int refuse)
{
#if defined(__x86_64__)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, strict ? SECCOMP_RET_ERRNO | ENOSYS : SECCOMP_RET_ALLOW),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_VM, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)refuse),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
#else
	(void)strict;
	(void)refuse;
	errno = ENOSYS;
	return -1;
#endif
}

int main(int argc, char **argv)
{
	int strict = 0, refuse = EPERM;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "strict"))
			strict = 1;
		else if (!strcmp(argv[i], "ENOSYS"))
			refuse = ENOSYS;
		else if (!strcmp(argv[i], "EINVAL"))
			refuse = EINVAL;
		else if (strcmp(argv[i], "EPERM") != 0)
			return 2;
	}
	if (install(strict, refuse)) {
		printf("skip: no seccomp filter for this architecture\n");
		return 77;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int round = 0; round < 2; round++) {
		int st = system("echo system-ran");
		printf("system -> %d\n", st);
		FILE *p = popen("echo popen-ran", "r");
		char line[64] = "";
		if (p && fgets(line, sizeof line, p))
			printf("popen read: %s", line);
		printf("popen %s, pclose -> %d\n", p ? "ok" : "NULL", p ? pclose(p) : -1);
		pid_t pid;
		char *av[] = { "echo", "spawn-ran", NULL };
		int rc = posix_spawnp(&pid, "echo", NULL, NULL, av, environ);
		int ws = -1;
		if (rc == 0)
			waitpid(pid, &ws, 0);
		printf("posix_spawnp -> %d (%s), status %d\n", rc, strerror(rc), ws);
		pid = fork();
		if (pid == 0) {
			execlp("echo", "echo", "fork-ran", (char *)0);
			_exit(127);
		}
		ws = -1;
		if (pid > 0)
			waitpid(pid, &ws, 0);
		printf("fork -> %s, status %d\n", pid > 0 ? "pid" : "-1", ws);
	}
	return 0;
}
