/* The spawn engine: posix_spawn semantics on a private stack
 * (spawn.c, spawn_child.c), glibc's file actions read out (spawn_actions.c,
 * spawn_layout.c), and system, popen and posix_spawn on it. Uses the
 * core, the fork/ guard (a rerouted child spawns too) and audit mode. */
#ifndef VFORKSHIM_SPAWN_H
#define VFORKSHIM_SPAWN_H

#include "../core/core.h"
#include "../fork/fork.h"
#include "../audit/audit.h"

/* ---- the spawn engine (spawn.c) ---- */
#define SHIM_DECLINED (-1)
/* A file action in the engine's own form: posix_spawn's are read out of
 * glibc's opaque structure (spawn_actions.c), popen builds its own. */
enum shim_fa_kind { FA_CLOSE, FA_DUP2, FA_OPEN, FA_CHDIR, FA_FCHDIR,
		    FA_CLOSEFROM, FA_TCSETPGRP };
struct shim_fa {
	enum shim_fa_kind kind;
	int fd, newfd, oflag;
	mode_t mode;
	const char *path;
};
/* posix_spawn semantics on a private stack with CLONE_VM|CLONE_VFORK.
 * Returns 0 (pid stored), a positive errno (exec or set-up failed in the
 * child, child reaped; or the clone itself failed, then *clone_failed is
 * set and nothing was created), or SHIM_DECLINED: nothing happened, the
 * caller must use the real function (the reason was counted). */
int shim_engine_spawn(pid_t *pid, const char *file, const struct shim_fa *acts, int nacts,
		      const posix_spawnattr_t *attr, char *const argv[],
		      char *const envp[], bool use_path, bool *clone_failed);
/* Whether `family` (system/popen or posix_spawn) goes to the engine
 * under the configuration; counts the reason when it does not. */
bool shim_engine_wanted(bool is_posix_spawn);
/* Counts a call the engine declined after all (it said SHIM_DECLINED
 * or, for system and popen, its clone failed). */
void shim_engine_declined(enum shim_reason r);
/* Asks libc, at start-up, what the engine would otherwise ask at its
 * first call (which may come from a rerouted child). */
void shim_engine_prepare(void);

/* glibc's opaque posix_spawn_file_actions_t (spawn_actions.c, read
 * only where spawn_layout.c verified the layout) */
bool shim_fa_layout_ok(void);
int shim_fa_count(const posix_spawn_file_actions_t *fa);
void shim_fa_get(const posix_spawn_file_actions_t *fa, int i, struct shim_fa *out);

/* What the engine's child gets (spawn_child.c): the caller's, read-only
 * but for `ran` and `err`. */
#include <sched.h>
struct shim_child_args {
	const char *file;
	char *const *argv, *const *envp;
	const char *path_env;
	bool use_path;
	const struct shim_fa *acts;
	int nacts;
	short flags;
	pid_t pgroup;
	int policy;
	struct sched_param sp;
	sigset_t sigdef, sigmask, oldmask;
	int pipe_wr;
	bool internal_ignored; /* libc's own signals to SIG_IGN, as the
				  running glibc's posix_spawn leaves them */
	volatile int ran, err;
};
int shim_engine_child(void *args);

#endif
