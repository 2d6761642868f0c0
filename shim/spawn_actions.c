/* Reading glibc's opaque posix_spawn_file_actions_t.
 *
 * There is no public API to read the actions back, so we mirror the
 * layout of glibc's posix/spawn_int.h, which we have checked for the
 * versions in `verified` below. Trust is earned twice: the running libc
 * must be one of those versions, and a probe built with libc's own
 * add* functions must read back exactly as built. Anything else makes
 * the engine decline (fallback_layout) and the real function runs. */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

/* glibc 2.34 .. 2.36: posix/spawn_int.h, struct __spawn_action. */
struct glibc_spawn_action {
	enum { G_CLOSE, G_DUP2, G_OPEN, G_CHDIR, G_FCHDIR, G_CLOSEFROM,
	       G_TCSETPGRP } tag;
	union {
		struct { int fd; } close_action;
		struct { int fd, newfd; } dup2_action;
		struct { int fd; char *path; int oflag; mode_t mode; } open_action;
		struct { char *path; } chdir_action;
		struct { int fd; } fchdir_action;
		struct { int from; } closefrom_action;
		struct { int fd; } setpgrp_action;
	} action;
};

struct glibc_file_actions {
	int allocated, used;
	struct glibc_spawn_action *actions;
	int pad[16];
};

_Static_assert(sizeof(struct glibc_file_actions) == sizeof(posix_spawn_file_actions_t),
	       "posix_spawn_file_actions_t is not the glibc layout");

static const char *const verified[] = { "glibc 2.36" };

int shim_fa_count(const posix_spawn_file_actions_t *fa)
{
	return fa ? ((const struct glibc_file_actions *)fa)->used : 0;
}

void shim_fa_get(const posix_spawn_file_actions_t *fa, int i, struct shim_fa *out)
{
	const struct glibc_spawn_action *a = &((const struct glibc_file_actions *)fa)->actions[i];
	memset(out, 0, sizeof *out);
	switch (a->tag) {
	case G_CLOSE:
		out->kind = FA_CLOSE;
		out->fd = a->action.close_action.fd;
		break;
	case G_DUP2:
		out->kind = FA_DUP2;
		out->fd = a->action.dup2_action.fd;
		out->newfd = a->action.dup2_action.newfd;
		break;
	case G_OPEN:
		out->kind = FA_OPEN;
		out->fd = a->action.open_action.fd;
		out->path = a->action.open_action.path;
		out->oflag = a->action.open_action.oflag;
		out->mode = a->action.open_action.mode;
		break;
	case G_CHDIR:
		out->kind = FA_CHDIR;
		out->path = a->action.chdir_action.path;
		break;
	case G_FCHDIR:
		out->kind = FA_FCHDIR;
		out->fd = a->action.fchdir_action.fd;
		break;
	case G_CLOSEFROM:
		out->kind = FA_CLOSEFROM;
		out->fd = a->action.closefrom_action.from;
		break;
	case G_TCSETPGRP:
		out->kind = FA_TCSETPGRP;
		out->fd = a->action.setpgrp_action.fd;
		break;
	}
}

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
