/* A signal storm during 2,000 rerouted spawns: SIGUSR1 from a 10 kHz
 * timer plus SIGCHLD, both handled. No handler may run in a child (it
 * would run on the parent's memory: the handler checks the pid), the
 * parent's count must keep rising, and every child program must see the
 * mask and dispositions its child code asked for (SIGUSR2 blocked,
 * SIGTERM ignored, SIGUSR1 back at default). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t me;
static volatile sig_atomic_t usr1, chld, in_child;

static void on_signal(int sig)
{
	if (syscall(SYS_getpid) != me)
		in_child = 1; /* shared memory: the parent would see it */
	if (sig == SIGUSR1)
		usr1++;
	else
		chld++;
}

int main(int argc, char **argv)
{
	const char *report = argv[1];
	int n = argc > 2 ? atoi(argv[2]) : 2000, good = 0, rising = 1;
	me = getpid();
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	timer_t tm;
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	timer_create(CLOCK_MONOTONIC, &ev, &tm);
	struct itimerspec its = { { 0, 100000 }, { 0, 100000 } };
	timer_settime(tm, 0, &its, NULL);

	sig_atomic_t last = 0;
	for (int i = 0; i < n; i++) {
		int fd[2];
		if (pipe(fd))
			return 2;
		pid_t p = fork();
		if (p == 0) {
			sigset_t m;
			sigemptyset(&m);
			sigaddset(&m, SIGUSR2);
			sigprocmask(SIG_SETMASK, &m, NULL);
			signal(SIGTERM, SIG_IGN);
			dup2(fd[1], 1);
			execl(report, "report", "mask", "ign", (char *)0);
			_exit(127);
		}
		close(fd[1]);
		char buf[256] = "";
		ssize_t got = 0, r;
		while ((r = read(fd[0], buf + got, sizeof buf - 1 - (size_t)got)) > 0 || (r < 0 && errno == EINTR))
			got += r > 0 ? r : 0;
		close(fd[0]);
		int st;
		while (waitpid(p, &st, 0) < 0)
			;
		/* "report mask ign" prints SigBlk then SigIgn, one hex line each */
		char *second = strchr(buf, '\n');
		unsigned long long blk = strtoull(buf, NULL, 16), ign = second ? strtoull(second + 1, NULL, 16) : 0;
		good += WIFEXITED(st) && WEXITSTATUS(st) == 0 && blk == 1ULL << (SIGUSR2 - 1) &&
			(ign & 1ULL << (SIGTERM - 1)) && !(ign & 1ULL << (SIGUSR1 - 1));
		if ((i + 1) % 500 == 0) {
			rising &= usr1 > last;
			last = usr1;
		}
	}
	its = (struct itimerspec){ 0 };
	timer_settime(tm, 0, &its, NULL);
	printf("%d of %d children saw their mask and dispositions; handler ran in a child: %d; "
	       "SIGUSR1 count rose every 500 spawns: %d; SIGCHLD handled: %d\n",
	       good, n, in_child, rising, chld > 0);
	return 0;
}
