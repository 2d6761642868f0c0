/* The next definition of each function the front passes on: what
 * dlsym(RTLD_NEXT, name) returns for it, found without dlsym.
 *
 * dlsym takes the loader's lock and costs each call a few thousand
 * instructions; the front used to make 30 of them at every start
 * (issue 18: 34,000 instructions of /bin/true's 263,000). RTLD_NEXT
 * searches the global scope after the caller's object; for the objects
 * loaded at start (the program, the preloaded libraries in order, then
 * their dependencies breadth first) that is the order of the loader's
 * list, which _r_debug.r_map begins (glibc's elf/dl-sym.c, rtld.c). So
 * the front walks that list from its own entry on, and takes the first
 * default-version definition (common/dynsym.c). A second preloaded
 * library after ours that interposes the same name is found before
 * libc, as RTLD_NEXT would find it (tests/integration.sh).
 *
 * Only the objects that were there when the front first looked are
 * read: those loaded at start are never unloaded, while an object that
 * dlopen added later may be unloaded by another thread as we read. Each
 * name is found at its first use, so that a process that calls none
 * (most) reads no more of libc's symbol table than the loader did. An
 * IFUNC (none of these names is one in glibc) is left to dlsym. */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>

#include "front.h"
#include "../common/dynsym.h"

struct shim_calls shim_front_next;

extern struct r_debug _r_debug __attribute__((weak));
extern ElfW(Dyn) _DYNAMIC[] __attribute__((visibility("hidden")));

#define MAX_OBJECTS 256
#define CACHED 16 /* objects whose symbol tables are read once */
static struct link_map *self; /* the front's entry */
static int nobjects;          /* entries after it when first read */
static struct {
	const char *path;
	bool ok;
	struct shim_dynsym d;
} cache[CACHED]; /* the program, then the objects after the front */
static int state; /* 0: not read, 1: being read by one thread, 2: read */

/* Reading the list at all: the first call, or one that comes while the
 * first is still at it (the loaded-at-start part of the list is the
 * same for both), reads it itself, into the cache only if first. */
static struct link_map *find_self(int *n)
{
	struct link_map *me = NULL;
	*n = 0;
	if (&_r_debug) {
		for (struct link_map *l = _r_debug.r_map; l; l = l->l_next)
			if (l->l_ld == _DYNAMIC) {
				me = l;
				break;
			}
		for (struct link_map *l = me ? me->l_next : NULL; l && *n < MAX_OBJECTS; l = l->l_next)
			++*n;
	}
	return me;
}

static bool init(void)
{
	int st = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
	if (st == 2)
		return self != NULL;
	if (st != 0 || !__atomic_compare_exchange_n(&state, &st, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return false; /* another thread is at it: read without the cache */
	int n;
	struct link_map *me = find_self(&n);
	if (me) {
		struct link_map *l = _r_debug.r_map;
		for (int i = 0; i < CACHED && i <= n && l; i++) {
			cache[i].path = l->l_name;
			cache[i].ok = l != me && shim_dynsym_init(&cache[i].d, l->l_addr, l->l_ld);
			l = i == 0 ? me->l_next : l->l_next;
		}
	}
	self = me;
	nobjects = n;
	__atomic_store_n(&state, 2, __ATOMIC_RELEASE);
	return me != NULL;
}

const char *shim_front_path(void)
{
	int n;
	return init() ? self->l_name : (find_self(&n) ? find_self(&n)->l_name : NULL);
}

bool shim_front_each_object(bool (*fn)(const char *path, const struct shim_dynsym *d, void *arg), void *arg,
			    bool program)
{
	int n = 0;
	struct link_map *me = init() ? self : find_self(&n);
	bool cached = me == self && me;
	if (!me)
		return false;
	if (cached)
		n = nobjects;
	/* the program first (before the front in the list), then the rest */
	struct link_map *l = _r_debug.r_map;
	struct shim_dynsym d;
	for (int i = 0; i <= n && l; i++) {
		if (i > 0 || program) {
			if (cached && i < CACHED) {
				if (cache[i].ok && fn(cache[i].path, &cache[i].d, arg))
					return true;
			} else if (l != me && shim_dynsym_init(&d, l->l_addr, l->l_ld) && fn(l->l_name, &d, arg))
				return true;
		}
		l = i == 0 ? me->l_next : l->l_next;
	}
	return false;
}

struct want {
	const char *name;
	uint32_t hash;
	void *found;
	bool ifunc;
};

static bool look(const char *path, const struct shim_dynsym *d, void *arg)
{
	(void)path;
	struct want *w = arg;
	const ElfW(Sym) *s = shim_dynsym_find(d, w->name, w->hash, SHIM_SYM_FUNC | SHIM_SYM_IFUNC | SHIM_SYM_DATA);
	if (!s)
		return false;
	w->ifunc = (s->st_info & 0xf) == STT_GNU_IFUNC;
	w->found = (void *)(d->base + s->st_value);
	return true;
}

void *shim_front_lookup(const char *name)
{
	struct want w = { name, shim_dynsym_hash(name), NULL, false };
	if (!shim_front_each_object(look, &w, false))
		return NULL;
	if (w.ifunc) { /* its resolver picks the implementation: dlsym's job */
		void *(*next_dlsym)(void *, const char *) = NULL;
		struct want d = { "dlsym", shim_dynsym_hash("dlsym"), NULL, false };
		if (shim_front_each_object(look, &d, false) && !d.ifunc)
			next_dlsym = (void *(*)(void *, const char *))d.found;
		return next_dlsym ? next_dlsym(RTLD_NEXT, name) : NULL;
	}
	return w.found;
}

/* Without the next definition there is nothing safe to pass the call
 * on to: a broken libc, not a configuration. */
static void missing(const char *name)
{
	shim_front_warn("fatal: no next definition of ", name);
	void (*next_exit)(int) = (void (*)(int))shim_front_lookup("_exit");
	if (next_exit)
		next_exit(127);
	__builtin_trap();
}

void *shim_front_resolve(const char *name, void **slot, bool required)
{
	void *p = shim_front_lookup(name);
	if (!p && required)
		missing(name);
	if (p)
		__atomic_store_n(slot, p, __ATOMIC_RELAXED);
	return p;
}

/* Every name at once, for the engine: one pass over the objects, each
 * asked for the names still missing, first definition wins as above */
struct all {
	struct want w[40];
	void **slot[40];
	bool required[40];
	int n, left;
};

static bool look_all(const char *path, const struct shim_dynsym *d, void *arg)
{
	struct all *a = arg;
	for (int i = 0; i < a->n; i++)
		if (!a->w[i].found && look(path, d, &a->w[i]))
			a->left--;
	return a->left == 0;
}

bool shim_front_resolve_all(void)
{
	struct all a = { .n = 0 };
#define WANT(name_, slot_, required_)                                                     	if (!*(void **)(slot_)) {                                                         		a.w[a.n] = (struct want){ name_, shim_dynsym_hash(name_), NULL, false };  		a.slot[a.n] = (void **)(slot_);                                           		a.required[a.n++] = required_;                                            	}
#define RESOLVE(ret, name, params, args) WANT(#name, &shim_front_next.name, true)
	SHIM_CALLS(RESOLVE)
#undef RESOLVE
	WANT("execveat", &shim_front_next.execveat, false) /* glibc 2.34 added it */
	WANT("exit", &shim_front_next.exit, true)
#if !defined(__powerpc__)
	WANT("__libc_start_main", &shim_front_next.libc_start_main, true)
#endif
#undef WANT
	a.left = a.n;
	if (a.n)
		shim_front_each_object(look_all, &a, false);
	for (int i = 0; i < a.n; i++) {
		void *p = a.w[i].found;
		if (p && a.w[i].ifunc) /* left to dlsym, as shim_front_lookup does */
			p = shim_front_lookup(a.w[i].name);
		if (p)
			__atomic_store_n(a.slot[i], p, __ATOMIC_RELAXED);
		else if (a.required[i])
			missing(a.w[i].name);
	}
	return true;
}

void shim_front_warn(const char *what, const char *detail)
{
	long (*next_write)(int, const void *, size_t) = shim_front_lookup("write");
	if (!next_write)
		return;
	char line[512];
	size_t n = 0;
	const char *parts[] = { "vforkshim: ", what, detail, "\n" };
	for (int i = 0; i < 4; i++)
		for (const char *p = parts[i]; p && *p && n < sizeof line - 1; p++)
			line[n++] = *p;
	if (line[n - 1] != '\n')
		line[n - 1] = '\n';
	next_write(2, line, n);
}
