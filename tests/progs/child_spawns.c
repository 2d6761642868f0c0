/* A site's child that starts programs itself (issue 21, item 2): each
 * program must start exactly as after a fork and that call, with the
 * environment the child built and the mask it asked for.
 *
 *   child_spawns MODE REPORT
 *
 * run_helper's child calls setenv("HELPER", "set-in-child"), blocks
 * SIGUSR1, ignores SIGUSR2, then, by MODE:
 *   system        system("REPORT env:HELPER mask ign")
 *   system-sh     system("echo HELPER=$HELPER") (through the shell's
 *                 own expansion)
 *   popen         popen of the same REPORT line, read back, pclose
 *   spawn         posix_spawn(REPORT, ..., environ)
 *   spawnp        posix_spawnp("report", ...) found only through the
 *                 PATH the child set (REPORT's folder)
 *   spawn-mask    posix_spawn with POSIX_SPAWN_SETSIGMASK {SIGUSR2}
 *                 and a file action (stdout to stdout, dup2'd)
 *   spawn-envp    posix_spawn with an explicit envp {"ONLY=this"}
 *   fexecve       fexecve of REPORT opened by the child, environ
 *   system-ignchld  SIGCHLD ignored in the program: system("exit 3")
 *                 gives -1 and ECHILD, as glibc's
 *   system-sigint system("kill -INT $PPID; kill -QUIT $PPID"): ignored
 *                 while system runs, so gone; then the child execs a
 *                 shell that must live to print
 *   popen-left    popen("cat >/dev/null", "w"), a buffered write, and an
 *                 exec without pclose; the parent then opens files on
 *                 the next descriptors and flushes every stream it has:
 *                 the child's buffer must not land in them
 *   popen-copy    popen("cat >/dev/null", "w"), then a fork whose child
 *                 popens `sleep 1` and leaves it; the child's pclose must
 *                 not wait for that sleeper (its popen closed the
 *                 child's stream), and the grandchild's popen child
 *                 lists its descriptors
 *   popen-fclose  popen("cat >/dev/null", "w"), then fclose (not pclose:
 *                 undefined, but done) before the exec; the parent then
 *                 allocates and opens files as usual
 *   pclose-parents  the child pcloses a stream the parent popened (the
 *                 parent's buffer holds a line); the parent writes more
 *                 and pcloses it after the child is gone
 *   popen-race    popen("cat >/dev/null", "w") and a buffered write, then
 *                 0.3 s before the exec; meanwhile a parent thread opens
 *                 files and flushes every stream
 *   system-blocked  the child blocks SIGINT, then system("kill -INT $PPID")
 *                 and an exec: SIGINT stays pending, as glibc leaves it
 * and exits with what the call returned. Meanwhile a thread of the
 * parent reads HELPER in a loop: it must never see the child's. The
 * parent prints the child's status, what the reader saw and its own
 * HELPER. Built with -rdynamic: run_helper is a user site. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static const char *mode, *report;
static FILE *parents_stream; /* pclose-parents */
static volatile int stop, seen;

static void *reader(void *a)
{
	(void)a;
	while (!stop)
		if (getenv("HELPER"))
			seen = 1;
	return NULL;
}

static long race_bytes = -1;

/* popen-race: files on the next descriptors, and every stream flushed,
 * while the child runs */
static void *flush_meanwhile(void *a)
{
	(void)a;
	usleep(100000);
	FILE *files[4];
	for (int i = 0; i < 4; i++)
		files[i] = tmpfile();
	fflush(NULL);
	race_bytes = 0;
	for (int i = 0; i < 4; i++) {
		fseek(files[i], 0, SEEK_END);
		race_bytes += ftell(files[i]);
		fclose(files[i]);
	}
	return NULL;
}

static void say(const char *s)
{
	write(1, s, strlen(s));
}

static int wait_for(pid_t p)
{
	int st;
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* In the child: start the program MODE asks for; the status to exit with */
static int start(void)
{
	char line[4200];
	snprintf(line, sizeof line, "%s env:HELPER env:ONLY mask ign", report);
	char *argv[] = { (char *)report, "env:HELPER", "env:ONLY", "mask", "ign", NULL };
	pid_t p;
	if (!strcmp(mode, "system"))
		return WEXITSTATUS(system(line));
	if (!strcmp(mode, "system-sh"))
		return WEXITSTATUS(system("echo HELPER=$HELPER"));
	if (!strcmp(mode, "system-ignchld")) {
		errno = 0;
		int r = system("exit 3");
		char buf[64];
		snprintf(buf, sizeof buf, "system: %d, errno %s\n", r, errno == ECHILD ? "ECHILD" : "other");
		say(buf);
		return 0;
	}
	if (!strcmp(mode, "popen")) {
		FILE *f = popen(line, "r");
		char buf[256];
		if (!f)
			return 90;
		while (fgets(buf, sizeof buf, f))
			say(buf);
		return WEXITSTATUS(pclose(f));
	}
	if (!strcmp(mode, "spawn") || !strcmp(mode, "spawnp") || !strcmp(mode, "spawn-envp")) {
		char *only[] = { "ONLY=this", NULL };
		int r = !strcmp(mode, "spawnp") ? posix_spawnp(&p, "report", NULL, NULL, argv, environ)
			: posix_spawn(&p, report, NULL, NULL, argv, !strcmp(mode, "spawn-envp") ? only : environ);
		return r ? 80 + r : wait_for(p);
	}
	if (!strcmp(mode, "spawn-mask")) {
		posix_spawnattr_t at;
		posix_spawn_file_actions_t fa;
		sigset_t m;
		sigemptyset(&m);
		sigaddset(&m, SIGUSR2);
		posix_spawnattr_init(&at);
		posix_spawnattr_setsigmask(&at, &m);
		posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, 1, 1);
		int r = posix_spawn(&p, report, &fa, &at, argv, environ);
		return r ? 80 + r : wait_for(p);
	}
	if (!strcmp(mode, "system-sigint")) {
		system("kill -INT $PPID; kill -QUIT $PPID");
		execl("/bin/sh", "sh", "-c", "sleep 0.2; echo the program the child ran lived", (char *)NULL);
		return 127;
	}
	if (!strcmp(mode, "popen-left")) {
		FILE *f = popen("cat >/dev/null", "w");
		if (!f)
			return 90;
		fputs("CHILD-DATA", f);
		execl("/bin/true", "true", (char *)NULL);
		return 127;
	}
	if (!strcmp(mode, "popen-copy")) {
		FILE *f = popen("cat >/dev/null", "w");
		if (!f)
			return 90;
		fflush(stdout);
		pid_t g = fork();
		if (g == 0) {
			FILE *s = popen("sleep 1", "r");
			FILE *l = popen("ls /proc/self/fd | sort -n | tr '\\n' ' '", "r");
			char buf[256] = "";
			if (l && fgets(buf, sizeof buf, l)) {
				say("the grandchild's popen child has descriptors: ");
				say(buf);
				say("\n");
			}
			(void)s;
			_exit(0);
		}
		wait_for(g);
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		pclose(f);
		clock_gettime(CLOCK_MONOTONIC, &b);
		say(b.tv_sec - a.tv_sec + (b.tv_nsec - a.tv_nsec) / 1e9 < 0.5 ? "pclose did not wait for the grandchild's popen\n"
									: "pclose waited for the grandchild's popen\n");
		return 0;
	}
	if (!strcmp(mode, "popen-fclose") || !strcmp(mode, "popen-race")) {
		FILE *f = popen("cat >/dev/null", "w");
		if (!f)
			return 90;
		fputs("CHILD-DATA\n", f);
		if (!strcmp(mode, "popen-fclose")) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-dealloc" /* the point of the test */
#endif
			fclose(f);
		}
		else
			usleep(300000);
		execl("/bin/true", "true", (char *)NULL);
		return 127;
	}
	if (!strcmp(mode, "pclose-parents")) {
		errno = 0;
		int r = pclose(parents_stream);
		char buf[64];
		snprintf(buf, sizeof buf, "the child's pclose of the parent's: %d, %s\n", r, errno == ECHILD ? "ECHILD" : "other");
		say(buf);
		return 0;
	}
	if (!strcmp(mode, "system-blocked")) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGINT);
		sigprocmask(SIG_BLOCK, &s, NULL);
		system("kill -INT $PPID");
		execl(report, report, "mask", "pnd", (char *)NULL);
		return 127;
	}
	if (!strcmp(mode, "fexecve")) {
		int fd = open(report, O_RDONLY | O_CLOEXEC);
		fexecve(fd, argv, environ);
		return 127;
	}
	return 99;
}

__attribute__((noinline)) pid_t run_helper(void)
{
	pid_t p = fork();
	if (p == 0) {
		setenv("HELPER", "set-in-child", 1);
		/* the programs it starts are not preloaded: before glibc 2.34
		 * the library brings libpthread in, which installs handlers for
		 * signals 32 and 33 in the program (a difference of preloading,
		 * not of the spawn); and the unsetenv must reach them too */
		unsetenv("LD_PRELOAD");
		if (!strcmp(mode, "spawnp")) {
			char dir[4096];
			snprintf(dir, sizeof dir, "%s", report);
			*strrchr(dir, '/') = '\0';
			setenv("PATH", dir, 1);
		}
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGUSR1);
		sigprocmask(SIG_BLOCK, &s, NULL);
		signal(SIGUSR2, SIG_IGN);
		_exit(start());
	}
	return p;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: child_spawns MODE REPORT\n");
		return 2;
	}
	mode = argv[1];
	report = argv[2];
	if (!strcmp(mode, "system-ignchld"))
		signal(SIGCHLD, SIG_IGN);
	if (!strcmp(mode, "pclose-parents")) {
		parents_stream = popen("cat", "w");
		fputs("the parent's line, buffered before the fork\n", parents_stream);
	}
	pthread_t t, flusher;
	pthread_create(&t, NULL, reader, NULL);
	if (!strcmp(mode, "popen-race"))
		pthread_create(&flusher, NULL, flush_meanwhile, NULL);
	fflush(stdout);
	pid_t p = run_helper();
	int r = p < 0 ? -1 : !strcmp(mode, "system-ignchld") ? 0 : wait_for(p);
	if (!strcmp(mode, "system-ignchld"))
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
	stop = 1;
	pthread_join(t, NULL);
	if (!strcmp(mode, "popen-race")) {
		pthread_join(flusher, NULL);
		printf("files a parent thread opened and flushed while the child ran hold %ld bytes\n", race_bytes);
	}
	if (!strcmp(mode, "popen-fclose")) {
		void *blocks[64];
		for (int i = 0; i < 64; i++)
			blocks[i] = malloc(472);
		FILE *x = fopen("/dev/null", "w"), *y = fopen("/dev/null", "w");
		for (int i = 0; i < 64; i++)
			free(blocks[i]);
		fclose(x);
		fclose(y);
		printf("the parent allocated and opened files after the child\n");
	}
	if (!strcmp(mode, "pclose-parents")) {
		fputs("the parent's line after the child\n", parents_stream);
		printf("the parent's pclose: %d\n", pclose(parents_stream));
	}
	if (!strcmp(mode, "popen-left")) {
		/* descriptors the child's stream had, now the parent's files */
		FILE *files[4];
		for (int i = 0; i < 4; i++)
			files[i] = tmpfile();
		fflush(NULL);
		long sizes = 0;
		for (int i = 0; i < 4; i++) {
			fseek(files[i], 0, SEEK_END);
			sizes += ftell(files[i]);
		}
		printf("the parent's new files hold %ld bytes after fflush(NULL)\n", sizes);
	}
	printf("the child exited %d; the parent's reader saw HELPER: %s; the parent's HELPER: %s\n", r,
	       seen ? "yes" : "no", getenv("HELPER") ? getenv("HELPER") : "(unset)");
	return 0;
}
