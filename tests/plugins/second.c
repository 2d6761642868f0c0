/* libsecond.so: another preloaded library that interposes fork and
 * posix_spawn, as a profiler or a sandbox might: each call says so on
 * stderr, then goes on to the next definition (dlsym RTLD_NEXT). The
 * front must keep RTLD_NEXT's meaning: placed before this library, its
 * calls reach this one, not libc (tests/front.sh). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>

static void say(const char *s)
{
	write(2, s, strlen(s));
}

pid_t fork(void)
{
	say("second: fork\n");
	pid_t (*next)(void) = (pid_t (*)(void))dlsym(RTLD_NEXT, "fork");
	return next();
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	say("second: posix_spawn\n");
	int (*next)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
		    char *const[], char *const[]) = dlsym(RTLD_NEXT, "posix_spawn");
	return next(pid, path, fa, attr, argv, envp);
}
