/* The environment in the child of a rerouted fork, and the setenv
 * family in its parent.
 *
 * In the child (shim_guard.active), which shares the parent's memory:
 *   - setenv, unsetenv, putenv and clearenv work on a child-private
 *     copy of the environment, in blocks the child mmaps and the parent
 *     unmaps; environ itself, which every thread of the parent reads,
 *     is never written;
 *   - getenv and secure_getenv read that copy, and so do the exec
 *     functions (guard_exec.c) when the child execs with the
 *     environment it copied from: environ, or no envp at all;
 *   - the copy follows environ: a child that assigns environ after a
 *     setenv (as libuv's does) has replaced everything, and its next
 *     setenv copies the new array.
 * Nothing here takes a lock or uses the heap in the child.
 *
 * In the parent the setenv family goes to libc, inside the gate of
 * env.c: it waits while a rerouted child runs in a process with other
 * threads, so that the parent can tell the child's writes to environ
 * from another thread's. */
#include <errno.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "fork.h"
#include "lockfree.h"

extern char **environ;
#define G shim_guard

/* ---- the arena: blocks mmap'd by the child, unmapped by the parent ---- */
struct block {
	struct block *next;
	size_t size, used;
};

static void *alloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct block *b = G.arena;
	if (!b || b->size - b->used < n) {
		size_t size = n + sizeof *b + 64 * 1024;
		b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED)
			return NULL;
		b->next = G.arena;
		b->size = size;
		b->used = (sizeof *b + 15) & ~(size_t)15;
		G.arena = b;
	}
	void *p = (char *)b + b->used;
	b->used += n;
	return p;
}

void shim_guard_parent_cleanup(void)
{
	for (struct block *b = G.arena, *next; b; b = next) {
		next = b->next;
		munmap(b, b->size);
	}
	G = (struct shim_guard){ 0 };
}

/* ---- the child's view ---- */
/* The child's environ: environ, or the array it would have assigned
 * had its store not been skipped (SITE_SWAP_ENV, fork.c). */
char **shim_guard_environ(void)
{
	return G.environ_as ? G.environ_as : environ;
}

static char **view(void)
{
	char **e = shim_guard_environ();
	return G.env && G.env_base == e ? G.env : e;
}

char *const *shim_guard_exec_env(char *const *envp)
{
	if (G.environ_as && envp == environ) /* environ as the child sees it */
		envp = G.environ_as;
	return G.env && envp == G.env_base ? G.env : envp;
}

static ssize_t find(char **env, const char *name, size_t len)
{
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, len) && env[i][len] == '=')
			return (ssize_t)i;
	return -1;
}

static char *lookup(const char *name)
{
	char **env = view();
	size_t len = strlen(name);
	if (!len || strchr(name, '='))
		return NULL;
	ssize_t i = find(env, name, len);
	return i >= 0 ? env[i] + len + 1 : NULL;
}

const char *shim_guard_path(void)
{
	return lookup("PATH");
}

/* A private copy of the current environment, made at the first change. */
static int env_copy(void)
{
	char **base = shim_guard_environ();
	if (G.env && G.env_base == base)
		return 0;
	size_t n = 0;
	while (base && base[n])
		n++;
	char **e = alloc((n + 16) * sizeof *e);
	if (!e)
		return -1;
	for (size_t i = 0; i < n; i++)
		e[i] = base[i];
	e[n] = NULL;
	G.env = e;
	G.env_base = base;
	G.env_len = n;
	G.env_cap = n + 16;
	return 0;
}

static int env_put(char *entry, size_t name_len, bool overwrite)
{
	ssize_t i = find(G.env, entry, name_len);
	if (i >= 0) {
		if (overwrite)
			G.env[i] = entry;
		return 0;
	}
	if (G.env_len + 1 >= G.env_cap) {
		char **e = alloc(G.env_cap * 2 * sizeof *e);
		if (!e) {
			errno = ENOMEM;
			return -1;
		}
		memcpy(e, G.env, (G.env_len + 1) * sizeof *e);
		G.env = e;
		G.env_cap *= 2;
	}
	G.env[G.env_len++] = entry;
	G.env[G.env_len] = NULL;
	return 0;
}

static bool bad_name(const char *name)
{
	return !name || !*name || strchr(name, '=');
}

/* ---- the interposed functions ---- */
char *engine_getenv(const char *name)
{
	if (SHIM_IN_CHILD)
		return lookup(name);
	return real.getenv(name);
}

char *engine_secure_getenv(const char *name)
{
	if (SHIM_IN_CHILD)
		return getauxval(AT_SECURE) ? NULL : lookup(name);
	return real.secure_getenv(name);
}

int engine_setenv(const char *name, const char *value, int overwrite)
{
	SHIM_AUDIT_NOTE("setenv");
	if (!SHIM_IN_CHILD) {
		int (*next)(const char *, const char *, int) = real.setenv;
		unsigned gen = shim_env_enter();
		int r = next(name, value, overwrite);
		shim_env_leave(gen);
		return r;
	}
	if (bad_name(name)) {
		errno = EINVAL;
		return -1;
	}
	size_t nl = strlen(name), vl = strlen(value);
	char *entry;
	if (env_copy() || !(entry = alloc(nl + vl + 2))) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(entry, name, nl);
	entry[nl] = '=';
	memcpy(entry + nl + 1, value, vl + 1);
	return env_put(entry, nl, overwrite != 0);
}

int engine_unsetenv(const char *name)
{
	SHIM_AUDIT_NOTE("unsetenv");
	if (!SHIM_IN_CHILD) {
		int (*next)(const char *) = real.unsetenv;
		unsigned gen = shim_env_enter();
		int r = next(name);
		shim_env_leave(gen);
		return r;
	}
	if (bad_name(name)) {
		errno = EINVAL;
		return -1;
	}
	if (env_copy()) {
		errno = ENOMEM;
		return -1;
	}
	size_t nl = strlen(name);
	ssize_t i;
	while ((i = find(G.env, name, nl)) >= 0) {
		memmove(&G.env[i], &G.env[i + 1], (G.env_len - (size_t)i) * sizeof *G.env);
		G.env_len--;
	}
	return 0;
}

int engine_putenv(char *string)
{
	SHIM_AUDIT_NOTE("putenv");
	if (!SHIM_IN_CHILD) {
		int (*next)(char *) = real.putenv;
		unsigned gen = shim_env_enter();
		int r = next(string);
		shim_env_leave(gen);
		return r;
	}
	const char *eq = strchr(string, '=');
	if (!eq) /* glibc: "NAME" alone removes NAME */
		return engine_unsetenv(string);
	if (env_copy()) {
		errno = ENOMEM;
		return -1;
	}
	return env_put(string, (size_t)(eq - string), true);
}

int engine_clearenv(void)
{
	if (!SHIM_IN_CHILD) {
		int (*next)(void) = real.clearenv;
		unsigned gen = shim_env_enter();
		int r = next();
		shim_env_leave(gen);
		return r;
	}
	if (env_copy())
		return -1;
	G.env_len = 0;
	G.env[0] = NULL;
	return 0;
}

/* ---- a copy of the child: an ordinary process ---- */
/* The child of a real fork made inside a rerouted child (ours at once,
 * any other at its first guarded call, on the thread that forked, whose
 * TLS this is): it has memory of its own, so the environment the child
 * built becomes its environ (in blocks that are its own now), its popen
 * streams become the process's, and the mask the child asked for is its
 * mask. Every signal is still blocked here, as in the child. True: the
 * guard was the copy's parent's, and is gone. */
static char **dropped; /* environ as the copy found it, before that */

/* The guard's state (fork.h): TLS, as the child runs on its parent
 * thread's */
__thread struct shim_guard shim_guard __attribute__((tls_model("initial-exec")));

bool shim_guard_stale(void)
{
	if (!G.active || G.gen == shim_proc_gen)
		return false;
	sigset_t m = G.want_mask;
	dropped = environ;
	environ = view();
	if (G.popen_chain)
		__atomic_store_n(&shim_guard_adopted, G.popen_chain, __ATOMIC_RELEASE);
	G = (struct shim_guard){ 0 };
	shim_set_mask(&m);
	return true;
}

/* A call whose envp was read from environ before that call made the copy
 * ordinary (posix_spawnp(..., environ) as its first call): the copy's
 * environ, as the caller meant. */
char *const *shim_guard_envp(char *const *envp)
{
	return envp && envp == dropped ? environ : envp;
}

void shim_guard_nested_child(void)
{
	shim_proc_child();
	shim_guard_stale();
}
