/* The PATH search of execvp and posix_spawnp, as glibc 2.36 does it
 * (posix/execvpe.c): a name with a slash is run as is; otherwise each
 * PATH entry is tried in turn (an empty entry is the current
 * directory), EACCES is remembered while the search goes on, ENOENT,
 * ESTALE, ENOTDIR, ENODEV and ETIMEDOUT move on to the next entry, and
 * any other error ends the search. With `script`, a file the kernel
 * refuses with ENOEXEC is run by /bin/sh, as execvp does and
 * posix_spawnp (since glibc 2.15) does not.
 *
 * It runs in children that share our memory: the stack only, no malloc.
 * It calls the real execve: its callers have prepared the child (the
 * guard's before_exec, the engine's child), and the engine's child of a
 * rerouted child runs on that child's TLS, where the guard's execve
 * would apply the guard's mask over the one posix_spawn asked for. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "fork.h"
#include "lockfree.h"

static void run_script(const char *file, char *const argv[], char *const envp[])
{
	size_t argc = 0;
	while (argv[argc])
		argc++;
	char *sh_argv[argc + 2];
	sh_argv[0] = (char *)"/bin/sh";
	sh_argv[1] = (char *)file;
	for (size_t i = 1; i <= argc; i++)
		sh_argv[i + 1] = argv[i];
	if (argc == 0)
		sh_argv[2] = NULL;
	real.execve(sh_argv[0], sh_argv, envp);
}

int shim_exec_search(const char *file, char *const argv[], char *const envp[],
		     const char *path, bool script)
{
	if (*file == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (strchr(file, '/')) {
		real.execve(file, argv, envp);
		if (errno == ENOEXEC && script)
			run_script(file, argv, envp);
		return -1;
	}
	if (!path)
		path = "/bin:/usr/bin"; /* glibc's _CS_PATH on Linux */
	size_t file_len = strnlen(file, NAME_MAX + 1) + 1;
	size_t path_len = strnlen(path, PATH_MAX - 1) + 1;
	if (file_len - 1 > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	char buf[path_len + file_len + 1];
	bool got_eacces = false;
	for (const char *p = path, *end;; p = end + 1) {
		end = strchrnul(p, ':');
		if ((size_t)(end - p) >= path_len) { /* longer than PATH_MAX */
			if (*end == '\0')
				break;
			continue;
		}
		char *q = mempcpy(buf, p, (size_t)(end - p));
		if (end > p)
			*q++ = '/';
		memcpy(q, file, file_len);
		real.execve(buf, argv, envp);
		if (errno == ENOEXEC && script)
			run_script(buf, argv, envp);
		switch (errno) {
		case EACCES:
			got_eacces = true;
			/* fall through */
		case ENOENT: case ESTALE: case ENOTDIR: case ENODEV: case ETIMEDOUT:
			break;
		default:
			return -1;
		}
		if (*end == '\0')
			break;
	}
	if (got_eacces)
		errno = EACCES;
	return -1;
}
