/* The interposers: each calls the engine once it is attached, else the
 * next definition, with nothing in between, so that a process without
 * the engine behaves as if the front were not there. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "front.h"

#define FRONT_CALL(ret, name, params, args)                   \
	SHIM_EXPORT ret name params                           \
	{                                                     \
		const struct shim_calls *engine_ = shim_front_attached(); \
		if (engine_)                                  \
			return engine_->name args;            \
		return NEXT(name) args;                       \
	}
SHIM_CALLS(FRONT_CALL)
#undef FRONT_CALL

SHIM_EXPORT void exit(int status)
{
	const struct shim_calls *e = shim_front_attached();
	if (e)
		e->exit(status);
	NEXT(exit)(status);
}

/* glibc 2.34 added execveat; before it the system call itself, as the
 * engine does (engine/fork/guard_exec.c) */
SHIM_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	const struct shim_calls *e = shim_front_attached();
	if (e)
		return e->execveat(dirfd, path, argv, envp, flags);
	int (*next)(int, const char *, char *const[], char *const[], int) =
		shim_front_next.execveat ?: shim_front_resolve("execveat", (void **)&shim_front_next.execveat, false);
	if (next)
		return next(dirfd, path, argv, envp, flags);
	long (*sys)(long, ...) = shim_front_lookup("syscall");
#ifdef SYS_execveat
	if (sys)
		return (int)sys(SYS_execveat, dirfd, path, argv, envp, flags);
#endif
	(void)sys;
	int *(*err)(void) = shim_front_lookup("__errno_location");
	if (err)
		*err() = ENOSYS;
	return -1;
}

#if !defined(__powerpc__)
SHIM_EXPORT int __libc_start_main(shim_main_fn main, int argc, char **argv, void (*init)(void),
				  void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
	const struct shim_calls *e = shim_front_attached();
	if (e)
		return e->libc_start_main(main, argc, argv, init, fini, rtld_fini, stack_end);
	shim_start_main_fn next = shim_front_next.libc_start_main ?:
		shim_front_resolve("__libc_start_main", (void **)&shim_front_next.libc_start_main, true);
	return next(main, argc, argv, init, fini, rtld_fini, stack_end);
}
#endif

/* execl, execlp, execle: the argument list on this (the caller's)
 * stack, then the v form above, called directly (as glibc's execl calls
 * its own execve: a program's execv does not get it, and the front binds
 * no symbol of its own at load); no allocation, as after a fork of a
 * threaded program only async-signal-safe calls are allowed. */
extern __typeof__(execv) front_execv __attribute__((alias("execv"), visibility("hidden"), nothrow, leaf));
extern __typeof__(execvp) front_execvp __attribute__((alias("execvp"), visibility("hidden"), nothrow, leaf));
extern __typeof__(execve) front_execve __attribute__((alias("execve"), visibility("hidden"), nothrow, leaf));
#define COLLECT_ARGS(arg0, ap, argv, extra)                                \
	size_t argc_ = 1;                                                  \
	va_start(ap, arg0);                                                \
	while (va_arg(ap, char *))                                         \
		argc_++;                                                   \
	va_end(ap);                                                        \
	char *argv[argc_ + 1];                                             \
	argv[0] = (char *)arg0;                                            \
	va_start(ap, arg0);                                                \
	for (size_t i_ = 1; i_ <= argc_; i_++)                             \
		argv[i_] = va_arg(ap, char *);                             \
	extra;                                                             \
	va_end(ap)

SHIM_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv, (void)0);
	return front_execv(path, argv);
}

SHIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv, (void)0);
	return front_execvp(file, argv);
}

SHIM_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	char *const *envp;
	COLLECT_ARGS(arg, ap, argv, envp = va_arg(ap, char *const *));
	return front_execve(path, argv, envp);
}
