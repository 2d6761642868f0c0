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

#define SHIM_VERSION "0.1.0"

/* ---- real symbols (attach.c) ---- */
/* Every next definition the engine calls, handed over by the front at
 * attach (common/calls.h): resolving one later, in a fork() or in a
 * rerouted child, would ask the loader, whose lock another thread may
 * hold. */
#include "../../common/calls.h"
extern struct shim_calls real;
/* The engine's implementation of each call the front interposes:
 * engine_fork for fork, and so on (fork/, spawn/) */
#define SHIM_ENGINE_DECL(ret, name, params, args) ret engine_##name params;
SHIM_CALLS(SHIM_ENGINE_DECL)
#undef SHIM_ENGINE_DECL
void engine_exit(int status) __attribute__((noreturn));
int engine_execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags);
int engine_libc_start_main(shim_main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
			   void (*rtld_fini)(void), void *stack_end);
/* The front's code (its interposers), whose frames the walk steps over */
extern uintptr_t shim_front_code_start, shim_front_code_end;

/* Resolves the real symbols and reads the configuration, once; safe to
 * call from any thread and before our constructor has run. */
void shim_init(void);
/* The next definition of an interposed function, for a call that comes
 * before shim_init has finished (another library's constructor). */
char *(*shim_next_getenv(void))(const char *);
#define REAL(fn) (__builtin_expect(real.fn != NULL, 1) ? real.fn : (shim_init(), real.fn))

/* ---- this process (proc.c): the library's per-process state made
 * right in the child of any fork ---- */
extern int *shim_proc_marker; /* 0 only in a copy made by a fork */
extern pid_t shim_proc_pid;   /* the process whose memory this is */
extern unsigned shim_proc_gen; /* the same, as a number unique in the lineage */
bool shim_proc_init(void);
void shim_proc_renew(void);
void shim_proc_child(void);
/* First thing at every entry point that uses per-process state. */
static inline void shim_proc_check(void)
{
	if (__builtin_expect(__atomic_load_n(shim_proc_marker, __ATOMIC_ACQUIRE) != 1, 0))
		shim_proc_renew();
}
/* What each file renews in a copy (proc.c says when and why). */
void shim_env_forget(void);
void shim_sites_forget(void);
void shim_decisions_forget(void);
void shim_system_forget(void);
void shim_popen_forget(void);
void shim_audit_forget(void);
void shim_loader_forget(void);

/* ---- configuration (config.c) ---- */
#include "../../common/parse.h"

struct shim_config {
	bool enabled;             /* VFORKSHIM */
	enum shim_fork_mode fork; /* VFORKSHIM_FORK; `all` is removed from the
				     environment at start-up (attach.c) */
	pid_t fork_all_pid;       /* the process that read `all`, or 0 */
	const char *sites;        /* VFORKSHIM_SITES, raw; parsed by sites.c */
	enum shim_spawn_mode spawn; /* VFORKSHIM_SPAWN */
	unsigned long long min_rss; /* VFORKSHIM_MIN_RSS, bytes */
	enum shim_log_level log;  /* VFORKSHIM_LOG */
	const char *log_file;     /* VFORKSHIM_LOG_FILE, or NULL for stderr */
	bool log_silent;          /* VFORKSHIM_LOG_FILE refused for permissions to a
				     process of another uid than its parent's:
				     nothing is logged at all (config.c) */
	bool stats;               /* VFORKSHIM_STATS */
	const char *audit_dir;    /* VFORKSHIM_AUDIT: audit mode, reports there */
	/* Derived: which libc entry points copy the address space when
	 * called, so that `auto` puts them on the engine. */
	bool engine_for_posix_spawn, engine_for_system_popen;
};
extern struct shim_config cfg;

/* Reads the environment into `cfg`; `getenv_fn` is a parameter so that
 * the unit tests can feed it a table. Warnings go through shim_log. */
void shim_config_load(struct shim_config *c, const char *(*getenv_fn)(const char *));
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
	R_THREADS,  /* the site's child writes what another thread could
		       read (environ), and the process has other threads */
	R_BUSY,     /* another thread was changing the environment or the
		       loaded set (the site table) at that moment */
	R_SIGNAL,   /* a signal frame lies between fork() and any site */
	R_UNREAD,   /* a built-in site of a runtime version whose child code
		       was not read (docs/sites.md) */
	R_ATFORK,   /* the site's caller registers fork handlers and expects
		       them to run in the child, which a rerouted fork skips */
	R_PREEXEC,  /* the site's child would run the runtime's own code
		       (CPython's preexec_fn) */
	R_UNDECODED, /* the site's child writes environ, the machine code did
		       not match the shape that avoids it, and the process
		       has other threads */
	R_OPTIONS,  /* the struct a SITE_SWAP_ENV child reads could not be read
		       or is outside what was read (libuv: nine or more
		       stdio entries) */
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

/* What `vforkshim ps` reads from outside a running process, through
 * /proc/PID/mem: initialised data, so that it lies in the library's
 * file-backed writable mapping, where ps finds it by its magic. Self-
 * describing: the counters' names, their word size and offset. */
#define SHIM_LIVE_MAGIC "vforkshim-live1"
struct shim_live {
	char magic[16];
	uint32_t size;           /* of this struct */
	uint32_t word;           /* sizeof(unsigned long) */
	uint32_t counters;       /* the offset of stats.fork_rerouted */
	int32_t owner_at;        /* the offset of stats.owner */
	int32_t enabled, fork, spawn; /* the configuration, at load */
	char names[512];         /* the counters in their order, space
				    separated: the stats line's keys */
	struct shim_stats stats;
};
extern struct shim_live shim_live;
void shim_stats_claim(void);
#define STAT_ADD(field) __atomic_add_fetch(&shim_live.stats.field, 1, __ATOMIC_RELAXED) /* claimed */
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

/* ---- signals (signals.c): raw syscalls, so that libc's hiding of its
 * internal signals and any interposed sigaction stay out of the way ---- */
void shim_block_all(sigset_t *old);
void shim_set_mask(const sigset_t *mask);
/* In a child sharing our memory: every handled signal to SIG_DFL, the
 * ones in `to_default` too. libc's internal ones (32, 33) go to SIG_IGN
 * with `internal_ignored`, as glibc 2.36's posix_spawn leaves them, else
 * to SIG_DFL, as an exec after fork() leaves them. */
void shim_child_reset_handlers(const sigset_t *to_default, bool internal_ignored);

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


/* ---- the rerouted fork (fork.c, sites.c, walk.c, rt_*.c) ---- */
#define SHIM_MAX_SITE_DEPTH 16 /* frames from fork() up to a site */
#define SHIM_MAX_WALK 64       /* frames walked under fork=all */

/* A site, as the runtimes (rt_*.c) describe it. */
struct shim_site_def {
	const char *symbol;   /* an exported function */
	unsigned char depth;  /* the site is at most this many frames above
				 fork() (fork()'s caller is 1), every frame
				 between in the same object */
	unsigned flags;
	const char *handlers_of; /* SITE_ATFORK_READ holds only in an object
				    of these names (shim_object_named),
				    e.g. "libuv.so.*" */
};
#define SITE_FAIL_FORK 1u      /* a failed exec runs the language's own
				  code: finish it in a real fork */
#define SITE_WRITES_ENVIRON 2u /* the child may assign environ, which
				  every thread reads: declined while the
				  process has other threads */
#define SITE_DENY 4u           /* the object runs arbitrary code in the
				  child: no fork below it is rerouted */
#define SITE_BY_START 8u       /* matched by the start of the function
				  around the frame, not by a range */
#define SITE_ENVIRON_UNGUARDED 16u /* the runtime's other threads write
				  environ without the setenv family, which
				  the window of env.c cannot keep out:
				  declined while the process has other
				  threads (Perl up to 5.36's %ENV) */
#define SITE_UNREAD 32u        /* a version of the runtime whose child
				  code has not been read: declined */
#define SITE_ATFORK_CALLER 64u /* not a site: an object that registers
				  fork handlers (pthread_atfork); a site
				  called from it, from another object, is
				  declined: its caller expects them to run
				  in the child (uvloop) */
#define SITE_ATFORK_READ 512u  /* the fork handlers the site's object
				  registers were read: needless in an
				  exec-bound child (libuv's, Perl's) */
#define SITE_OWN_ATFORK 1024u  /* set: the site's object registers fork
				  handlers not read: declined (R_ATFORK) */
#define SITE_REFUSED 256u      /* not a site: a function read and refused
				  (docs/sites.md says why); only named, by
				  vforkshim audit, when a fork comes from it */
#define SITE_SWAP_ENV 2048u    /* the child reads the struct its env comes
				  from through a callee-saved register only
				  (proved from the machine code, code_*.c):
				  it resumes with that register pointing to
				  a copy whose env word is NULL, and its exec
				  takes that env (libuv's options) */
#define SITE_UNDECODED 4096u   /* SITE_WRITES_ENVIRON where the machine code
				  did not match the shape SITE_SWAP_ENV
				  needs: declined while threaded with a
				  reason of its own (fallback_undecoded) */
#define SITE_IF_WORD 128u      /* the fork is the site's only while a word
				  of the site's frame holds a given value
				  (struct shim_site's if_off, if_value):
				  CPython's preexec_fn is None; otherwise
				  real (fallback_preexec) */

/* A loaded object, seen through its own program headers and dynamic
 * symbol table (elf.c), inside a dl_iterate_phdr callback. */
#include <link.h>
#include "../../common/dynsym.h"
struct shim_object {
	const struct dl_phdr_info *info;
	const char *path, *soname;
	uintptr_t text_start, text_end; /* its executable segments */
	struct shim_dynsym sym; /* its dynamic symbols (common/dynsym.c) */
};
bool shim_object_init(struct shim_object *o, const struct dl_phdr_info *info, const char *program);
bool shim_object_sym(const struct shim_object *o, const char *name, uintptr_t *start, size_t *size);
bool shim_object_data(const struct shim_object *o, const char *name, uintptr_t *start, size_t *size);
bool shim_object_defines(const struct shim_object *o, const char *name);
void *shim_object_callable(const struct shim_object *o, const char *name);
bool shim_object_references(const struct shim_object *o, const char *name);
bool shim_object_reloc(const struct shim_object *o, const char *name, uintptr_t *where);
bool shim_object_named(const struct shim_object *o, const char *list);
bool shim_object_is(const struct shim_object *o, const char *name, bool prefix);
bool shim_read_memory(void *to, const void *from, size_t n);
bool shim_object_mapped(const struct shim_object *o, uintptr_t a, size_t len);
bool shim_object_among(const struct shim_object *o, const char *prefix, uintptr_t a);
bool shim_object_build_id(const struct shim_object *o, const unsigned char **id, size_t *len);
/* code_<arch>.c: the callee-saved register (DWARF number) through which
 * the child of the fork call at `call` loads the env it stores to
 * environ, at `off` in a struct of `size` bytes, the call in the function
 * [fn, fn_end), proved as code_x86_64.c
 * says; -1: no proof, *stop the instruction where reading stopped (0:
 * the paths were read, and do more with the register than that) */
int shim_code_env_load(const struct shim_object *o, uintptr_t call, uintptr_t lo, uintptr_t hi,
		       uintptr_t fn, uintptr_t fn_end, int32_t off, int32_t size, uintptr_t *stop);

/* The loader's list lock (loader.c): found from inside dl_iterate_phdr
 * callbacks; in a copy that inherited it held, the loader is never
 * asked again (true: forks stay real). */
void shim_loader_reference(const void *locked_recursive_mutex);
void shim_loader_probe(const struct shim_object *o);
void shim_loader_confirm(void);
bool shim_loader_stuck(void);

/* One runtime's knowledge, in a file of its own (rt_*.c). */
struct shim_runtime {
	const char *name;
	/* symbols, one of which every object holding a site of this runtime
	 * defines (SHIM_MARKERS): the front loads the engine where an object
	 * loaded at start defines one (front/decide.c), and the engine looks
	 * for this runtime's sites only in objects that do (sites.c) */
	const char *const *markers;
	const struct shim_site_def *sites; /* ended by a NULL symbol */
	/* sites found some other way in one loaded object (machine code,
	 * op tables): reported with shim_site_add, with the flags that
	 * shim_runtime_flags gives */
	void (*find)(const struct shim_object *o);
	/* The version of the runtime in an object that holds one of its
	 * sites, as MAJOR * 100 + MINOR (3.1 is 301, 5.36 is 536, 1.46 is
	 * 146), 0 when it cannot tell; NULL: no version matters */
	unsigned (*version)(const struct shim_object *o);
	/* the versions whose child code was read (docs/sites.md), 0-ended:
	 * a site of any other version is declined (fallback_unread) */
	const unsigned *read;
	/* flags a version adds to its sites (NULL: none) */
	unsigned (*version_flags)(unsigned version);
	/* forgets what find() keeps between rebuilds: in a copy made while
	 * another thread was rebuilding, it may be half written (NULL:
	 * find() keeps nothing) */
	void (*forget)(void);
};
/* The flags a site of runtime `r` in object `o` gets: `flags`, plus its
 * version's, plus SITE_UNREAD for a version not read. */
unsigned shim_runtime_flags(const struct shim_runtime *r, const struct shim_object *o, unsigned flags);
/* A code address without the Thumb bit (Arm): how the unwinder reports
 * a function's start, and how its symbol's value must be read. */
#ifdef __arm__
#define SHIM_CODE(a) ((uintptr_t)(a) & ~(uintptr_t)1)
#else
#define SHIM_CODE(a) ((uintptr_t)(a))
#endif
/* One line of its own in each runtime's file: the Makefile gathers them
 * for the front (front/markers.inc) */
#define SHIM_MARKERS(...) static const char *const markers[] = { __VA_ARGS__, NULL }
#define SHIM_RUNTIME(var)                                                  \
	static const struct shim_runtime var;                              \
	__attribute__((used, section("shim_rt"))) static const struct shim_runtime *const var##_ptr = &var; \
	static const struct shim_runtime var
void shim_site_add(const struct shim_object *o, uintptr_t start, uintptr_t end, const char *label,
		   unsigned depth, unsigned flags);
/* the same, SITE_SWAP_ENV (depth 1: the call of fork itself) */
void shim_site_add_swap(const struct shim_object *o, uintptr_t call, uintptr_t end, const char *label,
			unsigned flags, int dwarf_reg, int32_t size, int32_t off,
			bool (*ok)(const unsigned char *copy));
/* the same, SITE_IF_WORD: the site only while the word at the bottom of
 * its frame plus `off` holds `value` */
void shim_site_add_if(const struct shim_object *o, uintptr_t start, uintptr_t end, const char *label,
		      unsigned depth, unsigned flags, int32_t off, uintptr_t value);
/* A version string "X.Y[.Z]" as MAJOR * 100 + MINOR, 0 if it is not one */
unsigned shim_version_parse(const char *s);

/* An entry of the table (sites.c): one function, or a deny object. */
struct shim_site {
	uintptr_t start, end;         /* the function, or the deny range */
	uintptr_t obj_start, obj_end; /* its object's code */
	const char *label;
	unsigned char depth;
	unsigned flags;
	signed char user;             /* its VFORKSHIM_SITES entry, or -1 */
	int32_t if_off;               /* SITE_IF_WORD: the word at the bottom
					 of the site's frame (the stack pointer
					 at its call of fork()) plus if_off */
	uintptr_t if_value;           /* must hold this */
	/* SITE_SWAP_ENV: the register (its DWARF number), the struct's size
	 * and its env word's offset; swap_ok checks a copy of it */
	signed char swap_reg;
	int32_t swap_size, swap_off;
	bool (*swap_ok)(const unsigned char *copy);
};

/* Where the child of a SITE_SWAP_ENV fork resumes: the site's frame as
 * fork() returns to it (walk.c reads it from the unwinder), rax 0. */
#if defined(__x86_64__)
#define SHIM_RESUME_REGS 6 /* rbx rbp r12 r13 r14 r15 */
#define SHIM_RESUME_DWARF { 3, 6, 12, 13, 14, 15 }
#define SHIM_SWAP_MAX 64   /* bytes of a struct copied */
#endif
#ifdef SHIM_RESUME_REGS
struct shim_resume {
	uintptr_t reg[SHIM_RESUME_REGS], sp, ip;
};
void shim_resume(const struct shim_resume *r) __attribute__((noreturn)); /* asm/<arch>.S */
#endif

enum shim_verdict { WALK_NONE, WALK_SITE, WALK_DENY, WALK_SIGNAL };
struct shim_walk {
	enum shim_verdict verdict;
	struct shim_site site; /* WALK_SITE: the site, copied */
	uintptr_t site_top;    /* WALK_SITE: the top of its frame */
	uintptr_t last_cfa;    /* the top of the last frame's callee, i.e.
				  the bottom of the last frame walked */
	int frames;            /* frames walked above fork() */
	bool caller_atfork;    /* the site's caller, in another object,
				  registers fork handlers */
	const char *refused;   /* a refused function within its depth (no
				  site): its label, for vforkshim audit */
	bool decline_threaded; /* environ could be written unseen by the
				  window: decline if other threads exist */
	bool may_assign_environ; /* the child may assign environ: put it
				  back after (a known writer, a user site,
				  fork=all) */
#ifdef SHIM_RESUME_REGS
	struct shim_resume resume; /* SITE_SWAP_ENV: frame 1 as it resumes */
	unsigned char swap[SHIM_SWAP_MAX]; /* the struct, its env word NULL */
	char **swap_env;           /* that word */
	int swap_reg_index;        /* its register in resume.reg */
#endif
};
void shim_walk_init(void);
uintptr_t shim_function_start(uintptr_t pc);
int shim_walk(struct shim_walk *w, const struct shim_site *sites, int n, int max);

/* VFORKSHIM_SITES (site_list.c) */
struct shim_user_site {
	char object[128], symbol[128], label[260];
	unsigned char depth;
	int writes_environ; /* learned: its child assigned environ (an int:
			       word-sized atomics everywhere, riscv64 too) */
};
int shim_sites_parse(const char *list);
void shim_sites_reset(void); /* tests */
bool shim_sites_entry(int i, const char **object, const char **symbol, int *depth);
int shim_user_sites(void);
struct shim_user_site *shim_user_site(int i);

void shim_sites_init(void);
/* The decision for this fork(): R_COUNT to reroute (*w filled), else
 * the reason it stays real. */
enum shim_reason shim_sites_match(struct shim_walk *w);
void shim_sites_learn_environ(const struct shim_walk *w, bool threaded);

/* The calls an object makes to an imported function (import_calls.c):
 * the addresses of up to `max` call instructions, x86_64 only */
int shim_import_calls(const struct shim_object *o, const char *name, uintptr_t *calls, int max);
/* the end of a call they return (its return address) */
uintptr_t shim_call_end(uintptr_t call);
/* the same within [lo, hi) only (one function's code) */
int shim_import_calls_in(const struct shim_object *o, const char *name, uintptr_t lo, uintptr_t hi,
			 uintptr_t *calls, int max);
/* the same, and the calls of the object's functions that jump to it */
int shim_import_callers(const struct shim_object *o, const char *name, uintptr_t *calls, int max);
/* the GOT slot the loader binds to an imported symbol, or 0 */
uintptr_t shim_import_slot(const struct shim_object *o, const char *name);
bool shim_is_call_through(const struct shim_object *o, uintptr_t call, uintptr_t slot);

/* ---- audit mode (audit.c): VFORKSHIM_AUDIT=DIR reroutes nothing and
 * records the call chains of fork, system, popen and posix_spawn ---- */
enum shim_audit_kind { SHIM_AUDIT_FORK, SHIM_AUDIT_SYSTEM, SHIM_AUDIT_POPEN, SHIM_AUDIT_POSIX_SPAWN };
/* One fork's child, as it reports itself: in memory shared on purpose
 * with the parent (audit.c makes it), written with atomics only. */
struct shim_audit_slot {
	int chain;            /* -1: free */
	const char *first;    /* the child's first call seen (a literal) */
	int execs, failed;    /* exec calls, and those that returned */
};
extern struct shim_audit_slot *shim_audit_child; /* set in an audited fork's child */
void shim_audit_start(void);
struct shim_walk;
pid_t shim_audit_fork(const struct shim_walk *w, enum shim_reason why, uintptr_t ret);
void shim_audit_spawn(int kind, uintptr_t ret, unsigned long long ns);
unsigned long long shim_audit_now(void);
void shim_audit_note(const char *call);
int shim_audit_exec_returned(int r);
void shim_audit_report(void);
/* the child's call noted; an exec that returns counted as failed */
#define SHIM_AUDIT_NOTE(name) \
	do { if (__builtin_expect(shim_audit_child != NULL, 0) && (shim_proc_check(), shim_audit_child)) \
		shim_audit_note(name); } while (0)
#define SHIM_AUDIT_EXEC(name, expr) \
	(__builtin_expect(shim_audit_child != NULL, 0) ? (shim_audit_note(name), shim_audit_exec_returned(expr)) : (expr))
/* the return addresses above the frame that returns to `ret` (itself
 * first), at most `max` */
int shim_backtrace_from(uintptr_t ret, uintptr_t *pcs, int max);

/* ---- the environment while a rerouted child runs (env.c) ---- */
/* Threads of this process; 0 when /proc cannot tell. */
int shim_threads(void);
/* A window during which no setenv-family call runs in another thread:
 * false when one is running now (the fork then stays real). */
bool shim_env_window_open(void);
void shim_env_window_close(void);
/* Around the setenv family in the parent: waits while a window is open. */
unsigned shim_env_enter(void);
void shim_env_leave(unsigned gen);

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
	char **env_base;       /* the environ it was copied from */
	char **environ_as;     /* the environ the child would have assigned
				  (SITE_SWAP_ENV), or NULL: environ */
	size_t env_len, env_cap;
	void *arena;           /* mmap'd blocks the child allocated from */
	int creds_changed;
	int fail_fork;         /* finish a failed exec in a real fork */
	void *popen_chain;     /* the child's own popen streams (popen.c) */
	unsigned gen;          /* shim_proc_gen when it was set: in a copy
				  made by a raw fork it is another's */
};
extern __thread struct shim_guard shim_guard;
/* A copy of a rerouted child made by a raw fork (not ours) still has
 * the flag: its first guarded call makes it an ordinary process. */
#define SHIM_IN_CHILD (__builtin_expect(shim_guard.active, 0) && shim_guard_live())
bool shim_guard_stale(void);
char *const *shim_guard_envp(char *const *envp);
static inline bool shim_guard_live(void)
{
	shim_proc_check();
	return __builtin_expect(shim_guard.gen == shim_proc_gen, 1) || !shim_guard_stale();
}
void shim_guard_parent_cleanup(void);
void shim_guard_nested_child(void);
/* popen.c: a copy's inherited streams of its rerouted parent become its
 * own; a rerouted child's, left behind in shared memory, are dropped by
 * its parent once it is gone (the parent's exit would flush them) */
void shim_popen_adopt(void *chain);
void shim_popen_dispose(void *chain);
/* guard_env.c: the environment the child's exec passes on, given the
 * envp it asked for (environ, or its own) */
char *const *shim_guard_exec_env(char *const *envp);
/* guard_env.c: environ as the child sees it */
char **shim_guard_environ(void);
/* guard_env.c: the PATH of the child's own environment, or NULL */
const char *shim_guard_path(void);

/* exec with a PATH search as glibc's execvpe; `script` runs ENOEXEC
 * files with /bin/sh as execvp does (posix_spawnp does not). */
int shim_exec_search(const char *file, char *const argv[], char *const envp[],
		     const char *path, bool script);

#endif
