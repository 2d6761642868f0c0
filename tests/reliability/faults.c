/* faults CASE: one injected fault, every spawn path tried under it,
 * each result printed as a line that must read the same without the
 * shim and with it (the runner compares them):
 *   nproc     RLIMIT_NPROC reached (as root: switched to nobody first)
 *   as        RLIMIT_AS just above the current size: no mapping fits
 *   exec      exec failing: ENOENT, EACCES, ENOEXEC, E2BIG, ETXTBSY
 *   killed    the child of fork killed (SIGKILL) before it execs
 *   signalled the forking thread sent 5 queued signals while its child
 *             waits 100 ms before exec: all 5 handled, once each
 *   sleeper   the child of fork never execs: sleeps 300 ms, _exit(7);
 *             prints whether fork() returned only after that (with the
 *             shim it must: the parent is suspended; without, not) */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

extern char **environ;

static void status(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: signal %d\n", what, WTERMSIG(st));
	else
		printf("%s: status %#x\n", what, st);
}

/* fork + execve(path, argv): fork's result, the exec's errno and the
 * child's end */
static void try_fork_exec(const char *what, const char *path, char *const argv[])
{
	int e, st = probe_fork_exec(path, argv, environ, &e);
	if (st == -1) {
		printf("%s: fork -1 %s\n", what, en(e));
		return;
	}
	printf("%s: fork ok, exec %s, ", what, en(e));
	status("child", st);
}

static void try_spawn(const char *what, const char *path, char *const argv[], int search)
{
	pid_t pid;
	int r = search ? posix_spawnp(&pid, path, NULL, NULL, argv, environ)
		       : posix_spawn(&pid, path, NULL, NULL, argv, environ);
	if (r) {
		printf("%s: %s %s\n", what, search ? "posix_spawnp" : "posix_spawn", en(r));
		return;
	}
	int st;
	waitpid(pid, &st, 0);
	printf("%s: %s ok, ", what, search ? "posix_spawnp" : "posix_spawn");
	status("child", st);
}

static void try_system_popen(const char *what)
{
	errno = 0;
	int st = system("exit 3");
	int e = errno;
	if (st == -1)
		printf("%s: system -1 %s\n", what, en(e));
	else
		status("system", st);
	errno = 0;
	FILE *f = popen("echo hi", "r");
	e = errno;
	if (!f) {
		printf("%s: popen NULL %s\n", what, en(e));
		return;
	}
	char buf[16] = "";
	fgets(buf, sizeof buf, f);
	printf("%s: popen read %s", what, buf);
	status("pclose", pclose(f));
}

static char *true_argv[] = { "true", NULL };

static void all_paths(const char *what)
{
	try_fork_exec(what, "/bin/true", true_argv);
	try_spawn(what, "/bin/true", true_argv, 0);
	try_spawn(what, "true", true_argv, 1);
	try_system_popen(what);
}

static int case_nproc(void)
{
	if (geteuid() == 0 && (setgroups(0, NULL) || setgid(65534) || setuid(65534)))
		return perror("drop to nobody"), 1;
	struct rlimit rl = { 0, 0 };
	if (setrlimit(RLIMIT_NPROC, &rl))
		return perror("setrlimit"), 1;
	all_paths("nproc");
	return 0;
}

static int case_as(void)
{
	struct rlimit rl;
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	if (!f || fscanf(f, "%lu", &pages) != 1)
		return 1;
	fclose(f);
	/* room for stdio's buffers, not for a spawn's stack */
	rl.rlim_cur = rl.rlim_max = pages * 4096 + 8192;
	if (setrlimit(RLIMIT_AS, &rl))
		return perror("setrlimit"), 1;
	all_paths("as");
	return 0;
}

static int case_exec(void)
{
	char dir[] = "/tmp/vforkshim-faults-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char noexec[64], garbage[64], busy[64];
	snprintf(noexec, sizeof noexec, "%s/noexec", dir);
	snprintf(garbage, sizeof garbage, "%s/garbage", dir);
	snprintf(busy, sizeof busy, "%s/busy", dir);
	int fd = open(noexec, O_WRONLY | O_CREAT, 0644);
	close(fd);
	fd = open(garbage, O_WRONLY | O_CREAT, 0755);
	write(fd, "\x01\x02\x03 not a program\n", 18);
	close(fd);
	/* a copy of /bin/true kept open for writing: ETXTBSY */
	int in = open("/bin/true", O_RDONLY), out = open(busy, O_WRONLY | O_CREAT, 0755);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		write(out, buf, (size_t)n);
	close(in);
	size_t big = 200 * 1024; /* one argument beyond MAX_ARG_STRLEN */
	char *huge = malloc(big + 1);
	memset(huge, 'x', big);
	huge[big] = '\0';
	char *big_argv[] = { "true", huge, NULL };
	struct { const char *what, *path; char **argv; } c[] = {
		{ "ENOENT", "/nonexistent/program", true_argv },
		{ "EACCES", noexec, true_argv },
		{ "EACCES-dir", dir, true_argv },
		{ "ENOEXEC", garbage, true_argv },
		{ "E2BIG", "/bin/true", big_argv },
		{ "ETXTBSY", busy, true_argv },
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		try_fork_exec(c[i].what, c[i].path, c[i].argv);
		try_spawn(c[i].what, c[i].path, c[i].argv, 0);
	}
	try_spawn("ENOENT-search", "no-such-program-anywhere", true_argv, 1);
	close(out);
	unlink(noexec);
	unlink(garbage);
	unlink(busy);
	rmdir(dir);
	free(huge);
	return 0;
}

static int case_killed(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		raise(SIGKILL);
		execve("/bin/true", true_argv, environ);
		_exit(127);
	}
	int st;
	printf("killed: fork %s\n", pid > 0 ? "ok" : "-1");
	waitpid(pid, &st, 0);
	status("killed: child", st);
	all_paths("after");
	return 0;
}

static volatile sig_atomic_t handled;
static void on_signal(int sig) { (void)sig; handled++; }
static pthread_t forker;
static void *sender(void *arg)
{
	(void)arg;
	struct timespec ms10 = { 0, 10 * 1000000 };
	nanosleep(&ms10, NULL);
	for (int i = 0; i < 5; i++) {
		pthread_kill(forker, SIGRTMIN + 2);
		nanosleep(&ms10, NULL);
	}
	return NULL;
}

static int case_signalled(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGRTMIN + 2, &sa, NULL);
	forker = pthread_self();
	pthread_t t;
	pthread_create(&t, NULL, sender, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct timespec ms100 = { 0, 100 * 1000000 };
		nanosleep(&ms100, NULL);
		execve("/bin/true", true_argv, environ);
		_exit(127);
	}
	pthread_join(t, NULL);
	int st;
	waitpid(pid, &st, 0);
	printf("signalled: fork %s, handled %d of 5\n", pid > 0 ? "ok" : "-1", (int)handled);
	status("signalled: child", st);
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int case_sleeper(void)
{
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		struct timespec ms300 = { 0, 300 * 1000000 };
		nanosleep(&ms300, NULL);
		_exit(7);
	}
	double waited = now() - t0;
	int st;
	waitpid(pid, &st, 0);
	printf("sleeper: fork returned after the child ended: %s\n", waited >= 0.25 ? "yes" : "no");
	status("sleeper: child", st);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "nproc")) return case_nproc();
	if (!strcmp(c, "as")) return case_as();
	if (!strcmp(c, "exec")) return case_exec();
	if (!strcmp(c, "killed")) return case_killed();
	if (!strcmp(c, "signalled")) return case_signalled();
	if (!strcmp(c, "sleeper")) return case_sleeper();
	fprintf(stderr, "usage: faults nproc|as|exec|killed|signalled|sleeper\n");
	return 2;
}
