/* posix_spawn and posix_spawnp: the engine when the configuration asks
 * for it, else (or when the engine declines) the real functions. */
#include "shim.h"

static int shim_posix_spawn(pid_t *pid, const char *file,
			    const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *attr, char *const argv[],
			    char *const envp[], bool use_path)
{
	shim_init();
	int ret = SHIM_DECLINED;
	if (cfg.enabled && shim_engine_wanted(true))
		ret = shim_engine_spawn(pid, file, fa, attr, argv, envp, use_path);
	if (ret == SHIM_DECLINED)
		ret = (use_path ? real.posix_spawnp : real.posix_spawn)(pid, file, fa, attr, argv, envp);
	return ret;
}

SHIM_EXPORT int posix_spawn(pid_t *pid, const char *path,
			    const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *attr, char *const argv[],
			    char *const envp[])
{
	return shim_posix_spawn(pid, path, fa, attr, argv, envp, false);
}

SHIM_EXPORT int posix_spawnp(pid_t *pid, const char *file,
			     const posix_spawn_file_actions_t *fa,
			     const posix_spawnattr_t *attr, char *const argv[],
			     char *const envp[])
{
	return shim_posix_spawn(pid, file, fa, attr, argv, envp, true);
}
