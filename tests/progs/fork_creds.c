/* As root, with 4 parent threads watching their own credentials: each
 * child of a rerouted fork drops to nobody (setgid, setgroups, setuid)
 * and runs `id`. The child must run as nobody and be non-dumpable
 * before its exec; no parent thread may see its credentials change,
 * nothing may hang (glibc's set*id would signal the parent's threads
 * from the child), and the parent must stay dumpable. */
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop, changed;
static volatile unsigned long rounds[4];

static void *watch(void *arg)
{
	int id = (int)(long)arg;
	while (!stop) {
		if (syscall(SYS_getuid) != 0 || syscall(SYS_geteuid) != 0 || syscall(SYS_getgid) != 0 ||
		    getgroups(0, NULL) < 0)
			changed = 1;
		rounds[id]++;
	}
	return NULL;
}

int main(void)
{
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, watch, (void *)i);
	int n = 20, good = 0;
	for (int i = 0; i < n; i++) {
		unsigned long before = rounds[0] + rounds[1] + rounds[2] + rounds[3];
		pid_t p = fork();
		if (p == 0) {
			gid_t g = 65534;
			if (setgid(65534) || setgroups(1, &g) || setuid(65534))
				_exit(10);
			if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0 || getuid() != 65534)
				_exit(11);
			execl("/usr/bin/id", "id", "-u", (char *)0);
			_exit(127);
		}
		int st;
		waitpid(p, &st, 0);
		while (rounds[0] + rounds[1] + rounds[2] + rounds[3] < before + 4)
			sched_yield(); /* the threads still run */
		good += WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			printf("child %d: status %x\n", i, st);
	}
	stop = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("%d of %d children dropped to nobody; parent threads saw a change: %d; parent uid %d, dumpable %d\n",
	       good, n, changed, (int)getuid(), prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	return 0;
}
