/* A fork taken while the library holds state (issue 21): the copy must
 * start with that state right, whoever forks and from where. Built with
 * -rdynamic: the spawn_* functions are user sites (tests/concurrency.sh).
 *
 *   fork_state grandchild    a thread idles; the site's child forks
 *                            again, the grandchild calls setenv and
 *                            execs (the window of env.c is open)
 *   fork_state thread-fork   the site's child takes 300 ms to exec;
 *                            meanwhile another thread forks, and its
 *                            child calls setenv and execs
 *   fork_state setenv-busy N a thread calls setenv in a loop over a
 *                            large environment; main forks N workers,
 *                            each starts a thread and spawns 3 times
 *                            through spawn_true (the counter of env.c
 *                            held below 0 by the setenv thread)
 *   fork_state rebuild N [site]  a thread loads and unloads a plugin and
 *                            forks through its site (the site table is
 *                            rebuilt each time); main forks N workers as
 *                            above, or (site) each from a site's child
 *   fork_state raw-copy      the site's child sets a variable, blocks
 *                            SIGUSR1 and forks with a raw syscall; the
 *                            copy flushes stdio and runs atexit handlers
 *                            at exit(), then execs a shell that shows
 *                            the variable and its mask
 *   fork_state raw-stats     counts in a parent, a vfork child and a raw
 *                            fork's child (each its own stats line)
 *   fork_state popen-copy N  a thread runs popen/pclose in a loop; main
 *                            makes N copies with a raw fork, each runs
 *                            popen (the engine's lock may be held)
 *   fork_state copy-threads N fork|raw [OPS]  N copies, each starts 8
 *                            threads that make its first calls into the
 *                            library at the same moment (OPS, a mask:
 *                            1 system, 2 setenv, 4 a site's fork, 8
 *                            popen; default all), then checks SIGINT,
 *                            setenv, a site's fork, popen and system
 *   fork_state own-iterate   a copy whose own thread sits in
 *                            dl_iterate_phdr when the copy first calls the
 *                            library; then 5 forks through the site
 *   fork_state loader-hold   a thread sits in dl_iterate_phdr while main
 *                            makes a copy with a raw fork; the copy forks
 *                            through the site (run it as process 1 too:
 *                            unshare -pf)
 *
 * Each worker or copy that hangs is reported and killed after a bound;
 * what is printed is the same without the shim. */
#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static volatile int stop;
static int fds[2];

static void *idle(void *a)
{
	(void)a;
	while (!stop)
		pause();
	return NULL;
}

static void start_idle(void)
{
	pthread_t t;
	pthread_create(&t, NULL, idle, NULL);
	pthread_detach(t);
}

/* A fork that no library sees: the system call itself (aarch64 and
 * riscv64 have no fork system call, only clone). */
static pid_t raw_fork(void)
{
#ifdef SYS_fork
	return (pid_t)syscall(SYS_fork);
#else
	return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#endif
}

/* The exit status of pid, or -1 if it did not end within `ms` (then it
 * is killed and reaped). */
static int wait_bounded(pid_t pid, int ms)
{
	const char *slow = getenv("VFORKSHIM_TEST_SLOW"); /* tests/lib.sh */
	if (slow && atoi(slow) > 1)
		ms *= atoi(slow);
	for (int i = 0; i < ms / 10; i++) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r < 0 && errno != EINTR)
			return -2;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* ---- sites ---- */
/* Written by spawn_true's child before it execs: the parent sees it only
 * where the child shared its memory, i.e. the fork was rerouted. */
static volatile pid_t shared_probe;

__attribute__((noinline)) pid_t spawn_true(void)
{
	pid_t p = fork();
	if (p == 0) {
		shared_probe = getpid();
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	return p;
}

__attribute__((noinline)) pid_t spawn_detached(void)
{
	pid_t p = fork();
	if (p == 0) {
		if (fork() == 0) {
			pid_t me = getpid();
			write(fds[1], &me, sizeof me);
			setenv("GC", "yes", 1);
			execlp("sh", "sh", "-c", "echo grandchild ran, GC=$GC", (char *)NULL);
			_exit(127);
		}
		_exit(0);
	}
	return p;
}

__attribute__((noinline)) pid_t spawn_slow(void)
{
	pid_t p = fork();
	if (p == 0) {
		usleep(300000);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	return p;
}

static void worker(void);

/* A fork of its own, two frames below spawn_worker: not the site's (a
 * user site is one frame deep), whether spawn_worker's own fork was
 * rerouted or, declined, a copy. */
__attribute__((noinline)) static pid_t fork_worker(void)
{
	pid_t w = fork();
	if (w == 0)
		worker();
	return w;
}

/* its child forks the worker (an ordinary process again) and goes */
__attribute__((noinline)) pid_t spawn_worker(void)
{
	pid_t p = fork();
	if (p == 0) {
		pid_t w = fork_worker();
		write(fds[1], &w, sizeof w);
		_exit(w < 0);
	}
	return p;
}

static void on_exit_copy(void)
{
	printf("the copy's atexit handler ran\n");
}

__attribute__((noinline)) pid_t spawn_rawfork(void)
{
	pid_t p = fork();
	if (p == 0) {
		setenv("RC", "set-in-child", 1);
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGUSR1);
		sigprocmask(SIG_BLOCK, &s, NULL);
		pid_t g = raw_fork();
		if (g == 0) {
			printf("copy: getenv(RC)=%s\n", getenv("RC"));
			atexit(on_exit_copy);
			fflush(stdout);
			if (fork() == 0) {
				execlp("sh", "sh", "-c", "echo copy execs: RC=$RC", (char *)NULL);
				_exit(127);
			}
			wait(NULL);
			if (fork() == 0) { /* dash would clear its mask: grep shows it */
				execlp("grep", "grep", "SigBlk", "/proc/self/status", (char *)NULL);
				_exit(127);
			}
			wait(NULL);
			printf("copy: done (buffered)\n");
			exit(0);
		}
		waitpid(g, NULL, 0);
		_exit(0);
	}
	return p;
}

/* ---- the modes ---- */

static int reap(pid_t p)
{
	int st;
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A worker: a thread of its own, 3 spawns through the site; it exits
 * with how many of them ran in its memory (rerouted), plus 10 if one
 * failed. _exit, not exit: another thread of the parent may have held
 * glibc's lock of the atexit list (dlclose does), which glibc does not
 * make right in the child: exit() would wait for ever there, with or
 * without the shim. */
static int report_fd = -1; /* a worker not ours to wait for writes it here */

static void worker(void)
{
	start_idle();
	char shared = 0;
	for (int i = 0; i < 3; i++) {
		shared_probe = 0;
		pid_t p = spawn_true();
		if (p < 0 || reap(p) != 0)
			_exit(10);
		shared += shared_probe == p;
	}
	if (report_fd >= 0)
		write(report_fd, &shared, 1);
	_exit(shared);
}

static int grandchild(void)
{
	start_idle();
	pipe(fds);
	pid_t p = spawn_detached();
	reap(p);
	pid_t gc;
	if (read(fds[0], &gc, sizeof gc) != sizeof gc)
		return 2;
	for (int i = 0; i < 50; i++) {
		if (kill(gc, 0) != 0) {
			puts("grandchild done");
			return 0;
		}
		usleep(100000);
	}
	printf("grandchild still running after 5 s\n");
	kill(gc, SIGKILL);
	return 1;
}

static void *fork_meanwhile(void *a)
{
	(void)a;
	usleep(100000); /* the site's child is running */
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		setenv("TF", "yes", 1);
		execlp("sh", "sh", "-c", "echo the thread\\'s child ran, TF=$TF", (char *)NULL);
		_exit(127);
	}
	int r = wait_bounded(c, 5000);
	printf(r == 0 ? "the thread's child exited 0\n" : "the thread's child hung or failed (%d)\n", r);
	return NULL;
}

static int thread_fork(void)
{
	pthread_t t;
	pthread_create(&t, NULL, fork_meanwhile, NULL);
	pid_t p = spawn_slow();
	int r = reap(p);
	pthread_join(t, NULL);
	printf("the site's child exited %d\n", r);
	return 0;
}

static void *setenv_loop(void *a)
{
	(void)a;
	char v[32];
	for (unsigned long i = 0; !stop; i++) {
		snprintf(v, sizeof v, "%lu", i);
		setenv("BUSY", v, 1);
	}
	return NULL;
}

static const char *plugin;

/* This thread alone may create no process: its clone fails at once
 * (EAGAIN, which the shim takes for what fork would say), so that its
 * loop is nearly all loading, unloading and rebuilding the site table,
 * and main's forks often find a rebuild half done. */
static void no_clone_in_this_thread(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 2, 0),
#ifdef SYS_clone3
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 1, 0),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAGAIN),
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog); /* this thread only */
}

static void *rebuild_loop(void *a)
{
	(void)a;
	no_clone_in_this_thread();
	while (!stop) {
		void *h = dlopen(plugin, RTLD_NOW);
		pid_t p = spawn_true(); /* the table is rebuilt, then EAGAIN */
		if (p > 0)
			reap(p);
		if (h)
			dlclose(h);
		p = spawn_true();
		if (p > 0)
			reap(p);
	}
	return NULL;
}

/* N workers, forked by main while the thread runs `loop`; each bounded */
static int workers(int n, void *(*loop)(void *), int through_site)
{
	pthread_t t;
	pipe(fds);
	pthread_create(&t, NULL, loop, NULL);
	usleep(20000);
	int hung = 0, failed = 0, shared = 0;
	for (int i = 0; i < n; i++) {
		pid_t w;
		fflush(stdout);
		if (through_site) {
			/* not our child: its end of `gone` closes when it ends;
			 * its count comes through the pipe */
			int gone[2];
			pipe(gone);
			report_fd = gone[1];
			pid_t p = spawn_worker();
			close(gone[1]);
			if (p < 0 || reap(p) != 0 || read(fds[0], &w, sizeof w) != sizeof w) {
				close(gone[0]);
				failed++;
				continue;
			}
			struct pollfd pf = { gone[0], POLLIN, 0 };
			char c;
			if (poll(&pf, 1, 5000) != 1) {
				hung++;
				kill(w, SIGKILL);
			} else if (read(gone[0], &c, 1) == 1) {
				shared += c;
			} else {
				failed++;
			}
			close(gone[0]);
			continue;
		}
		w = fork();
		if (w == 0)
			worker();
		int r = wait_bounded(w, 5000);
		hung += r == -1;
		failed += r < 0 || r >= 10;
		shared += r >= 0 && r < 10 ? r : 0;
		usleep(1000 * (i % 5));
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("%d workers: %d hung, %d failed, %d of their spawns ran in their memory\n", n, hung, failed, shared);
	return hung || failed;
}

static int setenv_busy(int n)
{
	/* a large environment: each setenv scans it, so that the setenv
	 * thread is inside setenv most of the time */
	char name[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof name, "PAD_%d", i);
		setenv(name, "x", 1);
	}
	return workers(n, setenv_loop, 0);
}

static int raw_copy(void)
{
	pid_t p = spawn_rawfork();
	int r = reap(p);
	printf("the site's child exited %d\n", r);
	return 0;
}

static int raw_stats(void)
{
	for (int i = 0; i < 2; i++)
		reap(spawn_true());
	pid_t v = vfork();
	if (v == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	reap(v);
	fflush(stdout);
	fflush(stderr);
	pid_t c = raw_fork();
	if (c == 0) {
		for (int i = 0; i < 2; i++)
			reap(spawn_true());
		exit(0);
	}
	int r = reap(c);
	reap(spawn_true());
	printf("the copy exited %d\n", r);
	return 0;
}

static void *popen_loop(void *a)
{
	(void)a;
	while (!stop) {
		FILE *f = popen("true", "r");
		if (f)
			pclose(f);
	}
	return NULL;
}

static int popen_copy(int n)
{
	pthread_t t;
	pthread_create(&t, NULL, popen_loop, NULL);
	usleep(20000);
	int ok = 0, hung = 0;
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		pid_t c = raw_fork();
		if (c == 0) {
			char line[64] = "";
			FILE *f = popen("echo copy ok", "r");
			if (!f || !fgets(line, sizeof line, f))
				_exit(1);
			_exit(pclose(f) == 0 && !strcmp(line, "copy ok\n") ? 0 : 2);
		}
		int r = wait_bounded(c, 5000);
		ok += r == 0;
		hung += r == -1;
		usleep(500 * (i % 7));
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("%d copies: %d ran popen, %d hung\n", n, ok, hung);
	return ok != n;
}

static pthread_barrier_t bar;
static int ops = 15;

static void *first_calls(void *a)
{
	long i = (long)a;
	while (!(ops & (1 << (i % 4))))
		i++;
	pthread_barrier_wait(&bar);
	switch (i % 4) {
	case 0:
		system("true");
		break;
	case 1: {
		char v[32];
		snprintf(v, sizeof v, "V%ld", i);
		setenv(v, "x", 1);
		unsetenv(v);
		break;
	}
	case 2:
		reap(spawn_true());
		break;
	case 3: {
		FILE *f = popen("true", "r");
		if (f)
			pclose(f);
		break;
	}
	}
	return NULL;
}

/* A copy's checks after its threads' first calls: each bit a failure */
static int copy_with_threads(void)
{
	pthread_t t[8];
	pthread_barrier_init(&bar, NULL, 8);
	for (long i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, first_calls, (void *)i);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	int bad = 0;
	struct sigaction sa;
	sigaction(SIGINT, NULL, &sa);
	bad |= sa.sa_handler != SIG_DFL;
	bad |= (setenv("AFTER", "1", 1) != 0) << 1;
	bad |= (reap(spawn_true()) != 0) << 2;
	char line[8] = "";
	FILE *f = popen("echo hi", "r");
	if (f) {
		fgets(line, sizeof line, f);
		pclose(f);
	}
	bad |= (strcmp(line, "hi\n") != 0) << 3;
	bad |= (system("true") != 0) << 4;
	return bad;
}

static int copy_threads(int n, bool raw)
{
	int hung = 0, bad = 0;
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		pid_t c = raw ? raw_fork() : fork();
		if (c == 0)
			_exit(copy_with_threads());
		int r = wait_bounded(c, 5000);
		hung += r == -1;
		bad += r != 0 && r != -1;
	}
	printf("%d copies with 8 threads each: %d hung, %d failed a check\n", n, hung, bad);
	return hung || bad;
}

static int sit(struct dl_phdr_info *info, size_t size, void *ms)
{
	(void)info, (void)size;
	usleep(1000 * *(int *)ms);
	return 1;
}

static void *iterate(void *ms)
{
	dl_iterate_phdr(sit, ms);
	return NULL;
}

/* A copy whose own thread is in dl_iterate_phdr at its first call: the
 * lock is held by a thread of the copy, which releases it. */
static int own_iterate(void)
{
	pid_t w = fork();
	if (w == 0) {
		int ms = 300, shared = 0;
		pthread_t t;
		pthread_create(&t, NULL, iterate, &ms);
		usleep(50000);
		setenv("FIRST", "call", 1);
		pthread_join(t, NULL);
		for (int i = 0; i < 5; i++) {
			shared_probe = 0;
			pid_t p = spawn_true();
			reap(p);
			shared += shared_probe == p;
		}
		_exit(shared);
	}
	int r = wait_bounded(w, 5000);
	printf("the copy's spawns: %d of 5 ran in its memory\n", r);
	return 0;
}

/* A copy made while another thread holds the loader's list lock */
static int loader_hold(void)
{
	int ms = 300;
	pthread_t t;
	pthread_create(&t, NULL, iterate, &ms);
	usleep(50000);
	fflush(stdout);
	pid_t c = raw_fork();
	if (c == 0) {
		pid_t p = spawn_true();
		_exit(p > 0 && reap(p) == 0 ? 0 : 1);
	}
	int r = wait_bounded(c, 5000);
	pthread_join(t, NULL);
	printf(r == 0 ? "the copy forked and its child ran\n" : "the copy hung or failed (%d)\n", r);
	return r != 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOFBF, 4096); /* a copy's unflushed buffer shows */
	const char *mode = argc > 1 ? argv[1] : "";
	int n = argc > 2 ? atoi(argv[2]) : 10;
	int r = 2;
	if (!strcmp(mode, "grandchild"))
		r = grandchild();
	else if (!strcmp(mode, "thread-fork"))
		r = thread_fork();
	else if (!strcmp(mode, "setenv-busy"))
		r = setenv_busy(n);
	else if (!strcmp(mode, "rebuild") && argc > 3) {
		plugin = argv[3];
		r = workers(n, rebuild_loop, argc > 4 && !strcmp(argv[4], "site"));
	} else if (!strcmp(mode, "raw-copy"))
		r = raw_copy();
	else if (!strcmp(mode, "raw-stats"))
		r = raw_stats();
	else if (!strcmp(mode, "popen-copy"))
		r = popen_copy(n);
	else if (!strcmp(mode, "copy-threads"))
	{
		ops = argc > 4 ? atoi(argv[4]) & 15 : 15;
		ops = ops ? ops : 15;
		r = copy_threads(n, argc > 3 && !strcmp(argv[3], "raw"));
	}
	else if (!strcmp(mode, "own-iterate"))
		r = own_iterate();
	else if (!strcmp(mode, "loader-hold"))
		r = loader_hold();
	else
		fprintf(stderr, "usage: fork_state grandchild|thread-fork|setenv-busy N|rebuild N PLUGIN [site]|"
				"raw-copy|raw-stats|popen-copy N|copy-threads N [raw]|own-iterate|loader-hold\n");
	fflush(stdout);
	return r;
}
