/* dumpable: as root, fork; the child drops to nobody (setgroups, setgid,
 * setuid), then, before it execs, lets a process of uid nobody try to
 * reach its memory, which with a rerouted fork is the parent's memory:
 * open /proc/CHILD/mem, process_vm_readv, PTRACE_ATTACH. Each must be
 * refused: the kernel makes a process whose credentials changed
 * non-dumpable. Prints each attempt's errno, the child's dumpable flag,
 * and the parent's afterwards (must be back to 1). */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../errname.h"

static volatile long secret = 0x5ec12e7;
static const char *en(int e) { return e ? errname(e) : "0 (reached)"; }

/* The prober, uid nobody: reads the child's pid and dumpable flag on
 * `in`, tries to reach it, writes its report on `rep`, then one byte on
 * `done` to let the child go on. */
static void prober(int in, int done, int rep)
{
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		_exit(1);
	int msg[2];
	if (read(in, msg, sizeof msg) != sizeof msg)
		_exit(1);
	pid_t target = msg[0];
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)target);
	int fd = open(path, O_RDONLY);
	int e1 = fd < 0 ? errno : 0;
	long buf;
	struct iovec local = { &buf, sizeof buf }, remote = { (void *)&secret, sizeof buf };
	int e2 = syscall(SYS_process_vm_readv, target, &local, 1, &remote, 1, 0) < 0 ? errno : 0;
	int e3 = ptrace(PTRACE_ATTACH, target, 0, 0) < 0 ? errno : 0;
	if (!e3)
		ptrace(PTRACE_DETACH, target, 0, 0);
	int n = snprintf(line, sizeof line,
			 "child dumpable after setuid: %d\n/proc/PID/mem: %s\nprocess_vm_readv: %s\nPTRACE_ATTACH: %s\n",
			 msg[1], en(e1), en(e2), en(e3));
	write(rep, line, (size_t)n);
	write(done, "", 1);
	_exit(0);
}

extern char **environ;

int main(int argc, char **argv)
{
	int to[2], done[2], rep[2];
	if (argc == 5 && !strcmp(argv[1], "probe"))
		prober(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (geteuid() != 0)
		return 77;
	if (pipe(to) || pipe(done) || pipe(rep))
		return 1;
	/* The prober is a program of its own (posix_spawn of ourselves): a
	 * forked prober that does not exec would hold a rerouted parent. */
	char a[3][16];
	snprintf(a[0], sizeof a[0], "%d", to[0]);
	snprintf(a[1], sizeof a[1], "%d", done[1]);
	snprintf(a[2], sizeof a[2], "%d", rep[1]);
	char *pargv[] = { argv[0], "probe", a[0], a[1], a[2], NULL };
	pid_t probe;
	if (posix_spawn(&probe, "/proc/self/exe", NULL, NULL, pargv, environ))
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(1);
		int msg[2] = { (int)syscall(SYS_getpid), (int)syscall(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0) };
		char c;
		write(to[1], msg, sizeof msg);
		if (read(done[0], &c, 1) != 1) /* the prober is done */
			_exit(1);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	waitpid(probe, NULL, 0);
	char report[512];
	ssize_t n = read(rep[0], report, sizeof report - 1);
	report[n > 0 ? n : 0] = '\0';
	printf("%schild exit %d\n", report, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	printf("parent dumpable afterwards: %d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	printf("secret intact: %s\n", secret == 0x5ec12e7 ? "yes" : "no");
	return 0;
}
