/* hostile CASE: arguments at and beyond the edges of the contract, each
 * result printed as a line that must read the same without the shim and
 * with it (the runner compares them):
 *   argv      empty argv, NULL envp, NULL path, empty path; NULL argv
 *             to execve (the kernel runs the program with argv {""})
 *   nullargv  posix_spawn with a NULL argv: glibc 2.36 crashes counting
 *             it (undefined behaviour); the shim's engine passes it to
 *             the kernel. Not compared: the runner asserts the shim's
 *             line only
 *   e2big     argv + envp just under the kernel's limit, then over it
 *   actions   file actions on descriptors that are not open (EBADF)
 *   system    system() with a 100 KiB command line; system(NULL)
 *   fds       each path runs ls /proc/self/fd: no descriptor of the
 *             shim's may reach a child */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

extern char **environ;

/* Called through a pointer: the NULLs below are the point of the test,
 * and a direct call would have UBSan (make check SANITIZE=undefined)
 * stop the program at posix_spawn's nonnull attribute. */
static int (*volatile posix_spawn_p)(pid_t *, const char *, const posix_spawn_file_actions_t *,
				     const posix_spawnattr_t *, char *const[], char *const[]) = posix_spawn;

/* posix_spawn, then the child's status; the child's stdout is ours */
static void spawn(const char *what, const char *path, const posix_spawn_file_actions_t *fa,
		  char *const argv[], char *const envp[])
{
	pid_t pid;
	int r = posix_spawn_p(&pid, path, fa, NULL, argv, envp);
	int st = -1;
	if (r == 0)
		waitpid(pid, &st, 0);
	printf("%s: posix_spawn %s, status %d\n", what, en(r), st);
	fflush(stdout);
}

/* fork + execve: fork's result, the exec's errno, the child's status */
static void fork_exec(const char *what, const char *path, char *const argv[], char *const envp[])
{
	int e, st = probe_fork_exec(path, argv, envp, &e);
	if (st == -1)
		printf("%s: fork -1 %s\n", what, en(e));
	else
		printf("%s: fork ok, exec %s, status %d\n", what, en(e), st);
	fflush(stdout);
}

static int case_argv(void)
{
	char *empty[] = { NULL };
	char *argv[] = { "true", NULL };
	spawn("empty argv", "/bin/true", NULL, empty, environ);
	spawn("NULL envp", "/bin/true", NULL, argv, NULL);
#ifdef __SANITIZE_ADDRESS__
	puts("NULL path: posix_spawn not tried (ASan's interceptor reads the path first)");
#else
	spawn("NULL path", NULL, NULL, argv, environ);
#endif
	spawn("empty path", "", NULL, argv, environ);
	fork_exec("NULL argv", "/bin/true", NULL, environ);
	fork_exec("NULL path", NULL, argv, environ);
	fork_exec("empty path", "", argv, environ);
	return 0;
}

/* n strings of len bytes each (plus NUL) */
static char **strings(size_t n, size_t len, char fill)
{
	char **v = calloc(n + 2, sizeof *v);
	v[0] = "true";
	for (size_t i = 1; i <= n; i++) {
		v[i] = malloc(len + 1);
		memset(v[i], fill, len);
		v[i][len] = '\0';
	}
	return v;
}

static int case_e2big(void)
{
	/* The kernel's limit is a quarter of the stack limit (8 MiB: 2 MiB)
	 * for the strings and their pointers together. */
	long max = sysconf(_SC_ARG_MAX);
	size_t each = 64 * 1024, n = (size_t)max / 2 / (each + 1 + sizeof(char *));
	char **argv = strings(n, each, 'a');
	char **envp = strings(n - 2, each, 'e');
	envp[0] = "X=1";
	spawn("under ARG_MAX", "/bin/true", NULL, argv, envp);
	fork_exec("under ARG_MAX", "/bin/true", argv, envp);
	char **over = strings(n * 2 + 8, each, 'o');
	spawn("over ARG_MAX", "/bin/true", NULL, over, envp);
	fork_exec("over ARG_MAX", "/bin/true", over, envp);
	return 0;
}

static int case_actions(void)
{
	char *argv[] = { "true", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	printf("adddup2(-1): %s\n", en(posix_spawn_file_actions_adddup2(&fa, -1, 1)));
	printf("addclose(-1): %s\n", en(posix_spawn_file_actions_addclose(&fa, -1)));
	printf("addopen(-1): %s\n", en(posix_spawn_file_actions_addopen(&fa, -1, "/dev/null", O_RDONLY, 0)));
	printf("adddup2(1, 100000): %s\n", en(posix_spawn_file_actions_adddup2(&fa, 1, 100000)));
	posix_spawn_file_actions_destroy(&fa);
	int bad = 900; /* not open */
	close(bad);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, bad, 1);
	spawn("dup2 from a closed fd", "/bin/true", &fa, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addclose(&fa, bad);
	spawn("close of a closed fd", "/bin/true", &fa, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 5, "/nonexistent/file", O_RDONLY, 0);
	spawn("open of a missing file", "/bin/true", &fa, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addfchdir_np(&fa, bad);
	spawn("fchdir to a closed fd", "/bin/true", &fa, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return 0;
}

static int case_system(void)
{
	size_t len = 100 * 1024;
	char *cmd = malloc(len + 64);
	strcpy(cmd, "printf %s ");
	size_t at = strlen(cmd);
	memset(cmd + at, 'x', len);
	strcpy(cmd + at + len, " | wc -c");
	fflush(stdout);
	int st = system(cmd);
	printf("system(100 KiB): status %d\n", st);
	printf("system(NULL): %d\n", system(NULL));
	free(cmd);
	return 0;
}

static int case_fds(void)
{
	char *argv[] = { "ls", "/proc/self/fd", NULL };
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execv("/bin/ls", argv);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	spawn("posix_spawn", "/bin/ls", NULL, argv, environ);
	fflush(stdout);
	system("ls /proc/self/fd");
	FILE *f = popen("ls /proc/self/fd", "r");
	char line[64];
	while (f && fgets(line, sizeof line, f))
		printf("popen: %s", line);
	if (f)
		pclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "argv")) return case_argv();
	if (!strcmp(c, "nullargv")) {
		spawn("NULL argv", "/bin/true", NULL, NULL, environ);
		return 0;
	}
	if (!strcmp(c, "e2big")) return case_e2big();
	if (!strcmp(c, "actions")) return case_actions();
	if (!strcmp(c, "system")) return case_system();
	if (!strcmp(c, "fds")) return case_fds();
	fprintf(stderr, "usage: hostile argv|nullargv|e2big|actions|system|fds\n");
	return 2;
}
