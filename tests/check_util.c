#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_util.h"

extern char **environ;
unsigned long shim_calls;

static int c_posix_spawn(pid_t *p, const char *f, const posix_spawn_file_actions_t *fa,
			 const posix_spawnattr_t *a, char *const v[], char *const e[])
{
	__atomic_add_fetch(&shim_calls, 1, __ATOMIC_RELAXED);
	return posix_spawn(p, f, fa, a, v, e);
}

static int c_posix_spawnp(pid_t *p, const char *f, const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *a, char *const v[], char *const e[])
{
	__atomic_add_fetch(&shim_calls, 1, __ATOMIC_RELAXED);
	return posix_spawnp(p, f, fa, a, v, e);
}

static int c_system(const char *c)
{
	__atomic_add_fetch(&shim_calls, 1, __ATOMIC_RELAXED);
	return system(c);
}

static FILE *c_popen(const char *c, const char *m)
{
	__atomic_add_fetch(&shim_calls, 1, __ATOMIC_RELAXED);
	return popen(c, m);
}

struct api shim_api = { "shim", c_posix_spawn, c_posix_spawnp, c_system, c_popen, pclose };
struct api libc_api = { .name = "libc" };
const struct api *const apis[2] = { &libc_api, &shim_api };

void util_init(void)
{
	void *h = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
	if (!h)
		abort();
	libc_api.posix_spawn = dlsym(h, "posix_spawn");
	libc_api.posix_spawnp = dlsym(h, "posix_spawnp");
	libc_api.system = dlsym(h, "system");
	libc_api.popen = dlsym(h, "popen");
	libc_api.pclose = dlsym(h, "pclose");
}

const char *prog(const char *name)
{
	static char buf[8][PATH_MAX + 64];
	static int i;
	char *b = buf[i++ % 8];
	/* absolute: some tests change the child's directory */
	static char cwd[PATH_MAX];
	if (!cwd[0] && !getcwd(cwd, sizeof cwd))
		abort();
	snprintf(b, PATH_MAX + 64, "%s/" TEST_PROGS "/%s", cwd, name);
	return b;
}

void read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;
	while (len + 1 < cap && ((n = read(fd, buf + len, cap - 1 - len)) > 0 ||
				 (n < 0 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	buf[len] = '\0';
	close(fd);
}

int spawn_capture(const struct api *api, bool use_path, const char *file,
		  char *const argv[], posix_spawn_file_actions_t *fa_in,
		  const posix_spawnattr_t *attr, char *out, size_t cap, int *status)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	posix_spawn_file_actions_t local, *fa = fa_in ? fa_in : &local;
	if (!fa_in)
		posix_spawn_file_actions_init(&local);
	posix_spawn_file_actions_adddup2(fa, p[1], 1);
	posix_spawn_file_actions_addclose(fa, p[0]);
	pid_t pid = -1;
	int rc = (use_path ? api->posix_spawnp : api->posix_spawn)(&pid, file, fa, attr,
								    argv, environ);
	close(p[1]);
	read_all(p[0], out, cap);
	*status = -1;
	if (rc == 0)
		ck_assert_int_eq(waitpid(pid, status, 0), pid);
	if (!fa_in)
		posix_spawn_file_actions_destroy(&local);
	return rc;
}

bool sigbit(const char *hexline, int sig)
{
	unsigned long long v = strtoull(hexline, NULL, 16);
	return (v >> (sig - 1)) & 1;
}

int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

bool no_children(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}
