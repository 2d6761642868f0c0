/* Reading glibc's opaque posix_spawn_file_actions_t, in the engine's
 * child (spawn_child.c): no lock, no allocation.
 *
 * There is no public API to read the actions back, so we mirror the
 * layout of glibc's posix/spawn_int.h; spawn_layout.c decides whether
 * the running libc has it. */
#include <string.h>

#include "spawn.h"
#include "lockfree.h"

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
