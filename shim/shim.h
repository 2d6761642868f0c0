/* vforkshim: declarations shared by every file in shim/.
 *
 * Naming (after cwrap's socket_wrapper): the exported libc name (`system`)
 * is the interposer, `shim_<name>` is the policy behind it and
 * `real.<name>` is the next definition found with dlsym(RTLD_NEXT).
 *
 * Everything here is hidden (-fvisibility=hidden); only functions marked
 * SHIM_EXPORT leave the library. */
#ifndef VFORKSHIM_SHIM_H
#define VFORKSHIM_SHIM_H

#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define SHIM_EXPORT __attribute__((visibility("default")))
#define SHIM_VERSION "0.1.0"

/* ---- real symbols (resolve.c) ---- */
struct shim_real {
	pid_t (*fork)(void);
	int (*system)(const char *);
	FILE *(*popen)(const char *, const char *);
	int (*pclose)(FILE *);
	int (*posix_spawn)(pid_t *, const char *,
			   const posix_spawn_file_actions_t *,
			   const posix_spawnattr_t *, char *const[],
			   char *const[]);
	int (*posix_spawnp)(pid_t *, const char *,
			    const posix_spawn_file_actions_t *,
			    const posix_spawnattr_t *, char *const[],
			    char *const[]);
};
extern struct shim_real real;

/* Resolves the real symbols and reads the configuration, once; safe to
 * call from any thread and before our constructor has run. */
void shim_init(void);

/* ---- configuration (config.c) ---- */
enum shim_fork_mode { FORK_SITES, FORK_ALL, FORK_OFF };
enum shim_spawn_mode { SPAWN_AUTO, SPAWN_ALWAYS, SPAWN_OFF };
enum shim_log_level { LOG_OFF, LOG_WARN, LOG_INFO, LOG_DEBUG };

struct shim_config {
	bool enabled;             /* VFORKSHIM */
	enum shim_fork_mode fork; /* VFORKSHIM_FORK */
	const char *sites;        /* VFORKSHIM_SITES, raw; parsed by sites.c */
	enum shim_spawn_mode spawn; /* VFORKSHIM_SPAWN */
	unsigned long long min_rss; /* VFORKSHIM_MIN_RSS, bytes */
	enum shim_log_level log;  /* VFORKSHIM_LOG */
	const char *log_file;     /* VFORKSHIM_LOG_FILE, or NULL for stderr */
	bool stats;               /* VFORKSHIM_STATS */
	/* Derived: which libc entry points copy the address space when
	 * called, so that `auto` puts them on the engine. */
	bool engine_for_posix_spawn, engine_for_system_popen;
};
extern struct shim_config cfg;

/* Reads the environment into `cfg`; `getenv_fn` is a parameter so that
 * the unit tests can feed it a table. Warnings go through shim_log. */
void shim_config_load(struct shim_config *c, const char *(*getenv_fn)(const char *));
/* Parsers, exposed for the unit tests: return 0, or -1 for a bad value. */
int shim_parse_bool_enable(const char *s, bool *out);
int shim_parse_fork_mode(const char *s, enum shim_fork_mode *out);
int shim_parse_spawn_mode(const char *s, enum shim_spawn_mode *out);
int shim_parse_size(const char *s, unsigned long long *out);
int shim_parse_log_level(const char *s, enum shim_log_level *out);
/* Opens the log file for one write; -1 with errno when it is refused. */
int shim_open_log_file(const char *path);
/* Decides the `auto` spawn modes from a libc name and version. */
void shim_spawn_auto_for(const char *libc_version, bool *posix_spawn_copies,
			 bool *system_popen_copies);

/* ---- log and stats (log.c) ---- */
/* Async-signal-safe: formats on the stack (%s %d %u %ld %lu %llu %zu %x
 * %p %c) and writes one line with write(2). */
void shim_log(enum shim_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* One line to VFORKSHIM_LOG_FILE or stderr, in a single write(2). */
void shim_write_log(const char *line, size_t len);
int shim_format(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Why a call went to the real function. The names are part of the
 * stats line and therefore stable. */
enum shim_reason {
	R_POLICY,   /* configuration said no (mode off, auto pass-through, no site) */
	R_DENIED,   /* a site known to run arbitrary code in the child */
	R_NESTED,   /* called inside a rerouted child */
	R_ARCH,     /* no clone stub for this architecture */
	R_RSS,      /* process smaller than VFORKSHIM_MIN_RSS */
	R_REFUSED,  /* the kernel refused the clone (seccomp, emulator ...) */
	R_SHSTK,    /* a shadow stack is active */
	R_RESOURCE, /* our own mmap/pipe failed */
	R_LAYOUT,   /* libc's opaque structures are not of a verified layout */
	R_UNWIND,   /* the stack could not be walked */
	R_COUNT
};
extern const char *const shim_reason_name[R_COUNT];

/* Counters of the process whose pid is `owner`. The child of a real
 * fork inherits its parent's counts; they are cleared at its first
 * count (shim_stats_claim), not at the fork: a write right after fork
 * costs a copy-on-write fault in every child, counting or not. A
 * rerouted child counts into its parent's counters, which it shares. */
struct shim_stats {
	pid_t owner;
	unsigned long fork_rerouted, fork_real, spawn_engine, spawn_libc;
	unsigned long fallback[R_COUNT];
};
extern struct shim_stats stats;
void shim_stats_claim(void);
#define STAT_ADD(field) __atomic_add_fetch(&stats.field, 1, __ATOMIC_RELAXED) /* claimed */
#define STAT_INC(field) (shim_stats_claim(), STAT_ADD(field))
/* noinline: gdb's vforkshim-break-fallback stops on it */
__attribute__((noinline)) void shim_count_fallback(enum shim_reason r, bool is_fork);
bool shim_stats_mine(void); /* this process counted something */
int shim_stats_format(char *buf, size_t cap);

/* ---- the last fork decisions (decisions.c), for gdb's vforkshim-last ---- */
#define SHIM_DECISIONS 32
#define SHIM_REROUTED (-1) /* reason of a rerouted fork */
#define SHIM_FAILED (-2)   /* rerouted clone failed as fork would (err) */
struct shim_decision {
	unsigned long seq;  /* 1 for the process's first fork() */
	pid_t pid;          /* the process that called fork() */
	const char *site;   /* the site matched, "(all)", or NULL */
	int reason;         /* SHIM_REROUTED, SHIM_FAILED or an enum shim_reason */
	int err;            /* errno of a SHIM_FAILED */
};
struct shim_decisions {
	unsigned long next;
	struct shim_decision d[SHIM_DECISIONS];
};
extern struct shim_decisions shim_decisions;
void shim_decide(const char *site, int reason, int err);

/* ---- children's environment (child_env.c): fork=all stays the
 * program's; in the parent only ---- */
bool shim_env_carries_fork_all(void);
/* A copy of envp without VFORKSHIM_FORK when envp is environ and
 * fork=all is on, to be freed by the caller; else NULL (use envp). */
char **shim_child_env(char *const *envp);

/* ---- signals (signals.c): raw syscalls, so that libc's hiding of its
 * internal signals and any interposed sigaction stay out of the way ---- */
void shim_block_all(sigset_t *old);
void shim_set_mask(const sigset_t *mask);
/* In a child sharing our memory: every handled signal to SIG_DFL, the
 * ones in `to_default` too, libc's internal ones to SIG_IGN. */
void shim_child_reset_handlers(const sigset_t *to_default);

/* Credential syscalls that act on the calling task only. 32-bit x86 and
 * arm keep 16-bit ids under the plain names; the 32-bit ones carry a
 * suffix there. */
#include <sys/syscall.h>
#ifdef SYS_setresuid32
#define SHIM_SYS_setuid SYS_setuid32
#define SHIM_SYS_setgid SYS_setgid32
#define SHIM_SYS_setreuid SYS_setreuid32
#define SHIM_SYS_setregid SYS_setregid32
#define SHIM_SYS_setresuid SYS_setresuid32
#define SHIM_SYS_setresgid SYS_setresgid32
#define SHIM_SYS_setgroups SYS_setgroups32
#else
#define SHIM_SYS_setuid SYS_setuid
#define SHIM_SYS_setgid SYS_setgid
#define SHIM_SYS_setreuid SYS_setreuid
#define SHIM_SYS_setregid SYS_setregid
#define SHIM_SYS_setresuid SYS_setresuid
#define SHIM_SYS_setresgid SYS_setresgid
#define SHIM_SYS_setgroups SYS_setgroups
#endif

/* ---- the spawn engine (spawn.c) ---- */
#define SHIM_DECLINED (-1)
/* posix_spawn semantics on a private stack with CLONE_VM|CLONE_VFORK.
 * Returns 0 (pid stored), a positive errno (exec or set-up failed in the
 * child, child reaped), or SHIM_DECLINED: nothing happened, the caller
 * must use the real function (the reason was counted). */
int shim_engine_spawn(pid_t *pid, const char *file,
		      const posix_spawn_file_actions_t *fa,
		      const posix_spawnattr_t *attr, char *const argv[],
		      char *const envp[], bool use_path);
/* Whether `family` (system/popen or posix_spawn) goes to the engine
 * under the configuration; counts the reason when it does not. */
bool shim_engine_wanted(bool is_posix_spawn);

/* glibc's opaque posix_spawn_file_actions_t (spawn_actions.c) */
enum shim_fa_kind { FA_CLOSE, FA_DUP2, FA_OPEN, FA_CHDIR, FA_FCHDIR,
		    FA_CLOSEFROM, FA_TCSETPGRP };
struct shim_fa {
	enum shim_fa_kind kind;
	int fd, newfd, oflag;
	mode_t mode;
	const char *path;
};
bool shim_fa_layout_ok(void);
int shim_fa_count(const posix_spawn_file_actions_t *fa);
void shim_fa_get(const posix_spawn_file_actions_t *fa, int i, struct shim_fa *out);

/* ---- the rerouted fork (fork.c, sites.c, child_guard.c) ---- */
struct shim_walk {
	uintptr_t site_cfa;  /* top of the matched site's frame, 0 if none */
	const char *site;    /* its symbol */
	uintptr_t last_cfa;  /* top of the outermost frame walked */
	bool denied;         /* a deny site is on the stack */
	bool fail_fork;      /* the site's exec failure path runs its
				language's code: finish it in a real fork */
	int frames;          /* frames walked (a deny site or the end of
				the stack is not counted) */
};
void shim_sites_init(void);
int shim_sites_parse(const char *list);
void shim_sites_reset(void);                     /* tests */
bool shim_sites_entry(int i, const char **object, const char **symbol);
void shim_sites_refresh(void); /* first, once per fork */
int shim_sites_walk(struct shim_walk *w);
bool shim_sites_any(void);
bool shim_imported(const char *symbol); /* some loaded object calls it */
bool shim_object_named(const char *path, const char *prefix);
int shim_vfork_callers(const char *prefix, uintptr_t *starts, int max, void *(*enclosing)(void *));

long shim_vfork_clone(void *save, const void *top, size_t cap); /* asm/<arch>.S */

/* asan.c: keeping ASan's shadow right around children sharing memory */
size_t shim_asan_shadow_size(uintptr_t lo, uintptr_t top);
void shim_asan_save(uintptr_t lo, uintptr_t top, void *to);
void shim_asan_restore(uintptr_t lo, uintptr_t top, const void *from);
void shim_asan_unpoison(void *p, size_t n);
unsigned long shim_shstk_active(void);

/* The child guard's state, in TLS: the child of a rerouted fork runs
 * on its parent thread's TLS, which nothing else uses meanwhile. */
struct shim_guard {
	int active;            /* we are the child of a rerouted fork */
	sigset_t want_mask;    /* the mask the child believes it has */
	char **env;            /* child-private environment, or NULL */
	size_t env_len, env_cap;
	void *arena;           /* mmap'd blocks the child allocated from */
	int creds_changed;
	int fail_fork;         /* finish a failed exec in a real fork */
};
extern __thread struct shim_guard shim_guard;
void shim_guard_parent_cleanup(void);
void shim_guard_nested_child(void);

/* exec with a PATH search as glibc's execvpe; `script` runs ENOEXEC
 * files with /bin/sh as execvp does (posix_spawnp does not). */
int shim_exec_search(const char *file, char *const argv[], char *const envp[],
		     const char *path, bool script);

#endif
