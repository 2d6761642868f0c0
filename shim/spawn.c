/* The spawn engine: posix_spawn semantics on a child that shares our
 * memory, as glibc's spawni.c and musl's posix_spawn.c do it.
 *
 * The child runs child_main() on a private mmap'd stack (with a guard
 * page) through clone(CLONE_VM|CLONE_VFORK|SIGCHLD); the calling thread
 * sleeps in the kernel until the child has exec'd or exited. Rules for
 * the child, which writes to our memory:
 *   - it starts with every signal blocked (ours were blocked before the
 *     clone) and puts every handled signal back to SIG_DFL before it
 *     unblocks anything, so no handler of ours runs on our data;
 *   - it uses its own stack and the read-only `struct child_args`;
 *   - errno is shared TLS: the parent saves and restores its own;
 *   - no malloc, no locks, no stdio; it ends in execve or _exit.
 * Exec failure travels twice: through `args.err` in the shared memory,
 * and through a close-on-exec pipe. The pipe is read only when the
 * child's write to `args.ran` did not reach us, i.e. where vfork is
 * emulated by a plain fork (qemu-user); there EOF means exec worked. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

#define KNOWN_FLAGS (POSIX_SPAWN_RESETIDS | POSIX_SPAWN_SETPGROUP |            \
		     POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |          \
		     POSIX_SPAWN_SETSCHEDPARAM | POSIX_SPAWN_SETSCHEDULER |    \
		     POSIX_SPAWN_USEVFORK | POSIX_SPAWN_SETSID)
#define CHILD_STACK (64 * 1024)

struct child_args {
	const char *file;
	char *const *argv, *const *envp;
	const char *path_env;
	bool use_path;
	const posix_spawn_file_actions_t *fa;
	short flags;
	pid_t pgroup;
	int policy;
	struct sched_param sp;
	sigset_t sigdef, sigmask, oldmask;
	int pipe_wr;
	volatile int ran, err;
};

static int refused; /* the kernel said no to CLONE_VM once: stop asking */

bool shim_engine_wanted(bool is_posix_spawn)
{
	/* system and popen hand libc's the program's environment; where
	 * that carries fork=all, the engine runs them with it stripped
	 * (child_env.c) unless the engine is off altogether */
	bool want = cfg.spawn == SPAWN_ALWAYS ||
		    (cfg.spawn == SPAWN_AUTO &&
		     (is_posix_spawn ? cfg.engine_for_posix_spawn
				     : cfg.engine_for_system_popen || shim_env_carries_fork_all()));
	if (!want)
		shim_count_fallback(R_POLICY, false);
	return want;
}

/* Keeps the error pipe out of the way of a file action that targets
 * its descriptor number: that number was free in the caller, so the
 * action means a new descriptor there. */
static int move_pipe(struct child_args *a, int target)
{
	if (a->pipe_wr != target)
		return 0;
	int moved = fcntl(a->pipe_wr, F_DUPFD_CLOEXEC, target + 1);
	if (moved < 0)
		return -1;
	close(a->pipe_wr);
	a->pipe_wr = moved;
	return 0;
}

static int close_from(int low, int keep)
{
	/* The pipe is close-on-exec already: leave it for the exec. */
	if (keep >= low) {
		if (keep > low && syscall(SYS_close_range, low, keep - 1, 0) != 0)
			goto slow;
		return syscall(SYS_close_range, keep + 1, ~0U, 0) == 0 ? 0 : -1;
	}
	if (syscall(SYS_close_range, low, ~0U, 0) == 0)
		return 0;
slow:
	if (errno != ENOSYS)
		return -1;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	for (rlim_t fd = (rlim_t)low; fd < rl.rlim_cur && fd < INT_MAX; fd++)
		if ((int)fd != keep)
			close((int)fd);
	return 0;
}

static int do_action(struct child_args *a, const struct shim_fa *f)
{
	switch (f->kind) {
	case FA_CLOSE:
		if (f->fd == a->pipe_wr) /* not open in the caller */
			return move_pipe(a, f->fd);
		if (close(f->fd) != 0) {
			/* glibc reports only descriptors out of range */
			struct rlimit rl;
			getrlimit(RLIMIT_NOFILE, &rl);
			if (f->fd < 0 || (rlim_t)f->fd >= rl.rlim_cur)
				return -1;
		}
		return 0;
	case FA_OPEN: {
		if (move_pipe(a, f->fd))
			return -1;
		close(f->fd); /* POSIX: an open fildes is closed first */
		int fd = open(f->path, f->oflag | O_LARGEFILE, f->mode);
		if (fd < 0)
			return -1;
		if (fd != f->fd) {
			if (dup2(fd, f->fd) != f->fd || close(fd) != 0)
				return -1;
		}
		return 0;
	}
	case FA_DUP2:
		if (f->fd == a->pipe_wr) {
			errno = EBADF;
			return -1;
		}
		if (f->fd == f->newfd) { /* Austin Group #411: clear FD_CLOEXEC */
			int fl = fcntl(f->fd, F_GETFD);
			return fl < 0 ? -1 : fcntl(f->fd, F_SETFD, fl & ~FD_CLOEXEC);
		}
		if (move_pipe(a, f->newfd))
			return -1;
		return dup2(f->fd, f->newfd) == f->newfd ? 0 : -1;
	case FA_CHDIR:
		return chdir(f->path);
	case FA_FCHDIR:
		if (f->fd == a->pipe_wr) {
			errno = EBADF;
			return -1;
		}
		return fchdir(f->fd);
	case FA_CLOSEFROM:
		return close_from(f->fd, a->pipe_wr);
	case FA_TCSETPGRP: {
		if (f->fd == a->pipe_wr) {
			errno = EBADF;
			return -1;
		}
		pid_t pgrp = (a->flags & POSIX_SPAWN_SETPGROUP) && a->pgroup
			     ? a->pgroup : getpgid(0);
		return tcsetpgrp(f->fd, pgrp);
	}
	}
	errno = EINVAL;
	return -1;
}

/* execve, called through a pointer: a NULL argv goes to the kernel
 * (which runs the program with argv {""}, or says EFAULT), where glibc's
 * own child crashes counting it; a direct call would break execve's
 * nonnull declaration (undefined, and flagged by UBSan). */
static int (*volatile const execve_any)(const char *, char *const[], char *const[]) = execve;

/* The child: same steps, same order, same errors as glibc's
 * __spawni_child. Not ASan-instrumented: it runs on a stack ASan does
 * not know, where the instrumentation's call before _exit only makes
 * ASan print a warning into the child's stderr. */
__attribute__((no_sanitize_address)) static int child_main(void *p)
{
	struct child_args *a = p;
	a->ran = 1;
	shim_child_reset_handlers(a->flags & POSIX_SPAWN_SETSIGDEF ? &a->sigdef : NULL);

	if ((a->flags & (POSIX_SPAWN_SETSCHEDPARAM | POSIX_SPAWN_SETSCHEDULER)) ==
	    POSIX_SPAWN_SETSCHEDPARAM) {
		if (sched_setparam(0, &a->sp) == -1)
			goto fail;
	} else if (a->flags & POSIX_SPAWN_SETSCHEDULER) {
		if (sched_setscheduler(0, a->policy, &a->sp) == -1)
			goto fail;
	}
	if ((a->flags & POSIX_SPAWN_SETSID) && setsid() < 0)
		goto fail;
	if ((a->flags & POSIX_SPAWN_SETPGROUP) && setpgid(0, a->pgroup) != 0)
		goto fail;
	/* Raw syscalls: glibc's seteuid would signal every thread of the
	 * parent (the setxid broadcast) from a child that is not one. */
	if ((a->flags & POSIX_SPAWN_RESETIDS) &&
	    (syscall(SHIM_SYS_setresuid, -1, getuid(), -1) != 0 ||
	     syscall(SHIM_SYS_setresgid, -1, getgid(), -1) != 0))
		goto fail;

	int n = shim_fa_count(a->fa);
	for (int i = 0; i < n; i++) {
		struct shim_fa f;
		shim_fa_get(a->fa, i, &f);
		if (do_action(a, &f) != 0)
			goto fail;
	}

	if (a->flags & POSIX_SPAWN_SETSIGMASK) {
		/* glibc's sigprocmask never blocks its internal signals */
		sigset_t m = a->sigmask;
		sigdelset(&m, 32);
		sigdelset(&m, 33);
		shim_set_mask(&m);
	} else {
		shim_set_mask(&a->oldmask);
	}

	if (a->use_path)
		shim_exec_search(a->file, a->argv, a->envp, a->path_env, false);
	else
		execve_any(a->file, a->argv, a->envp);
fail:;
	int err = errno ? errno : ECHILD;
	a->err = err;
	write(a->pipe_wr, &err, sizeof err);
	_exit(127);
}

static bool read_attr(struct child_args *a, const posix_spawnattr_t *attr)
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

int shim_engine_spawn(pid_t *pid, const char *file,
		      const posix_spawn_file_actions_t *fa,
		      const posix_spawnattr_t *attr, char *const argv[],
		      char *const envp[], bool use_path)
{
	int saved_errno = errno;
	struct child_args a = { .file = file, .argv = argv, .envp = envp,
				.use_path = use_path, .fa = fa };
	if (__atomic_load_n(&refused, __ATOMIC_RELAXED))
		return decline(R_REFUSED, saved_errno);
	if ((fa && !shim_fa_layout_ok()) || !read_attr(&a, attr))
		return decline(R_LAYOUT, saved_errno);
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
	shim_block_all(&a.oldmask);

	pid_t child = clone(child_main, stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
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
	shim_set_mask(&a.oldmask);
	pthread_setcancelstate(cancel_state, NULL);

	if (child <= 0 && (ec == EINVAL || ec == ENOSYS || ec == EPERM)) {
		if (!__atomic_exchange_n(&refused, 1, __ATOMIC_RELAXED))
			shim_log(LOG_INFO, "the kernel refused a CLONE_VM clone (%s); using libc from now on",
				 strerror(ec));
		return decline(R_REFUSED, saved_errno);
	}
	STAT_INC(spawn_engine);
	errno = saved_errno;
	if (ec == 0 && pid)
		*pid = child;
	return ec;
}
