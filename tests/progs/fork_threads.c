/* 4 threads spawning through rerouted forks while 4 threads churn
 * malloc/free, in a process holding 1 GiB (argv[1] MiB) of touched
 * memory. Every child's output must come back right. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int done;
static int per_thread = 50;
static int good[4];

static void *churn(void *arg)
{
	unsigned seed = (unsigned)(long)arg;
	void *keep[64] = { 0 };
	while (!done) {
		int k = rand_r(&seed) % 64;
		free(keep[k]);
		keep[k] = malloc((size_t)(rand_r(&seed) % 65536) + 16);
		if (keep[k])
			memset(keep[k], k, 16);
	}
	for (int k = 0; k < 64; k++)
		free(keep[k]);
	return NULL;
}

static void *spawner(void *arg)
{
	int id = (int)(long)arg;
	for (int i = 0; i < per_thread; i++) {
		char want[32], got[64] = "";
		snprintf(want, sizeof want, "t%d-%d\n", id, i);
		int fd[2];
		if (pipe(fd))
			continue;
		pid_t p = fork();
		if (p == 0) {
			dup2(fd[1], 1);
			want[strlen(want) - 1] = '\0';
			execl("/bin/echo", "echo", want, (char *)0);
			_exit(127);
		}
		close(fd[1]);
		ssize_t n, len = 0;
		while ((n = read(fd[0], got + len, sizeof got - 1 - (size_t)len)) > 0)
			len += n;
		close(fd[0]);
		int st;
		waitpid(p, &st, 0);
		good[id] += p > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && !strcmp(got, want);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	if (argc > 2)
		per_thread = atoi(argv[2]);
	char *mem = malloc(mib << 20);
	if (!mem)
		return 2;
	memset(mem, 1, mib << 20);
	pthread_t c[4], s[4];
	for (long i = 0; i < 4; i++)
		pthread_create(&c[i], NULL, churn, (void *)(i + 1));
	for (long i = 0; i < 4; i++)
		pthread_create(&s[i], NULL, spawner, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(s[i], NULL);
	done = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(c[i], NULL);
	printf("%d of %d spawns from 4 threads returned the right output (%zu MiB held, malloc churning)\n",
	       good[0] + good[1] + good[2] + good[3], 4 * per_thread, mib);
	free(mem);
	return 0;
}
