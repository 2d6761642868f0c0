/* The table of exec-bound sites: where each known function lies in the
 * objects loaded now.
 *
 * Each runtime's knowledge is a file of its own (rt_*.c: the symbols
 * its exec-bound forks come from, how deep below them fork() is, what
 * their children write); VFORKSHIM_SITES adds the user's. The table is
 * rebuilt whenever the loaded set changes, adds or subs (dl_iterate_phdr
 * counts both), from each object's own dynamic symbol table (elf.c): no
 * dlopen, dlsym or dladdr, whose lock a plugin's constructor or
 * destructor may hold for as long as it likes.
 *
 * fork() reads the table from any thread while another may rebuild it:
 * a sequence count, odd while a rebuild runs, tells the reader whether
 * what it read is whole; a reader that raced a rebuild, or a table that
 * no longer describes the loaded set, declines (real fork). Nothing
 * here allocates; the rebuild runs under a trylock, so a fork from a
 * signal handler that interrupted a rebuild in its own thread declines
 * instead of waiting for itself. */
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fork.h"
#include "lockfree.h"

/* Every object that registers fork handlers takes an entry; a table
 * that overflows declines every fork (fail closed: a dropped deny or
 * fork-handler entry would let a fork through that must stay real). */
#define MAX_ENTRIES 256

static struct {
	unsigned seq; /* even: whole; odd: being rebuilt */
	unsigned long long adds, subs;
	bool built;
	int n, max_depth;
	bool any; /* an entry other than a deny */
	bool overflow; /* an entry did not fit: decline every fork */
	struct shim_site e[MAX_ENTRIES];
} table;
static pthread_mutex_t rebuild_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t rebuilder; /* the thread rebuilding, while it does */
static char program[PATH_MAX]; /* the main program's path: its dlpi_name is "" */
static int fork_all_writes_environ; /* learned under fork=all */
static int unread_logged, overflow_logged;
static int swap_wrote_environ; /* learned: a swapped child wrote environ */

/* The runtimes: every rt_*.c puts a pointer to its description in the
 * section shim_rt (SHIM_RUNTIME); the linker gives its bounds. */
extern const struct shim_runtime *const __start_shim_rt[] __attribute__((weak, visibility("hidden")));
extern const struct shim_runtime *const __stop_shim_rt[] __attribute__((weak, visibility("hidden")));

/* ---- building the table ---- */

static int probe(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size, (void)data;
	struct shim_object o;
	if (shim_object_init(&o, info, program))
		shim_loader_probe(&o);
	return 0;
}

void shim_sites_init(void)
{
	shim_sites_parse(cfg.sites);
	ssize_t n = readlink("/proc/self/exe", program, sizeof program - 1);
	program[n > 0 ? n : 0] = '\0';
	/* where the loader's lock is, before any copy can need it; else at
	 * the first rebuild (a library dlopen'ed holds another of its locks
	 * here, and the search gives up) */
	dl_iterate_phdr(probe, NULL);
	shim_loader_confirm();
}

static unsigned own_atfork(unsigned flags);

static void put(const struct shim_object *o, uintptr_t start, uintptr_t end, const char *label,
		unsigned depth, unsigned flags, int user_index)
{
	if (user_index < 0 && !(flags & (SITE_DENY | SITE_ATFORK_CALLER | SITE_REFUSED)))
		flags = own_atfork(flags);
	if (table.n == MAX_ENTRIES) {
		table.overflow = true;
		return;
	}
	struct shim_site *e = &table.e[table.n++];
	*e = (struct shim_site){ start, end, o->text_start, o->text_end, label,
				 (unsigned char)depth, flags, (signed char)user_index, 0, 0, -1, 0, 0, NULL };
	if (!(flags & (SITE_DENY | SITE_ATFORK_CALLER | SITE_REFUSED))) {
		table.any = true;
		if ((int)depth > table.max_depth)
			table.max_depth = (int)depth;
	}
}

void shim_site_add(const struct shim_object *o, uintptr_t start, uintptr_t end, const char *label,
		   unsigned depth, unsigned flags)
{
	put(o, start, end, label, depth, flags, -1);
}

void shim_site_add_if(const struct shim_object *o, uintptr_t start, uintptr_t end, const char *label,
		      unsigned depth, unsigned flags, int32_t off, uintptr_t value)
{
	int n = table.n;
	put(o, start, end, label, depth, flags | SITE_IF_WORD, -1);
	if (table.n > n) {
		table.e[n].if_off = off;
		table.e[n].if_value = value;
	}
}

void shim_site_add_swap(const struct shim_object *o, uintptr_t call, uintptr_t end, const char *label,
			unsigned flags, int dwarf_reg, int32_t size, int32_t off,
			bool (*ok)(const unsigned char *copy))
{
	int n = table.n;
	put(o, call, end, label, 1, flags | SITE_SWAP_ENV, -1);
	if (table.n > n) {
		table.e[n].swap_reg = (signed char)dwarf_reg;
		table.e[n].swap_size = size;
		table.e[n].swap_off = off;
		table.e[n].swap_ok = ok;
	}
}

unsigned shim_version_parse(const char *s)
{
	unsigned major = 0, minor = 0;
	const char *p = s;
	if (!p || *p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9' && major < 1000; p++)
		major = major * 10 + (unsigned)(*p - '0');
	if (*p++ != '.' || *p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9' && minor < 100; p++)
		minor = minor * 10 + (unsigned)(*p - '0');
	return minor < 100 ? major * 100 + minor : 0;
}

unsigned shim_runtime_flags(const struct shim_runtime *r, const struct shim_object *o, unsigned flags)
{
	if (!r->version)
		return flags;
	unsigned v = r->version(o);
	if (r->version_flags)
		flags |= r->version_flags(v);
	bool read = false;
	for (const unsigned *p = r->read; p && *p && !read; p++)
		read = *p == v;
	return read ? flags : flags | SITE_UNREAD;
}

/* Does the object register fork handlers? glibc's pthread_atfork is
 * __register_atfork (libc_nonshared.a), musl's is itself. Not this
 * library, whose handlers are for the real forks it lets through, and
 * which calls main (a tail call to a site in main leaves this library
 * as the caller); not glibc's own objects (libpthread before 2.34
 * registers its internal ones). */
static bool registers_fork_handlers(const struct shim_object *o)
{
	uintptr_t self = (uintptr_t)&registers_fork_handlers;
	if (self - o->text_start < o->text_end - o->text_start || shim_object_is(o, "libc.so.6", false) ||
	    shim_object_is(o, "libpthread.so.0", false))
		return false;
	return shim_object_references(o, "__register_atfork") || shim_object_references(o, "pthread_atfork");
}

/* While scan() runs: whether the object scanned registers fork
 * handlers, for the sites the runtimes' find() adds to it. */
static bool scanning_atfork;

/* A built-in site in an object that registers fork handlers: its child
 * skips them when rerouted. Declined (SITE_OWN_ATFORK) unless the
 * runtime read those handlers and found them needless in an exec-bound
 * child (SITE_ATFORK_READ): a libuv or a Perl linked into another
 * object alongside handlers of that object's own (uvloop's wheel, say)
 * is declined. */
static unsigned own_atfork(unsigned flags)
{
	return scanning_atfork && !(flags & SITE_ATFORK_READ) ? flags | SITE_OWN_ATFORK : flags;
}

/* Only an object that defines one of a runtime's markers holds its
 * sites: the rule that lets the front load the engine only where an
 * object loaded at start defines one (front/decide.c) miss none. */
static bool marked(const struct shim_object *o, const struct shim_runtime *r)
{
	for (const char *const *m = r->markers; m && *m; m++)
		if (shim_object_defines(o, *m))
			return true;
	return false;
}

static int scan(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size, (void)data;
	table.adds = info->dlpi_adds;
	table.subs = info->dlpi_subs;
	struct shim_object o;
	if (!shim_object_init(&o, info, program))
		return 0;
	shim_loader_probe(&o);
	bool atfork = registers_fork_handlers(&o);
	scanning_atfork = atfork;
	for (const struct shim_runtime *const *r = __start_shim_rt; r && r < __stop_shim_rt; r++) {
		if (!marked(&o, *r))
			continue;
		for (const struct shim_site_def *d = (*r)->sites; d && d->symbol; d++) {
			uintptr_t start;
			size_t sz;
			if (!shim_object_sym(&o, d->symbol, &start, &sz))
				continue;
			unsigned flags = d->flags;
			if ((flags & SITE_ATFORK_READ) && d->handlers_of && !shim_object_named(&o, d->handlers_of))
				flags &= ~SITE_ATFORK_READ; /* read only in that object */
			if (flags & SITE_DENY) /* the whole object's code */
				put(&o, o.text_start, o.text_end, d->symbol, 0, flags, -1);
			else
				put(&o, start, start + sz, d->symbol, d->depth, shim_runtime_flags(*r, &o, flags), -1);
		}
		if ((*r)->find)
			(*r)->find(&o);
	}
	if (atfork)
		put(&o, o.text_start, o.text_end, "fork handlers", 0, SITE_ATFORK_CALLER, -1);
	for (int i = 0; i < shim_user_sites(); i++) {
		const struct shim_user_site *u = shim_user_site(i);
		uintptr_t start;
		size_t sz;
		if ((!u->object[0] || shim_object_is(&o, u->object, false)) &&
		    shim_object_sym(&o, u->symbol, &start, &sz))
			put(&o, start, start + sz, u->label, u->depth, 0, i);
	}
	return 0;
}

struct counts {
	unsigned long long adds, subs;
};

static int count(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct counts *c = data;
	c->adds = info->dlpi_adds;
	c->subs = info->dlpi_subs;
	return 1;
}

static struct counts loaded_set(void)
{
	struct counts c = { 0, 0 };
	dl_iterate_phdr(count, &c);
	return c;
}

/* The table, rebuilt if the loaded set changed; its sequence number in
 * *seq, or false when it cannot be trusted now (a rebuild in another
 * thread, or one this thread interrupted). */
static bool current(unsigned *seq)
{
	if (shim_loader_stuck)
		return false; /* dl_iterate_phdr would wait for ever (loader.c) */
	struct counts c = loaded_set();
	unsigned s = __atomic_load_n(&table.seq, __ATOMIC_ACQUIRE);
	if (!(s & 1) && table.built && table.adds == c.adds && table.subs == c.subs) {
		*seq = s;
		return true;
	}
	if (pthread_mutex_trylock(&rebuild_lock) != 0) {
		/* Another thread is rebuilding (the first forks of a threaded
		 * program all find the table unbuilt): wait for it, a few
		 * milliseconds at most. This thread rebuilding, interrupted by
		 * a signal handler that forks: decline, never wait for itself. */
		if (__atomic_load_n(&rebuilder, __ATOMIC_RELAXED) == pthread_self())
			return false;
		/* until the table is whole and current, not merely until the
		 * sequence is even: the rebuilder takes the lock before it
		 * makes the sequence odd, and a waiter that came in between
		 * found an even sequence, an unbuilt table, and declined */
		for (int i = 0; i < 1000; i++) {
			s = __atomic_load_n(&table.seq, __ATOMIC_ACQUIRE);
			if (!(s & 1) && table.built && table.adds == c.adds && table.subs == c.subs) {
				*seq = s;
				return true;
			}
			sched_yield();
		}
		return false;
	}
	__atomic_store_n(&rebuilder, pthread_self(), __ATOMIC_RELAXED);
	__atomic_store_n(&table.seq, table.seq + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	table.n = 0;
	table.max_depth = 0;
	table.any = false;
	table.overflow = false;
	dl_iterate_phdr(scan, NULL);
	shim_loader_confirm();
	table.built = true;
	__atomic_store_n(&table.seq, table.seq + 1, __ATOMIC_RELEASE);
	*seq = table.seq;
	__atomic_store_n(&rebuilder, (pthread_t)0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&rebuild_lock);
	return true;
}

/* In a copy (proc.c): the rebuild lock is held by nobody, and a rebuild
 * another thread was running is half done for ever: that table is built
 * again at the next fork, and so are the runtimes' caches it was
 * filling. A whole table (even sequence: a rebuild that had taken the
 * lock had not yet touched it) describes the copy's loaded set as well
 * as the parent's, and is kept. A rebuild this very thread was running
 * (a handler's fork interrupted it) goes on when the handler returns,
 * in the copy too: left alone. */
void shim_sites_forget(void)
{
	if (__atomic_load_n(&rebuilder, __ATOMIC_RELAXED) == pthread_self())
		return;
	bool torn = __atomic_load_n(&table.seq, __ATOMIC_RELAXED) & 1;
	rebuild_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	rebuilder = (pthread_t)0;
	if (torn) {
		table.built = false;
		table.seq++;
		for (const struct shim_runtime *const *r = __start_shim_rt; r && r < __stop_shim_rt; r++)
			if ((*r)->forget)
				(*r)->forget();
	}
}
SHIM_ON_COPY(shim_sites_forget);

/* Was the table whole and still the loaded set's while we read it? */
static bool still(unsigned seq)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&table.seq, __ATOMIC_RELAXED) != seq)
		return false;
	struct counts c = loaded_set();
	return table.adds == c.adds && table.subs == c.subs;
}

/* ---- the decision's use of the table ---- */

/* SITE_SWAP_ENV: the struct the child will read, copied out of the
 * caller's memory with process_vm_readv (a bad pointer is an error, not
 * a fault in the parent), checked by its runtime, its env word set to
 * NULL in the copy; the child gets the copy (fork.c). */
static enum shim_reason swap_prepare(struct shim_walk *w)
{
#ifdef SHIM_RESUME_REGS
	static const int dwarf[SHIM_RESUME_REGS] = SHIM_RESUME_DWARF;
	const struct shim_site *s = &w->site;
	int k = 0;
	while (k < SHIM_RESUME_REGS && dwarf[k] != s->swap_reg)
		k++;
	if (k == SHIM_RESUME_REGS || s->swap_size > SHIM_SWAP_MAX || s->swap_off < 0 ||
	    s->swap_off + (int32_t)sizeof(char **) > s->swap_size || !w->resume.sp)
		return R_UNWIND;
	if (!shim_read_memory(w->swap, (const void *)w->resume.reg[k], (size_t)s->swap_size) ||
	    (s->swap_ok && !s->swap_ok(w->swap)))
		return R_OPTIONS;
	memcpy(&w->swap_env, w->swap + s->swap_off, sizeof w->swap_env);
	memset(w->swap + s->swap_off, 0, sizeof w->swap_env);
	w->resume.reg[k] = 0; /* fork.c points it to the copy's new home */
	w->swap_reg_index = k;
	return R_COUNT;
#else
	(void)w;
	return R_UNDECODED;
#endif
}

enum shim_reason shim_sites_match(struct shim_walk *w)
{
	/* defined on every return, not only after a walk: audit mode
	 * reads the verdict and the refused label whatever the reason */
	memset(w, 0, sizeof *w);
	shim_proc_check();
	unsigned seq;
	if (!current(&seq))
		return R_BUSY;
	if (__atomic_load_n(&table.overflow, __ATOMIC_RELAXED)) {
		if (!__atomic_exchange_n(&overflow_logged, 1, __ATOMIC_RELAXED))
			shim_log(LOG_WARN, "more than %d site entries (objects that register fork handlers count): every fork stays real",
				 MAX_ENTRIES);
		return R_RESOURCE;
	}
	if (cfg.fork == FORK_SITES && !__atomic_load_n(&table.any, __ATOMIC_RELAXED))
		return R_POLICY; /* no site loaded: nothing to find, no walk */
	int depth = cfg.fork == FORK_ALL ? SHIM_MAX_WALK : table.max_depth + 1;
	int r = shim_walk(w, table.e, table.n, depth);
	if (!still(seq))
		return R_BUSY;
	if (r != 0)
		return R_UNWIND;
	switch (w->verdict) {
	case WALK_DENY:
		return R_DENIED;
	case WALK_SIGNAL:
		return R_SIGNAL;
	case WALK_SITE:
		if (!w->site_top)
			return R_UNWIND; /* its frame's top is unknown: do not guess */
		/* the word the child will test, read in this thread's own
		 * live frame: the bottom of the site's frame is where its
		 * stack pointer stood at the call of fork() */
		if ((w->site.flags & SITE_IF_WORD) &&
		    *(const uintptr_t *)(w->last_cfa + (intptr_t)w->site.if_off) != w->site.if_value)
			return R_PREEXEC;
		if (w->site.user >= 0) { /* the user vouches for the child; what it learned */
			w->may_assign_environ = true;
			w->decline_threaded = __atomic_load_n(&shim_user_site(w->site.user)->writes_environ, __ATOMIC_RELAXED);
		} else {
			w->may_assign_environ = w->site.flags & (SITE_WRITES_ENVIRON | SITE_SWAP_ENV);
			w->decline_threaded = w->site.flags & (SITE_WRITES_ENVIRON | SITE_ENVIRON_UNGUARDED);
			/* a swapped child that wrote environ all the same (a
			 * proof gone wrong): as a known writer from then on */
			if ((w->site.flags & SITE_SWAP_ENV) && __atomic_load_n(&swap_wrote_environ, __ATOMIC_RELAXED))
				w->decline_threaded = true;
		}
		/* fork handlers that must run: declined; where the site would
		 * be declined for other threads anyway (Node, whose binary
		 * holds libuv and registers its handler), that is the reason */
		if (w->caller_atfork || (w->site.flags & SITE_OWN_ATFORK))
			return w->decline_threaded && shim_threads() != 1 ? R_THREADS : R_ATFORK;
		if (w->site.flags & SITE_UNREAD) {
			if (!__atomic_exchange_n(&unread_logged, 1, __ATOMIC_RELAXED))
				shim_log(LOG_INFO, "%s: this version of its runtime was not read (docs/sites.md); its forks stay real",
					 w->site.label);
			return R_UNREAD;
		}
		/* last: the struct read only for a fork that is otherwise
		 * rerouted (audit mode too: it says what would happen) */
		if (w->site.flags & SITE_SWAP_ENV)
			return swap_prepare(w);
		return R_COUNT;
	default:
		if (cfg.fork != FORK_ALL)
			return R_POLICY;
		/* fork=all saves up to the top of the last frame walked, which
		 * must lie above fork()'s caller's frame: the walk must have
		 * reached the caller's caller. A caller without unwind tables
		 * ends the walk at itself: its top is unknown, decline. */
		if (w->frames < 2)
			return R_UNWIND;
		w->may_assign_environ = true;
		w->decline_threaded = __atomic_load_n(&fork_all_writes_environ, __ATOMIC_RELAXED);
		return R_COUNT;
	}
}

/* A rerouted child assigned environ (the parent has put it back). Its
 * site, or fork=all, counts as one whose child writes environ from now
 * on: declined while other threads could see it. */
void shim_sites_learn_environ(const struct shim_walk *w, bool threaded)
{
	if (w->verdict == WALK_SITE && (w->site.flags & SITE_SWAP_ENV)) {
		if (!__atomic_exchange_n(&swap_wrote_environ, 1, __ATOMIC_RELAXED))
			shim_log(LOG_WARN, "the child of a fork rerouted at %s assigned environ although it was given no environment to assign; from now on such forks stay real while the process has other threads",
				 w->site.label);
		return;
	}
	int *flag = w->verdict == WALK_SITE ? (w->site.user >= 0 ? &shim_user_site(w->site.user)->writes_environ : NULL)
					     : &fork_all_writes_environ;
	if (!flag || __atomic_exchange_n(flag, 1, __ATOMIC_RELAXED))
		return;
	shim_log(threaded ? LOG_WARN : LOG_INFO,
		 "the child of a fork rerouted at %s assigned environ%s; from now on such forks stay real while the process has other threads",
		 w->verdict == WALK_SITE ? w->site.label : "(all)",
		 threaded ? " while other threads could read it" : "");
}
