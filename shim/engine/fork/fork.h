/* The rerouted fork: the sites (sites.c, site_list.c, the runtimes'
 * interface), the walk up from fork() (walk.c), the loader's lock in a
 * copy (loader.c), the environment's window (env.c), the child's guard
 * (guard*.c, exec_path.c, streams.c) and fork() itself (fork.c). Uses
 * the core, the code readers and audit mode's hooks. */
#ifndef VFORKSHIM_FORK_H
#define VFORKSHIM_FORK_H

#include "../core/core.h"
#include "../code/code.h"
#include "../audit/audit.h"

struct shim_popen_entry;
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

/* The loader's list lock (loader.c): found from inside dl_iterate_phdr
 * callbacks; in a copy that inherited it held, the loader is never
 * asked again (true: forks stay real). */
void shim_loader_reference(const void *locked_recursive_mutex);
void shim_loader_probe(const struct shim_object *o);
void shim_loader_confirm(void);

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
#elif defined(__aarch64__)
/* x19-x28 and the frame pointer x29; the link register is the resume
 * address. d8-d15 (callee-saved too) are not restored: no engine code
 * between the site and shim_resume uses them (make check-arch checks
 * the built engine), so they still hold the site's values. */
#define SHIM_RESUME_REGS 11
#define SHIM_RESUME_DWARF { 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29 }
#define SHIM_SWAP_MAX 64
#endif
#ifdef SHIM_RESUME_REGS
struct shim_resume {
	uintptr_t reg[SHIM_RESUME_REGS], sp, ip;
};
void shim_resume(const struct shim_resume *r) __attribute__((noreturn)); /* asm/<arch>.S */
_Static_assert(__builtin_offsetof(struct shim_resume, sp) == SHIM_RESUME_REGS * sizeof(uintptr_t) &&
		       __builtin_offsetof(struct shim_resume, ip) == (SHIM_RESUME_REGS + 1) * sizeof(uintptr_t),
	       "asm/<arch>.S reads the registers, then sp, then ip");
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
/* fork_fn: the engine's fork(), where the walk starts counting */
void shim_walk_init(uintptr_t fork_fn);
/* engine_fork under a name of its own (fork.c says why) */
extern pid_t shim_fork_entry(void) __attribute__((visibility("hidden"), nothrow));
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

/* ---- the environment while a rerouted child runs (env.c) ---- */
/* A window during which no setenv-family call runs in another thread:
 * false when one is running now (the fork then stays real). */
bool shim_env_window_open(void);
void shim_env_window_close(void);
/* Around the setenv family in the parent: waits while a window is open. */
unsigned shim_env_enter(void);
void shim_env_leave(unsigned gen);

long shim_vfork_clone(void *save, const void *top, size_t cap); /* asm/<arch>.S */

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
	struct shim_popen_entry *popen_chain; /* the child's own popen streams */
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
/* An entry of popen's chains (spawn/popen.c). A rerouted child's own
 * (shim_guard.popen_chain) are left behind in shared memory: a copy a raw
 * fork made of the child adopts them (shim_guard_adopted), and the
 * parent drops them once the child is gone (the parent's exit would
 * flush them): streams.c. */
struct shim_popen_entry {
	struct shim_popen_entry *next;
	FILE *fp;
	pid_t pid;
};
extern struct shim_popen_entry *shim_guard_adopted;
void shim_guard_drop_streams(struct shim_popen_entry *child_chain);
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
