/* The front: libvforkshim.so, the library that is preloaded. It holds
 * the interposers (calls.c), each a plain call of the next definition
 * (next.c) until the engine is attached, and decides once, in its
 * constructor, whether this process can gain from the engine (decide.c)
 * and loads it (engine.c). It imports nothing but the loader's
 * _r_debug: every import costs each process a symbol lookup at start,
 * under -z now, and most processes that preload it (shells, compilers,
 * /bin/true under a drop-in) have nothing to gain. */
#ifndef VFORKSHIM_FRONT_H
#define VFORKSHIM_FRONT_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/calls.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* The engine's calls once attached, else NULL (engine.c) */
extern const struct shim_calls *shim_front_engine;
static inline const struct shim_calls *shim_front_attached(void)
{
	return __atomic_load_n(&shim_front_engine, __ATOMIC_ACQUIRE);
}

/* The next definitions, each found at its first use (next.c) */
extern struct shim_calls shim_front_next;
void *shim_front_resolve(const char *name, void **slot, bool required);
#define NEXT(fn)                                                                     \
	((__typeof__(shim_front_next.fn))(__atomic_load_n((void **)&shim_front_next.fn, \
							  __ATOMIC_RELAXED) ?:          \
					  shim_front_resolve(#fn, (void **)&shim_front_next.fn, true)))
/* A symbol of the objects after the front (a function of libc's the
 * front calls itself, or a variable), or NULL */
void *shim_front_lookup(const char *name);
/* Every next definition, for the engine (false: one is missing) */
bool shim_front_resolve_all(void);
/* The objects in the loader's list when the front first read it: calls
 * `fn` with each one's symbols until it returns true */
struct shim_dynsym;
enum shim_front_objects {
	FRONT_AFTER,  /* the objects after the front, in order */
	FRONT_BEFORE, /* those before it, the program excepted */
	FRONT_ALL,    /* every one but the front */
};
bool shim_front_each_object(bool (*fn)(const char *path, const struct shim_dynsym *d, void *arg), void *arg,
			    enum shim_front_objects which);
/* The front's own path, as the loader recorded it */
const char *shim_front_path(void);

/* Whether this process can gain from the engine (decide.c): NULL if
 * not, else why, for the engine's log and vforkshim ps; *on set if
 * VFORKSHIM is on (left alone otherwise) */
const char *shim_front_why(char **env, char *buf, size_t cap, bool *on);

/* What vforkshim ps reads from outside (engine.c): found by its magic in
 * the front's writable mapping */
#define SHIM_FRONT_MAGIC "vforkshim-front1"
/* FRONT_OFF: VFORKSHIM is not on (the record is not written: no page of
 * the front's data is copied for it); FRONT_ALONE: on, nothing to gain */
enum shim_front_state { FRONT_OFF, FRONT_ALONE, FRONT_ENGINE, FRONT_FAILED };
struct shim_front_live {
	char magic[16];
	int32_t state;  /* enum shim_front_state */
	char why[112];  /* why the engine was loaded, or could not be */
};
extern struct shim_front_live shim_front_live;

/* One line to stderr with write(2), for the few things the front says
 * without the engine (its loading failed): next.c */
void shim_front_warn(const char *what, const char *detail);

#endif
