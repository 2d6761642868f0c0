/* vforkshim's engine, its core: what every part of the engine uses
 * (fork/, spawn/, code/, audit/, runtimes/), and nothing of theirs.
 *
 * Naming (after cwrap's socket_wrapper): the front's interposer of a
 * libc name (`system`) calls the engine's `engine_system`, `shim_<name>`
 * is the policy behind it and `real.<name>` is the next definition, which
 * the front found as dlsym(RTLD_NEXT) would from its place.
 *
 * Everything here is hidden (-fvisibility=hidden); the engine exports
 * vforkshim_engine_attach alone (engine.map). */
#ifndef VFORKSHIM_CORE_H
#define VFORKSHIM_CORE_H

#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define SHIM_VERSION "0.1.0"

/* ---- real symbols (real.c, set by attach.c) ---- */
/* Every next definition the engine calls, handed over by the front at
 * attach (common/calls.h): resolving one later, in a fork() or in a
 * rerouted child, would ask the loader, whose lock another thread may
 * hold. */
#include "../../common/calls.h"
extern struct shim_calls real; /* set at attach, before any call reaches the engine */
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
/* What a file renews in a copy (proc.c says when and why), named in
 * that file: SHIM_ON_COPY(its_forget) */
#define SHIM_ON_COPY(fn)                                                              \
	__attribute__((used, section("shim_copy"))) static void (*const fn##_on_copy)(void) = fn
/* This copy inherited the loader's list lock held (fork/loader.c): the
 * loader must not be asked, the unwinder included */
extern bool shim_loader_stuck;
/* Threads of this process; 0 when /proc cannot tell */
int shim_threads(void);
/* n bytes of this process's memory at `from`, or false: never a fault */
bool shim_read_memory(void *to, const void *from, size_t n);

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

/* asan.c: keeping ASan's shadow right around children sharing memory */
size_t shim_asan_shadow_size(uintptr_t lo, uintptr_t top);
void shim_asan_save(uintptr_t lo, uintptr_t top, void *to);
void shim_asan_restore(uintptr_t lo, uintptr_t top, const void *from);
void shim_asan_unpoison(void *p, size_t n);
unsigned long shim_shstk_active(void);

/* A code address without the Thumb bit (Arm): how the unwinder reports
 * a function's start, and how its symbol's value must be read. */
#ifdef __arm__
#define SHIM_CODE(a) ((uintptr_t)(a) & ~(uintptr_t)1)
#else
#define SHIM_CODE(a) ((uintptr_t)(a))
#endif

#endif
