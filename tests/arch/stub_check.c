/* The stub-level checks of asm/<arch>.S, on whatever kernel runs this:
 * natively (i386 on an x86_64 kernel, x86_64) or as /init of a
 * qemu-system guest (pid 1: it powers the machine off at the end).
 * Static, and linked with the stub alone, not the library.
 *
 *   pid      the child's pid in the parent, 0 in the child
 *   shared   a global the child writes is seen by the parent
 *   suspend  the parent runs again only after the child exits or execs
 *   scribble the child writes 64 KiB of stack and returns through the
 *            caller's frame; the caller's locals, live values (held in
 *            callee-saved registers) and errno are intact after
 *   errno    fork refused by RLIMIT_NPROC (as nobody): -EAGAIN
 *   enobufs  a region that does not fit `cap`: -ENOBUFS, no child
 *   repeat   200 rounds of scribble
 * One "ok:"/"FAIL:" line each, then "stub-check <arch>: P passed, F failed". */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long shim_vfork_clone(void *save, const void *top, size_t cap);

#ifndef ARCH_NAME
#define ARCH_NAME "?"
#endif
#define CAP (256 * 1024)

static int pass, fail;
static void check(const char *what, int ok)
{
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	fflush(stdout);
	ok ? pass++ : fail++;
}

static char *save;
static volatile int shared_word;
static volatile int child_done;

__attribute__((noinline)) static void scribble_and_exit(int code)
{
	volatile char junk[64 * 1024];
	memset((char *)junk, 0xA5, sizeof junk);
	_exit(code + junk[100] - (char)0xA5);
}

/* One rerouted fork. mode 0: the child writes shared_word and exits
 * 7; 1: it sleeps 50 ms first, then sets child_done; 2: it scribbles
 * the stack (below this frame and this frame's locals) and exits 0.
 * Returns the pid (or -errno); *live_ok: the live values held. */
__attribute__((noinline)) static long one(int mode, const void *top, int *live_ok)
{
	volatile unsigned long local = 0x5eed1234UL + (unsigned)mode;
	unsigned long a = (unsigned long)live_ok * 3 + 1, b = a * 7, c = b ^ 0x55aa, d = c + a;
	errno = 4242;
	long r = shim_vfork_clone(save, top, CAP);
	if (r == 0) {
		local = 0;
		if (mode == 0)
			shared_word = getpid();
		if (mode == 1) {
			struct timespec ts = { 0, 50 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			child_done = 1;
		}
		if (mode == 2)
			scribble_and_exit(0);
		_exit(7);
	}
	*live_ok = local == 0x5eed1234UL + (unsigned)mode && errno == 4242 &&
		   b == a * 7 && c == (b ^ 0x55aa) && d == c + a;
	return r;
}

static int reap(long pid)
{
	int st;
	return waitpid((pid_t)pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* After the stub's checks, as pid 1: the library's (preload_check.c),
 * when the initramfs carries them. */
static void run_preload_check(void)
{
	if (access("/preload_check", X_OK) != 0) {
		puts("preload-check: not in this initramfs");
		return;
	}
	char *envp[] = { "VFORKSHIM=1", "VFORKSHIM_FORK=all", "VFORKSHIM_STATS=1",
			 "LD_PRELOAD=/lib/libvforkshim.so", "PATH=/", NULL };
	char *argv[] = { "preload_check", NULL };
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		execve("/preload_check", argv, envp);
		perror("execve /preload_check");
		_exit(127);
	}
	int st;
	waitpid(p, &st, 0);
	printf("preload-check exit status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "exit")) /* an exec target */
		return atoi(argv[2]);
	volatile char anchor; /* the region's top: above every frame of one() */
	const void *top = (const void *)&anchor;
	int live;
	save = mmap(NULL, CAP + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	long pid = one(0, top, &live);
	check("pid: the child's pid in the parent (and the child ran: exit 7)", pid > 0 && reap(pid) == 7);
	check("shared: the child's write to a global is seen by the parent", shared_word == (int)pid);
	child_done = 0;
	pid = one(1, top, &live);
	check("suspend: the parent resumed only after the child exited", child_done == 1 && reap(pid) == 7);
	pid = one(2, top, &live);
	check("scribble: locals, live values and errno intact after the child wrote 64 KiB of stack",
	      pid > 0 && live && reap(pid) == 0);

	pid_t p = fork();
	if (p == 0) {
		struct rlimit rl = { 0, 0 };
		if (getuid() == 0 && setuid(65534) != 0)
			_exit(90);
		setrlimit(RLIMIT_NPROC, &rl);
		long r = one(0, top, &live);
		_exit(r == -EAGAIN ? 0 : r > 0 ? 91 : 92);
	}
	check("errno: fork refused by RLIMIT_NPROC comes back as -EAGAIN", reap(p) == 0);
	long r = shim_vfork_clone(save, (const void *)((uintptr_t)__builtin_frame_address(0) + 2 * CAP), CAP);
	check("enobufs: a region larger than cap: -ENOBUFS, no child", r == -ENOBUFS && waitpid(-1, NULL, WNOHANG) < 0);

	int good = 0;
	for (int i = 0; i < 200; i++) {
		pid = one(2, top, &live);
		good += pid > 0 && live && reap(pid) == 0;
	}
	char line[96];
	snprintf(line, sizeof line, "repeat: 200 rounds of scribble, %d intact", good);
	check(line, good == 200);

	printf("stub-check %s: %d passed, %d failed\n", ARCH_NAME, pass, fail);
	fflush(stdout);
	if (getpid() == 1) {
		run_preload_check();
		sync();
		reboot(RB_POWER_OFF);
	}
	return fail != 0;
}
