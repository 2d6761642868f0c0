/* The next definition of each function the front passes on: what
 * dlsym(RTLD_NEXT, name) returns for it, found without dlsym.
 *
 * dlsym takes the loader's lock and costs each call a few thousand
 * instructions; the single library before the front made 30 at every start
 * (issue 18: 34,000 instructions of /bin/true's 263,000). RTLD_NEXT
 * searches the global scope after the caller's object; for the objects
 * loaded at start (the program, the preloaded libraries in order, then
 * their dependencies breadth first) that is the order of the loader's
 * list, which _r_debug.r_map begins (glibc's elf/dl-sym.c, rtld.c). So
 * the front walks that list from its own entry on, and takes the first
 * default-version definition (common/dynsym.c). A second preloaded
 * library after ours that interposes the same name is found before
 * libc, as RTLD_NEXT would find it (tests/front.sh).
 *
 * Only the objects that were there when the front first looked are
 * read: those loaded at start are never unloaded, while an object that
 * dlopen added later may be unloaded by another thread as we read. A
 * front that is not preloaded (dlopen'ed, or linked after libc) has
 * libc before it: if nothing after it defines a name, the objects before
 * it but the program are asked, in order. Each name is found at its
 * first use, so that a process that calls none
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

#define CACHED 16 /* objects whose symbol tables are read once */
static struct link_map *self; /* the front's entry */
static int total, self_at;    /* the list's length when first read, the front's place */
static struct {
	const char *path;
	bool ok;
	struct shim_dynsym d;
} cache[CACHED]; /* the list's first objects */
static int state; /* 0: not read, 1: being read by one thread, 2: read */

/* The list as it stands: its length and the front's place in it */
static struct link_map *read_list(int *n, int *at)
{
	struct link_map *me = NULL;
	*n = 0, *at = -1;
	if (!&_r_debug)
		return NULL;
	for (struct link_map *l = _r_debug.r_map; l; l = l->l_next, ++*n)
		if (!me && l->l_ld == _DYNAMIC) {
			me = l;
			*at = *n;
		}
	return me;
}

/* The first call reads the list into the cache; one that comes while
 * the first is still at it reads the list itself, without the cache. */
static bool init(void)
{
	int st = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
	if (st == 2)
		return self != NULL;
	if (st != 0 || !__atomic_compare_exchange_n(&state, &st, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return false;
	int n, at;
	struct link_map *me = read_list(&n, &at);
	struct link_map *l = me ? _r_debug.r_map : NULL;
	for (int i = 0; i < CACHED && i < n && l; i++, l = l->l_next) {
		cache[i].path = l->l_name;
		cache[i].ok = l != me && shim_dynsym_init(&cache[i].d, l->l_addr, l->l_ld);
	}
	self = me;
	total = n, self_at = at;
	__atomic_store_n(&state, 2, __ATOMIC_RELEASE);
	return me != NULL;
}

const char *shim_front_path(void)
{
	int n, at;
	struct link_map *me = init() ? self : read_list(&n, &at);
	return me ? me->l_name : NULL;
}

bool shim_front_each_object(bool (*fn)(const char *path, const struct shim_dynsym *d, void *arg), void *arg,
			    enum shim_front_objects which)
{
	int n, at;
	bool cached = init();
	struct link_map *me = cached ? self : read_list(&n, &at);
	if (!me)
		return false;
	if (cached)
		n = total, at = self_at;
	struct link_map *l = _r_debug.r_map;
	struct shim_dynsym d;
	for (int i = 0; i < n && l; i++, l = l->l_next) {
		bool wanted = which == FRONT_ALL ? i != at : which == FRONT_AFTER ? i > at : i > 0 && i < at;
		if (!wanted)
			continue;
		if (cached && i < CACHED) {
			if (cache[i].ok && fn(cache[i].path, &cache[i].d, arg))
				return true;
		} else if (shim_dynsym_init(&d, l->l_addr, l->l_ld) && fn(l->l_name, &d, arg)) {
			return true;
		}
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
	const ElfW(Sym) *s = shim_dynsym_find(d, w->name, w->hash, SHIM_SYM_LOOKUP);
	if (!s)
		return false;
	w->ifunc = (s->st_info & 0xf) == STT_GNU_IFUNC;
	w->found = (void *)(d->base + s->st_value);
	return true;
}

/* Whether the objects before the front are to be asked too: only when
 * libc is not after it (a front dlopen'ed, or linked after libc), which
 * `exit` tells. Else a name none after it defines (execveat before glibc
 * 2.34) must stay missing, as for dlsym(RTLD_NEXT). */
static bool before_too(void)
{
	static int known; /* 0: not yet, 1: no, 2: yes; the same in every thread */
	int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
	if (!k) {
		struct want w = { "exit", shim_dynsym_hash("exit"), NULL, false };
		k = shim_front_each_object(look, &w, FRONT_AFTER) ? 1 : 2;
		__atomic_store_n(&known, k, __ATOMIC_RELAXED);
	}
	return k == 2;
}

void *shim_front_lookup(const char *name)
{
	struct want w = { name, shim_dynsym_hash(name), NULL, false };
	if (!shim_front_each_object(look, &w, FRONT_AFTER) &&
	    !(before_too() && shim_front_each_object(look, &w, FRONT_BEFORE)))
		return NULL;
	if (w.ifunc) { /* its resolver picks the implementation: dlsym's job */
		void *(*next_dlsym)(void *, const char *) = NULL;
		struct want d = { "dlsym", shim_dynsym_hash("dlsym"), NULL, false };
		if ((shim_front_each_object(look, &d, FRONT_AFTER) ||
		     (before_too() && shim_front_each_object(look, &d, FRONT_BEFORE))) && !d.ifunc)
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
	if (a.n && !shim_front_each_object(look_all, &a, FRONT_AFTER) && before_too())
		shim_front_each_object(look_all, &a, FRONT_BEFORE);
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
