/* The contract between the front (libvforkshim.so, preloaded) and the
 * engine (libvforkshim-engine.so, loaded beside it only where it can
 * help): the functions the front interposes, as one list.
 *
 * The front finds the next definition of each (front/next.c) and hands
 * the table to the engine, which calls through it (its `real`): the
 * engine is loaded with dlopen, from where dlsym(RTLD_NEXT) would skip
 * a second preloaded library that interposes the same names. The
 * engine hands back its own implementation of each, which the front
 * calls from then on. Both are built from one tree: the version and the
 * sizes must match, or the engine is not used. */
#ifndef VFORKSHIM_CALLS_H
#define VFORKSHIM_CALLS_H

#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define SHIM_API_VERSION 1

/* X(return type, name, parameters, arguments). exit, execveat, execl,
 * execle, execlp and __libc_start_main are written out by hand in
 * front/calls.c: one does not return, one may be missing (glibc before
 * 2.34), three take a variable list, one is not on powerpc. */
#define SHIM_CALLS(X)                                                                  \
	X(pid_t, fork, (void), ())                                                     \
	X(int, system, (const char *a), (a))                                           \
	X(FILE *, popen, (const char *a, const char *b), (a, b))                       \
	X(int, pclose, (FILE *a), (a))                                                 \
	X(int, posix_spawn, (pid_t *a, const char *b, const posix_spawn_file_actions_t *c, \
			     const posix_spawnattr_t *d, char *const e[], char *const f[]),   \
	  (a, b, c, d, e, f))                                                          \
	X(int, posix_spawnp, (pid_t *a, const char *b, const posix_spawn_file_actions_t *c, \
			      const posix_spawnattr_t *d, char *const e[], char *const f[]),  \
	  (a, b, c, d, e, f))                                                          \
	X(int, setenv, (const char *a, const char *b, int c), (a, b, c))               \
	X(int, unsetenv, (const char *a), (a))                                         \
	X(int, putenv, (char *a), (a))                                                 \
	X(int, clearenv, (void), ())                                                   \
	X(char *, getenv, (const char *a), (a))                                        \
	X(char *, secure_getenv, (const char *a), (a))                                 \
	X(int, execve, (const char *a, char *const b[], char *const c[]), (a, b, c))   \
	X(int, execv, (const char *a, char *const b[]), (a, b))                        \
	X(int, execvp, (const char *a, char *const b[]), (a, b))                       \
	X(int, execvpe, (const char *a, char *const b[], char *const c[]), (a, b, c))  \
	X(int, fexecve, (int a, char *const b[], char *const c[]), (a, b, c))          \
	X(int, pthread_sigmask, (int a, const sigset_t *b, sigset_t *c), (a, b, c))    \
	X(int, sigprocmask, (int a, const sigset_t *b, sigset_t *c), (a, b, c))        \
	X(int, setuid, (uid_t a), (a))                                                 \
	X(int, setgid, (gid_t a), (a))                                                 \
	X(int, seteuid, (uid_t a), (a))                                                \
	X(int, setegid, (gid_t a), (a))                                                \
	X(int, setreuid, (uid_t a, uid_t b), (a, b))                                   \
	X(int, setregid, (gid_t a, gid_t b), (a, b))                                   \
	X(int, setresuid, (uid_t a, uid_t b, uid_t c), (a, b, c))                      \
	X(int, setresgid, (gid_t a, gid_t b, gid_t c), (a, b, c))                      \
	X(int, setgroups, (size_t a, const gid_t *b), (a, b))

typedef int (*shim_main_fn)(int, char **, char **);
typedef int (*shim_start_main_fn)(shim_main_fn, int, char **, void (*)(void), void (*)(void),
				  void (*)(void), void *);

/* One pointer per function: the next definitions (front to engine) or
 * the engine's own (engine to front). execveat may be NULL (glibc before
 * 2.34 has none); __libc_start_main is NULL on powerpc. */
struct shim_calls {
#define SHIM_CALLS_FIELD(ret, name, params, args) ret (*name) params;
	SHIM_CALLS(SHIM_CALLS_FIELD)
#undef SHIM_CALLS_FIELD
	void (*exit)(int) __attribute__((noreturn));
	int (*execveat)(int, const char *, char *const[], char *const[], int);
	shim_start_main_fn libc_start_main;
};

/* What the front gives the engine */
struct shim_front {
	unsigned version;            /* SHIM_API_VERSION */
	unsigned size, calls_size;   /* sizeof these two structs */
	const struct shim_calls *next;
	const char *why;             /* why the engine was loaded, for its log */
	uintptr_t code_start, code_end; /* the front's code: its interposers'
					   frames, which the engine's walk up
					   from fork() steps over */
};

/* The engine's one export: its calls, or NULL (another version) */
#define SHIM_ENGINE_ATTACH "vforkshim_engine_attach"
typedef const struct shim_calls *(*shim_engine_attach_fn)(const struct shim_front *front);

#endif
