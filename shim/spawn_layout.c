/* Whether the running libc's posix_spawn_file_actions_t has the layout
 * spawn_actions.c reads.
 *
 * Trust is earned twice: the running libc must be one of the versions
 * in `verified` below, and a probe built with libc's own add* functions
 * must read back exactly as built. Anything else makes the engine
 * decline (fallback_layout) and the real function runs. Runs once, in
 * the parent, before the first engine spawn with file actions. */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

static const char *const verified[] = { "glibc 2.36" };

typedef int (*add_fd_fn)(posix_spawn_file_actions_t *, int);
typedef int (*add_path_fn)(posix_spawn_file_actions_t *, const char *);

static bool probe(void)
{
	/* The _np additions are looked up, not linked, so that the library
	 * still loads on a libc without them. */
	add_path_fn addchdir = (add_path_fn)dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addchdir_np");
	add_fd_fn addfchdir = (add_fd_fn)dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addfchdir_np");
	add_fd_fn addclosefrom = (add_fd_fn)dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addclosefrom_np");
	add_fd_fn addtcsetpgrp = (add_fd_fn)dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addtcsetpgrp_np");
	if (!addchdir || !addfchdir || !addclosefrom || !addtcsetpgrp)
		return false;

	posix_spawn_file_actions_t fa;
	if (posix_spawn_file_actions_init(&fa))
		return false;
	bool ok = !posix_spawn_file_actions_addclose(&fa, 3) &&
		  !posix_spawn_file_actions_adddup2(&fa, 4, 5) &&
		  !posix_spawn_file_actions_addopen(&fa, 6, "/probe", O_WRONLY | O_CREAT, 0641) &&
		  !addchdir(&fa, "/probe-dir") && !addfchdir(&fa, 7) &&
		  !addclosefrom(&fa, 8) && !addtcsetpgrp(&fa, 9);
	static const struct shim_fa want[] = {
		{ FA_CLOSE, 3, 0, 0, 0, NULL },
		{ FA_DUP2, 4, 5, 0, 0, NULL },
		{ FA_OPEN, 6, 0, O_WRONLY | O_CREAT, 0641, "/probe" },
		{ FA_CHDIR, 0, 0, 0, 0, "/probe-dir" },
		{ FA_FCHDIR, 7, 0, 0, 0, NULL },
		{ FA_CLOSEFROM, 8, 0, 0, 0, NULL },
		{ FA_TCSETPGRP, 9, 0, 0, 0, NULL },
	};
	int n = sizeof want / sizeof want[0];
	ok = ok && shim_fa_count(&fa) == n;
	for (int i = 0; ok && i < n; i++) {
		struct shim_fa got;
		shim_fa_get(&fa, i, &got);
		ok = got.kind == want[i].kind && got.fd == want[i].fd &&
		     got.newfd == want[i].newfd && got.oflag == want[i].oflag &&
		     got.mode == want[i].mode &&
		     (want[i].path ? got.path && strcmp(got.path, want[i].path) == 0
				   : got.path == NULL);
	}
	posix_spawn_file_actions_destroy(&fa);
	return ok;
}

static bool layout_ok;
static pthread_once_t layout_once = PTHREAD_ONCE_INIT;

static void check_layout(void)
{
	char libc[64];
	size_t n = confstr(_CS_GNU_LIBC_VERSION, libc, sizeof libc);
	if (n == 0 || n > sizeof libc)
		return;
	for (size_t i = 0; i < sizeof verified / sizeof verified[0]; i++)
		if (strcmp(libc, verified[i]) == 0)
			layout_ok = probe();
	if (!layout_ok)
		shim_log(LOG_INFO, "%s: posix_spawn_file_actions_t layout not verified; spawns use libc", libc);
}

bool shim_fa_layout_ok(void)
{
	pthread_once(&layout_once, check_layout);
	return layout_ok;
}
