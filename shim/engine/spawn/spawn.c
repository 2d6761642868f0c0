/* The spawn engine: posix_spawn semantics on a child that shares our
 * memory, as glibc's spawni.c and musl's posix_spawn.c do it.
 *
 * The child runs shim_engine_child() (spawn_child.c, where its rules
 * are) on a private mmap'd stack with a guard page, through
 * clone(CLONE_VM|CLONE_VFORK|SIGCHLD); the calling thread sleeps in the
 * kernel until the child has exec'd or exited. errno is shared TLS: the
 * parent saves and restores its own.
 * Exec failure travels twice: through `args.err` in the shared memory,
 * and through a close-on-exec pipe. The pipe is read only when the
 * child's write to `args.ran` did not reach us, i.e. where vfork is
 * emulated by a plain fork (qemu-user); there EOF means exec worked. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"

#define KNOWN_FLAGS (POSIX_SPAWN_RESETIDS | POSIX_SPAWN_SETPGROUP |            \
		     POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |          \
		     POSIX_SPAWN_SETSCHEDPARAM | POSIX_SPAWN_SETSCHEDULER |    \
		     POSIX_SPAWN_USEVFORK | POSIX_SPAWN_SETSID)
#define CHILD_STACK (64 * 1024)


static int refused; /* the kernel said no to CLONE_VM once: stop asking */

bool shim_engine_wanted(bool is_posix_spawn)
{
	bool want = cfg.spawn == SPAWN_ALWAYS ||
		    (cfg.spawn == SPAWN_AUTO &&
		     (is_posix_spawn ? cfg.engine_for_posix_spawn : cfg.engine_for_system_popen));
	if (!want)
		shim_count_fallback(R_POLICY, false);
	return want;
}

static bool read_attr(struct shim_child_args *a, const posix_spawnattr_t *attr)
{
	if (!attr)
		return true;
	return posix_spawnattr_getflags(attr, &a->flags) == 0 &&
	       (a->flags & ~KNOWN_FLAGS) == 0 &&
	       posix_spawnattr_getpgroup(attr, &a->pgroup) == 0 &&
	       posix_spawnattr_getsigdefault(attr, &a->sigdef) == 0 &&
	       posix_spawnattr_getsigmask(attr, &a->sigmask) == 0 &&
	       posix_spawnattr_getschedpolicy(attr, &a->policy) == 0 &&
	       posix_spawnattr_getschedparam(attr, &a->sp) == 0;
}

static int decline(enum shim_reason r, int saved_errno)
{
	shim_count_fallback(r, false);
	errno = saved_errno;
	return SHIM_DECLINED;
}

/* What the running glibc's posix_spawn leaves glibc's own signals (32,
 * 33) at in the child. Up to glibc 2.38 its child sets every handled
 * signal to SIG_DFL by hand, those two to SIG_IGN, which exec keeps.
 * glibc 2.39 (which added posix_spawnattr_setcgroup_np with it, and
 * which the shim tells by that symbol: a feature, not a version) clones
 * with clone3(CLONE_CLEAR_SIGHAND), and the kernel sets every handled
 * signal to SIG_DFL, those two included; when clone3 is refused with
 * ENOSYS (seccomp, an old kernel) it falls back to the old way
 * (sysdeps/unix/sysv/linux/spawni.c, glibc 2.41). Asked once. */
static bool internal_ignored;
static pthread_once_t signals_once = PTHREAD_ONCE_INIT;

static void ask_signals(void)
{
	bool clone3_spawn = dlsym(RTLD_DEFAULT, "posix_spawnattr_setcgroup_np") != NULL;
#ifdef SYS_clone3
	bool clone3_works = syscall(SYS_clone3, NULL, 0) < 0 && errno != ENOSYS;
#else
	bool clone3_works = false;
#endif
	internal_ignored = !(clone3_spawn && clone3_works);
}

/* At start-up (attach.c), in a process where rerouted children may
 * come: what the engine asks libc once (ask_signals looks a symbol up;
 * the layout probe calls libc's file-action functions, which allocate)
 * must not be asked first by such a child, which shares the parent's
 * memory and may take neither the loader's lock nor the heap's: its
 * posix_spawn, system and popen run on the engine (issue 21). */
void shim_engine_prepare(void)
{
	pthread_once(&signals_once, ask_signals);
	shim_fa_layout_ok();
}

void shim_engine_declined(enum shim_reason r)
{
	shim_count_fallback(r, false);
}

int shim_engine_spawn(pid_t *pid, const char *file, const struct shim_fa *acts, int nacts,
		      const posix_spawnattr_t *attr, char *const argv[],
		      char *const envp[], bool use_path, bool *clone_failed)
{
	int saved_errno = errno;
	/* Called by a rerouted child, which shares our memory: the program
	 * must start as after a fork and this call, with the environment
	 * that child built (its setenv copy, when it passes environ) and the
	 * mask it asked for, not the mask it runs with (every signal
	 * blocked until its exec). */
	bool in_child = SHIM_IN_CHILD;
	if (in_child)
		envp = (char *const *)shim_guard_exec_env(envp);
	struct shim_child_args a = { .file = file, .argv = argv, .envp = envp,
				     .use_path = use_path, .acts = acts, .nacts = nacts };
	*clone_failed = false;
	if (__atomic_load_n(&refused, __ATOMIC_RELAXED))
		return decline(R_REFUSED, saved_errno);
	if (!read_attr(&a, attr))
		return decline(R_LAYOUT, saved_errno);
	pthread_once(&signals_once, ask_signals);
	a.internal_ignored = internal_ignored;
	if (use_path)
		a.path_env = getenv("PATH");

	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return decline(R_RESOURCE, saved_errno);
	a.pipe_wr = p[1];
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = CHILD_STACK + page;
	char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		close(p[0]);
		close(p[1]);
		return decline(R_RESOURCE, saved_errno);
	}
	mprotect(stack, page, PROT_NONE); /* guard page: overflow faults */

	int cancel_state;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	sigset_t mask;
	shim_block_all(&mask);
	a.oldmask = mask;
	if (in_child) { /* glibc's sigprocmask never blocks its own two */
		a.oldmask = shim_guard.want_mask;
		sigdelset(&a.oldmask, 32);
		sigdelset(&a.oldmask, 33);
	}

	pid_t child = clone(shim_engine_child, stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	int clone_errno = errno;
	close(p[1]);
	int ec = 0;
	if (child > 0) {
		if (a.ran) {
			ec = a.err;
		} else {
			int err;
			ssize_t r;
			while ((r = read(p[0], &err, sizeof err)) < 0 && errno == EINTR)
				;
			ec = r == (ssize_t)sizeof err ? err : 0;
		}
		if (ec > 0)
			while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
				;
	} else {
		ec = clone_errno;
	}
	close(p[0]);
	shim_asan_unpoison(stack + page, size - page);
	munmap(stack, size);
	shim_set_mask(&mask);
	pthread_setcancelstate(cancel_state, NULL);

	if (child <= 0 && (ec == EINVAL || ec == ENOSYS || ec == EPERM)) {
		if (!__atomic_exchange_n(&refused, 1, __ATOMIC_RELAXED))
			shim_log(LOG_INFO, "the kernel refused a CLONE_VM clone (%s); using libc from now on",
				 strerror(ec));
		return decline(R_REFUSED, saved_errno);
	}
	errno = saved_errno;
	if (child <= 0) { /* EAGAIN, ENOMEM: nothing was created */
		*clone_failed = true;
		return ec;
	}
	STAT_INC(spawn_engine);
	if (ec == 0 && pid)
		*pid = child;
	return ec;
}
