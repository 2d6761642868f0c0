/* The spawn engine's child (spawn.c starts it): posix_spawn's work, in
 * glibc's order with glibc's errors, on a private stack in memory it
 * shares with the caller. Rules:
 *   - it starts with every signal blocked (the caller blocked them
 *     before the clone) and puts every handled signal back to SIG_DFL
 *     before it unblocks anything, so no handler runs on our data;
 *   - it reads only the caller's `struct shim_child_args` and writes
 *     only its `ran` and `err`, its own stack and the kernel's state;
 *   - no malloc, no lock, no stdio; it ends in execve or _exit. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "spawn.h"
#include "lockfree.h"

/* glibc declares it from 2.34; the kernel has had it since 5.9, under
 * the same number on every architecture (asm-generic numbering). */
#ifndef SYS_close_range
#ifdef __NR_close_range
#define SYS_close_range __NR_close_range
#else
#define SYS_close_range 436
#endif
#endif

/* Keeps the error pipe out of the way of a file action that targets
 * its descriptor number: that number was free in the caller, so the
 * action means a new descriptor there. */
static int move_pipe(struct shim_child_args *a, int target)
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

static int do_action(struct shim_child_args *a, const struct shim_fa *f)
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


/* The child: same steps, same order, same errors as glibc's
 * __spawni_child. Not ASan-instrumented: it runs on a stack ASan does
 * not know, where the instrumentation's call before _exit only makes
 * ASan print a warning into the child's stderr. */
__attribute__((no_sanitize_address)) int shim_engine_child(void *p)
{
	struct shim_child_args *a = p;
	a->ran = 1;
	shim_child_reset_handlers(a->flags & POSIX_SPAWN_SETSIGDEF ? &a->sigdef : NULL, a->internal_ignored);

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

	for (int i = 0; i < a->nacts; i++)
		if (do_action(a, &a->acts[i]) != 0)
			goto fail;

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
		/* the real one, through its pointer: a NULL argv goes to the
		 * kernel (which runs the program with argv {""}, or says
		 * EFAULT), where glibc's own child crashes counting it; and not
		 * the guard's, whose mask would override the one asked for
		 * (this child runs on its caller's TLS) */
		real.execve(a->file, a->argv, a->envp);
fail:;
	int err = errno ? errno : ECHILD;
	a->err = err;
	write(a->pipe_wr, &err, sizeof err);
	_exit(127);
}

