/* Whether the running libc's posix_spawn_file_actions_t has the layout
 * spawn_actions.c reads: a probe, not a list of versions.
 *
 * The probe builds a set of actions with libc's own add* functions,
 * every kind this libc offers (closefrom came with glibc 2.34, tcsetpgrp
 * with 2.35), each with distinct values, and reads it back through
 * spawn_actions.c: it must read back exactly as built, and the actions
 * a program gives later can be of those kinds only (libc has no others
 * to add). Anything else makes the engine decline posix_spawn calls
 * with file actions (fallback_layout) and the real function runs.
 * Runs once, in the parent, before the first such call. glibc 2.31 to
 * 2.42 pass (make check-userlands). */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"

typedef int (*add_fd_fn)(posix_spawn_file_actions_t *, int);
typedef int (*add_path_fn)(posix_spawn_file_actions_t *, const char *);

static bool same(const struct shim_fa *a, const struct shim_fa *b)
{
	return a->kind == b->kind && a->fd == b->fd && a->newfd == b->newfd &&
	       a->oflag == b->oflag && a->mode == b->mode &&
	       (b->path ? a->path && strcmp(a->path, b->path) == 0 : a->path == NULL);
}

static bool probe(void)
{
	/* The _np additions are looked up, not linked, so that the library
	 * still loads on a libc without them. */
	add_path_fn addchdir = (add_path_fn)dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addchdir_np");
	add_fd_fn addfchdir = (add_fd_fn)dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addfchdir_np");
	add_fd_fn addclosefrom = (add_fd_fn)dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addclosefrom_np");
	add_fd_fn addtcsetpgrp = (add_fd_fn)dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addtcsetpgrp_np");
	struct shim_fa want[7];
	int n = 0;
	posix_spawn_file_actions_t fa;
	if (posix_spawn_file_actions_init(&fa))
		return false;
	bool ok = !posix_spawn_file_actions_addclose(&fa, 3);
	want[n++] = (struct shim_fa){ FA_CLOSE, 3, 0, 0, 0, NULL };
	ok = ok && !posix_spawn_file_actions_adddup2(&fa, 4, 5);
	want[n++] = (struct shim_fa){ FA_DUP2, 4, 5, 0, 0, NULL };
	ok = ok && !posix_spawn_file_actions_addopen(&fa, 6, "/probe", O_WRONLY | O_CREAT, 0641);
	want[n++] = (struct shim_fa){ FA_OPEN, 6, 0, O_WRONLY | O_CREAT, 0641, "/probe" };
	if (addchdir) {
		ok = ok && !addchdir(&fa, "/probe-dir");
		want[n++] = (struct shim_fa){ FA_CHDIR, 0, 0, 0, 0, "/probe-dir" };
	}
	if (addfchdir) {
		ok = ok && !addfchdir(&fa, 7);
		want[n++] = (struct shim_fa){ FA_FCHDIR, 7, 0, 0, 0, NULL };
	}
	if (addclosefrom) {
		ok = ok && !addclosefrom(&fa, 8);
		want[n++] = (struct shim_fa){ FA_CLOSEFROM, 8, 0, 0, 0, NULL };
	}
	if (addtcsetpgrp) {
		ok = ok && !addtcsetpgrp(&fa, 9);
		want[n++] = (struct shim_fa){ FA_TCSETPGRP, 9, 0, 0, 0, NULL };
	}
	ok = ok && shim_fa_count(&fa) == n;
	for (int i = 0; ok && i < n; i++) {
		struct shim_fa got;
		shim_fa_get(&fa, i, &got);
		ok = same(&got, &want[i]);
	}
	posix_spawn_file_actions_destroy(&fa);
	return ok;
}

static bool layout_ok;
static pthread_once_t layout_once = PTHREAD_ONCE_INIT;

static void check_layout(void)
{
	layout_ok = probe();
	if (!layout_ok)
		shim_log(LOG_INFO, "posix_spawn_file_actions_t does not read back as built: posix_spawn with file actions uses libc");
}

bool shim_fa_layout_ok(void)
{
	pthread_once(&layout_once, check_layout);
	return layout_ok;
}
