/* Exec-bound call sites: is a known exec-bound function on the stack?
 *
 * A site is the address range [start, start + size) of an exported
 * symbol, found with dlsym and dladdr1. The stack is walked with
 * libgcc's unwinder, loaded with dlopen at start-up (never inside a
 * fork), which also gives each frame's CFA: the top of the matched
 * site's frame is where the snapshot of the caller's stack must end.
 * Sites whose object is not loaded yet (libjava.so arrives by dlopen)
 * are looked up again whenever the number of loaded objects changed.
 * Deny sites run arbitrary code in the child and are never rerouted,
 * not even with VFORKSHIM_FORK=all. */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <unwind.h>

#include "shim.h"

#define MAX_SITES 32
#define MAX_DEPTH 64

struct site {
	char object[128], symbol[128];
	bool deny, fail_fork;
	bool by_start; /* a function without a symbol: match its start */
	uintptr_t start, end; /* 0, 0 until found */
};

/* docs/sites.md justifies each of these from the runtime's child code.
 * fail_fork: when exec fails, the child goes on to run the language's
 * own code (Perl: the "Can't exec" warning, hence __WARN__ handlers and
 * FATAL warnings), which must not run in the parent's memory. Perl's
 * my_popen is not a site: with the command "-" its child returns into
 * Perl code without exec'ing (open(FH, "-|"), qx(-)). */
static const struct {
	const char *symbol;
	bool fail_fork;
} builtin[] = {
	{ "uv_spawn", false },                               /* libuv (Node) */
	{ "rb_fork_async_signal_safe", false },              /* Ruby */
	{ "Perl_pp_system", true }, { "Perl_my_popen_list", true }, /* Perl */
	{ "Java_java_lang_ProcessImpl_forkAndExec", false }, /* OpenJDK, FORK */
};
/* CPython forks only for preexec_fn (arbitrary Python in the child). */
static const char *const denied[] = { "PyInit__posixsubprocess" };

static struct site sites[MAX_SITES];
static int nsites;
static unsigned long long seen_adds = ~0ULL;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static _Unwind_Reason_Code (*backtrace_fn)(_Unwind_Trace_Fn, void *);
static _Unwind_Ptr (*get_ip)(struct _Unwind_Context *);
static _Unwind_Word (*get_cfa)(struct _Unwind_Context *);
static _Unwind_Ptr (*get_region_start)(struct _Unwind_Context *);
static void *(*find_enclosing)(void *);

/* For the unit tests and the fuzzer: forget every site; read one back. */
void shim_sites_reset(void)
{
	nsites = 0;
	seen_adds = ~0ULL;
}

bool shim_sites_entry(int i, const char **object, const char **symbol)
{
	if (i < 0 || i >= nsites)
		return false;
	*object = sites[i].object;
	*symbol = sites[i].symbol;
	return true;
}

/* false when the table is full */
static bool add(const char *object, const char *symbol, bool deny, bool fail_fork)
{
	if (nsites == MAX_SITES)
		return false;
	struct site *s = &sites[nsites++];
	memset(s, 0, sizeof *s);
	s->deny = deny;
	s->fail_fork = fail_fork;
	strncpy(s->object, object ? object : "", sizeof s->object - 1);
	strncpy(s->symbol, symbol, sizeof s->symbol - 1);
	return true;
}

/* "sym" or "object:sym", comma separated. Bad entries are skipped, and
 * so are entries beyond the table; either way one warning line in all,
 * however long the list. Returns the number of entries accepted. */
int shim_sites_parse(const char *list)
{
	int accepted = 0, invalid = 0, first_invalid = 0, full = 0, entry_no = 0;
	while (list && *list) {
		const char *end = strchrnul(list, ',');
		char entry[sizeof sites[0].object + sizeof sites[0].symbol];
		size_t n = (size_t)(end - list);
		const char *colon = memchr(list, ':', n);
		size_t object_len = colon ? (size_t)(colon - list) : 0;
		size_t symbol_len = colon ? (size_t)(end - colon - 1) : n;
		entry_no++;
		/* each part must fit its field whole: a truncated name could
		 * match some other symbol */
		if (symbol_len == 0 || symbol_len >= sizeof sites[0].symbol ||
		    (colon && (object_len == 0 || object_len >= sizeof sites[0].object))) {
			if (!invalid++)
				first_invalid = entry_no;
		} else {
			memcpy(entry, list, n);
			entry[n] = '\0';
			char *c = strchr(entry, ':');
			if (c)
				*c = '\0';
			if (add(c ? entry : NULL, c ? c + 1 : entry, false, false))
				accepted++;
			else
				full++;
		}
		list = *end ? end + 1 : end;
	}
	if (invalid || full)
		shim_log(LOG_WARN, "VFORKSHIM_SITES: %d entries not valid (the first is entry %d; accepted: symbol or object:symbol, each part 1 to 127 bytes) and %d beyond the limit of %d sites; skipped",
			 invalid, first_invalid, full, MAX_SITES);
	return accepted;
}

static pthread_once_t unwinder_once = PTHREAD_ONCE_INIT;

static int is_named(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	return shim_object_named(info->dlpi_name, data);
}

/* dlopen(RTLD_NOLOAD) would search the library path on disk for a name
 * that is not loaded: this only looks at what is. `soname` may be the
 * start of a name ("libruby"). */
static bool loaded(const char *soname)
{
	return dl_iterate_phdr(is_named, (void *)soname) != 0;
}

#ifdef __ARM_EABI_UNWINDER__
/* The Arm EHABI unwinder has no _Unwind_GetIP function: libgcc's
 * unwind-arm-common.h makes it a macro, r15 read with _Unwind_VRS_Get
 * less the Thumb bit. Its _Unwind_GetCFA gave 3 here, not an address,
 * in the EHABI backtrace callback; the frame's sp (r13), read the same
 * way, is the bottom of the frame, as frame() expects. */
static int (*vrs_get)(struct _Unwind_Context *, int regclass, uint32_t regno, int repr, void *value);

static uint32_t arm_core_reg(struct _Unwind_Context *ctx, uint32_t regno)
{
	uint32_t v = 0;
	vrs_get(ctx, 0 /* _UVRSC_CORE */, regno, 0 /* _UVRSD_UINT32 */, &v);
	return v;
}

static _Unwind_Ptr arm_get_ip(struct _Unwind_Context *ctx)
{
	return arm_core_reg(ctx, 15) & ~(uint32_t)1;
}

static _Unwind_Word arm_get_cfa(struct _Unwind_Context *ctx)
{
	return arm_core_reg(ctx, 13);
}
#endif

static void load_unwinder(void)
{
	void *gcc = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_LOCAL);
	if (gcc) {
#ifdef __ARM_EABI_UNWINDER__
		if ((vrs_get = dlsym(gcc, "_Unwind_VRS_Get"))) {
			get_ip = arm_get_ip;
			get_cfa = arm_get_cfa;
		}
#else
		get_ip = dlsym(gcc, "_Unwind_GetIP");
		get_cfa = dlsym(gcc, "_Unwind_GetCFA");
#endif
		get_region_start = dlsym(gcc, "_Unwind_GetRegionStart");
		find_enclosing = dlsym(gcc, "_Unwind_FindEnclosingFunction");
		if (get_ip && get_cfa) /* last: the walk starts once it is set */
			__atomic_store_n(&backtrace_fn, dlsym(gcc, "_Unwind_Backtrace"), __ATOMIC_RELEASE);
	}
	if (!backtrace_fn)
		shim_log(LOG_WARN, "libgcc_s.so.1 or its unwinder functions not found: fork() cannot be matched to sites and stays real");
}

void shim_sites_init(void)
{
	for (size_t i = 0; i < sizeof builtin / sizeof *builtin; i++)
		add(NULL, builtin[i].symbol, false, builtin[i].fail_fork);
	for (size_t i = 0; i < sizeof denied / sizeof *denied; i++)
		add(NULL, denied[i], true, false);
	shim_sites_parse(cfg.sites);
	/* Loading libgcc_s costs an exec'd child about 0.35 ms, and every
	 * descendant of a preloaded program inherits VFORKSHIM=1. Load it
	 * now if it is loaded anyway or if a loaded object calls fork();
	 * a process with neither (coreutils, /bin/true) defers it to its
	 * first fork(), in the parent, before any clone. */
	if (!loaded("libgcc_s.so.1") && !shim_imported("fork"))
		return;
	pthread_once(&unwinder_once, load_unwinder);
}

static int count_adds(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	*(unsigned long long *)data = info->dlpi_adds;
	return 1;
}

struct text_range {
	uintptr_t base, start, end;
};

static int find_text(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct text_range *r = data;
	if (info->dlpi_addr != r->base)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			uintptr_t a = info->dlpi_addr + ph->p_vaddr;
			if (!r->start || a < r->start)
				r->start = a;
			if (a + ph->p_memsz > r->end)
				r->end = a + ph->p_memsz;
		}
	}
	return 1;
}

/* dlsym in every loaded object: RTLD_DEFAULT misses objects loaded
 * RTLD_LOCAL, which is how the JVM loads libjava.so. */
struct lookup {
	const char *symbol;
	void *addr;
};

static int lookup_in(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct lookup *l = data;
	if (!info->dlpi_name || !info->dlpi_name[0])
		return 0;
	void *h = dlopen(info->dlpi_name, RTLD_NOLOAD | RTLD_LAZY);
	if (!h)
		return 0;
	l->addr = dlsym(h, l->symbol);
	dlclose(h);
	return l->addr != NULL;
}

/* A symbol's range; for a deny site, the code of the whole object that
 * defines it (CPython's fork is static and any frame of the
 * interpreter can mean Python code in the child). */
static void resolve(struct site *s)
{
	void *h = RTLD_DEFAULT;
	if (s->object[0] && !(h = dlopen(s->object, RTLD_NOLOAD | RTLD_LAZY)))
		return;
	void *addr = dlsym(h, s->symbol);
	if (!addr && !s->object[0]) {
		struct lookup l = { s->symbol, NULL };
		dl_iterate_phdr(lookup_in, &l);
		addr = l.addr;
	}
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	struct link_map *lm = NULL;
	if (addr && s->deny && dladdr1(addr, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm) {
		struct text_range r = { .base = lm->l_addr };
		dl_iterate_phdr(find_text, &r);
		s->start = r.start;
		s->end = r.end;
	} else if (addr && dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) && sym) {
		s->start = (uintptr_t)addr;
		s->end = s->start + (sym->st_size ? sym->st_size : 1);
	}
	if (s->object[0])
		dlclose(h);
	if (s->start)
		shim_log(LOG_DEBUG, "site %s%s: [%p, %p)", s->symbol, s->deny ? " (deny)" : "",
			 (void *)s->start, (void *)s->end);
}

/* Ruby's exec-bound fork is in a static function: the one of libruby
 * that calls vfork (vfork_callers.c, docs/sites.md). */
static void add_ruby_sites(void)
{
	if (!loaded("libruby"))
		return;
	pthread_once(&unwinder_once, load_unwinder); /* finding needs the FDEs */
	uintptr_t starts[4];
	int n = get_region_start ? shim_vfork_callers("libruby", starts, 4, find_enclosing) : 0;
	for (int i = 0; i < n && nsites < MAX_SITES; i++) {
		struct site *s = &sites[nsites];
		memset(s, 0, sizeof *s);
		strcpy(s->object, "libruby");
		strcpy(s->symbol, "libruby:vfork-caller");
		s->by_start = true;
		s->start = starts[i];
		s->end = starts[i] + 1;
		__atomic_store_n(&nsites, nsites + 1, __ATOMIC_RELEASE);
	}
}

/* Sites of objects loaded since the last call; once per fork, before
 * shim_sites_any and shim_sites_walk. */
void shim_sites_refresh(void)
{
	unsigned long long adds = 0;
	dl_iterate_phdr(count_adds, &adds);
	if (adds == __atomic_load_n(&seen_adds, __ATOMIC_ACQUIRE))
		return;
	/* trylock: a fork from a signal handler that interrupted a refresh
	 * in this thread must not wait for itself; it uses the sites as
	 * they are (the interrupted refresh finishes the job) */
	if (pthread_mutex_trylock(&lock) != 0)
		return;
	for (int i = 0; i < nsites; i++)
		if (!sites[i].start && !sites[i].by_start)
			resolve(&sites[i]);
	add_ruby_sites();
	__atomic_store_n(&seen_adds, adds, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
}

struct walk_state {
	struct shim_walk *w;
	int depth;
	const struct site *matched; /* a site matched at the previous frame */
};

/* libgcc hands each callback the IP of frame N with the CFA of frame
 * N-1 (its callee), i.e. the bottom of frame N; the top of a matched
 * site's frame is therefore the CFA given with the frame after it. */
static _Unwind_Reason_Code frame(struct _Unwind_Context *ctx, void *arg)
{
	struct walk_state *st = arg;
	uintptr_t ip = get_ip(ctx), cfa = get_cfa(ctx);
	uintptr_t fn = get_region_start ? get_region_start(ctx) : 0;
	if (st->matched && !st->w->site_cfa) {
		st->w->site_cfa = cfa;
		st->w->site = st->matched->symbol;
		st->w->fail_fork = st->matched->fail_fork;
	}
	if (!ip)
		return _URC_END_OF_STACK;
	st->w->last_cfa = cfa;
	int n = __atomic_load_n(&nsites, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++) {
		const struct site *s = &sites[i];
		if (s->by_start ? fn == s->start : ip - 1 >= s->start && ip - 1 < s->end) {
			if (s->deny) {
				st->w->denied = true;
				return _URC_END_OF_STACK;
			}
			if (!st->matched)
				st->matched = s;
		}
	}
	return ++st->depth >= MAX_DEPTH ? _URC_END_OF_STACK : _URC_NO_REASON;
}

/* Is any site (not a deny site) loaded in this process? Without one,
 * fork=sites has nothing to find and need not walk: the walk's own
 * writes (libgcc's stack and caches) each cost a fault right after a
 * fork, which a process that forks in a loop pays every time. */
bool shim_sites_any(void)
{
	int n = __atomic_load_n(&nsites, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (!sites[i].deny && sites[i].start)
			return true;
	return false;
}

int shim_sites_walk(struct shim_walk *w)
{
	memset(w, 0, sizeof *w);
	if (!__atomic_load_n(&backtrace_fn, __ATOMIC_ACQUIRE))
		pthread_once(&unwinder_once, load_unwinder); /* deferred at init */
	if (!backtrace_fn)
		return -1;
	struct walk_state st = { w, 0, NULL };
	backtrace_fn(frame, &st);
	w->frames = st.depth;
	/* a site matched but its frame's top unknown: do not guess */
	return w->last_cfa && !(st.matched && !w->site_cfa) ? 0 : -1;
}
