/* enomem GIB: holds GIB GiB of touched memory, then spawns /bin/true
 * once by each method and prints "method ok" or "method errno-name":
 *   libc_fork         libc's fork (a copy of the address space: under
 *                     strict overcommit it must commit GIB GiB more)
 *   fork              the program's fork: the shim's when preloaded
 *   libc_posix_spawn  glibc's posix_spawn */
#include "bench.h"
#include <errno.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, pid_t pid, int err)
{
	int st;
	if (pid < 0)
		printf("%s %s\n", name, err == ENOMEM ? "ENOMEM" : err == EAGAIN ? "EAGAIN" : "another errno");
	else if (waitpid(pid, &st, 0) == pid && st == 0)
		printf("%s ok\n", name);
	else
		printf("%s child-failed\n", name);
	fflush(stdout);
}

static void fork_exec(const char *name, pid_t (*f)(void))
{
	pid_t pid = f();
	if (pid == 0) {
		execve("/bin/true", bench_true_argv, bench_clean_env);
		_exit(127);
	}
	report(name, pid, errno);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	pid_t (*libc_fork)(void) = libc_sym("fork");
	int (*libc_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			  const posix_spawnattr_t *, char *const[], char *const[]) = libc_sym("posix_spawn");
	hold_memory(strtoul(argv[1], NULL, 10));
	fork_exec("libc_fork", libc_fork);
	fork_exec("fork", fork);
	pid_t pid;
	int err = libc_spawn(&pid, "/bin/true", NULL, NULL, bench_true_argv, bench_clean_env);
	report("libc_posix_spawn", err ? -1 : pid, err);
	return 0;
}
