/* posix_spawn and posix_spawnp: the engine when the configuration asks
 * for it, else (or when the engine declines) the real functions.
 *
 * The caller's file actions are read out of glibc's opaque structure
 * into the engine's own form here, in the parent, only where the layout
 * was verified (spawn_layout.c); elsewhere the call goes to libc. A
 * clone that fails (EAGAIN, ENOMEM: nothing was created) goes to libc's
 * function too, which reports it as that glibc does: glibc 2.31's turns
 * the failure into EPERM (its `-new_pid` of a -1), later ones EAGAIN. */
#include <stdlib.h>

#include "spawn.h"

static int engine(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
		  const posix_spawnattr_t *attr, char *const argv[], char *const envp[], bool use_path)
{
	int n = fa ? shim_fa_count(fa) : 0;
	if (fa && !shim_fa_layout_ok()) {
		shim_engine_declined(R_LAYOUT);
		return SHIM_DECLINED;
	}
	struct shim_fa small[16], *acts = small;
	if (n > 16 && !(acts = malloc((size_t)n * sizeof *acts))) {
		shim_engine_declined(R_RESOURCE);
		return SHIM_DECLINED;
	}
	for (int i = 0; i < n; i++)
		shim_fa_get(fa, i, &acts[i]);
	bool clone_failed;
	int ret = shim_engine_spawn(pid, file, acts, n, attr, argv, envp, use_path, &clone_failed);
	if (acts != small)
		free(acts);
	if (clone_failed) {
		shim_engine_declined(R_RESOURCE);
		return SHIM_DECLINED;
	}
	return ret;
}

static int shim_posix_spawn(pid_t *pid, const char *file,
			    const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *attr, char *const argv[],
			    char *const envp[], bool use_path, uintptr_t caller)
{
	shim_proc_check();
	SHIM_AUDIT_NOTE(use_path ? "posix_spawnp" : "posix_spawn");
	if (cfg.enabled && cfg.audit_dir) {
		unsigned long long t0 = shim_audit_now();
		int r = (use_path ? real.posix_spawnp : real.posix_spawn)(pid, file, fa, attr, argv, envp);
		shim_audit_spawn(SHIM_AUDIT_POSIX_SPAWN, caller, shim_audit_now() - t0);
		return r;
	}
	/* In a rerouted child only the engine can give the program the
	 * child's own environment and mask (spawn.c), whatever the mode. */
	int ret = SHIM_DECLINED;
	bool in_child = cfg.enabled && SHIM_IN_CHILD;
	envp = shim_guard_envp(envp);
	if (cfg.enabled && (in_child || shim_engine_wanted(true)))
		ret = engine(pid, file, fa, attr, argv, envp, use_path);
	if (ret == SHIM_DECLINED)
		ret = (use_path ? real.posix_spawnp : real.posix_spawn)(pid, file, fa, attr, argv, envp);
	return ret;
}

int engine_posix_spawn(pid_t *pid, const char *path,
			    const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *attr, char *const argv[],
			    char *const envp[])
{
	return shim_posix_spawn(pid, path, fa, attr, argv, envp, false, (uintptr_t)__builtin_return_address(0));
}

int engine_posix_spawnp(pid_t *pid, const char *file,
			     const posix_spawn_file_actions_t *fa,
			     const posix_spawnattr_t *attr, char *const argv[],
			     char *const envp[])
{
	return shim_posix_spawn(pid, file, fa, attr, argv, envp, true, (uintptr_t)__builtin_return_address(0));
}
