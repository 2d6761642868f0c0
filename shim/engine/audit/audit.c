/* VFORKSHIM_AUDIT=DIR: a mode that reroutes nothing and records, for
 * `vforkshim audit`, every call chain that reaches fork, system, popen
 * or posix_spawn: how often, how long the parent spent inside the call
 * (for fork, the copy of the page tables), what the shim would do there
 * (a site, and whether it would be declined), and for a fork what each
 * child did: whether it exec'd, and the first call the library saw it
 * make. At exit each process writes DIR/audit.<pid>; the command reads
 * them all.
 *
 * The children's observations come back through memory shared on
 * purpose: an anonymous MAP_SHARED ring of slots made before the first
 * fork; a child writes only its own slot, with atomics, never into its
 * own copy of the parent's heap. Everything here at fork time is lock-
 * free (a trylock on the table: a fork that finds it busy, another
 * thread's or a signal handler's, is counted as dropped); the report at
 * exit uses stdio and dladdr, as any exit handler may. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "../code/unwind.h"

#define CHAINS 128
#define FRAMES 8
#define SLOTS 4096
#define FIRSTS 4 /* the first calls kept per chain */

#define slot shim_audit_slot

struct chain {
	int kind; /* enum shim_audit_kind */
	int nframes;
	uintptr_t pc[FRAMES];
	unsigned long count;
	unsigned long long ns;
	int verdict;           /* enum shim_reason; R_COUNT: a site takes it */
	const char *site;      /* the site's label, when one matched */
	unsigned long slots_from, slots_to; /* the ring's range it used */
};

static struct {
	pid_t owner;
	int n;
	unsigned long dropped;
	struct chain c[CHAINS];
} table;
static int busy;
static struct slot *ring; /* shared with the children */
static unsigned long next_slot;
static unsigned long long started_ns;

/* In a copy (proc.c): `busy` held by a thread that is not there; the
 * slot an audited child reports into is its own, not its copy's. The
 * table is claimed anew by pid (claim below). Stores only. */
void shim_audit_forget(void)
{
	busy = 0;
	shim_audit_child = NULL;
}
SHIM_ON_COPY(shim_audit_forget);


static const char *const kind_name[] = { "fork", "system", "popen", "posix_spawn" };

static unsigned long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

void shim_audit_start(void)
{
	started_ns = now_ns();
}

/* The table is this process's: a child of a real fork starts its own
 * (its copy holds the parent's counts). */
static void claim(void)
{
	pid_t me = getpid();
	if (table.owner == me)
		return;
	memset(&table, 0, sizeof table);
	table.owner = me;
	ring = NULL;
	next_slot = 0;
	started_ns = now_ns();
}

/* A chain is a call's place and what the shim would do there (the same
 * place may be rerouted once and declined the next time). */
static int find_chain(int kind, const uintptr_t *pc, int n, int verdict)
{
	for (int i = 0; i < table.n; i++)
		if (table.c[i].kind == kind && table.c[i].nframes == n && table.c[i].verdict == verdict &&
		    !memcmp(table.c[i].pc, pc, (size_t)n * sizeof *pc))
			return i;
	if (table.n == CHAINS)
		return -1;
	struct chain *c = &table.c[table.n];
	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->nframes = n;
	memcpy(c->pc, pc, (size_t)n * sizeof *pc);
	c->verdict = verdict;
	return table.n++;
}

/* The chain of return addresses from `ret` on, the library's own frames
 * skipped; the caller's address alone where the unwinder must not ask
 * the loader (a copy that inherited its lock held, fork/loader.c). */
struct trace {
	uintptr_t ret, *pcs;
	int max, n;
};

static _Unwind_Reason_Code trace_frame(struct _Unwind_Context *ctx, void *arg)
{
	struct trace *t = arg;
	int signal_frame = 0;
	uintptr_t ip = FRAME_IP(ctx, &signal_frame);
	if (!ip)
		return _URC_END_OF_STACK;
	if (!t->n && ip != t->ret)
		return _URC_NO_REASON; /* the library's own frames */
	t->pcs[t->n++] = ip;
	return t->n == t->max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

static int backtrace_from(uintptr_t ret, uintptr_t *pcs, int max)
{
	struct trace t = { ret, pcs, max, 0 };
	if (!shim_loader_stuck)
		_Unwind_Backtrace(trace_frame, &t);
	if (!t.n && max > 0) /* not found: the caller's address alone */
		pcs[t.n++] = ret;
	return t.n;
}

/* fork() in audit mode: the real fork, its chain, what the shim would
 * have done (`why`, R_COUNT: rerouted at `site`), and a slot for the
 * child's report. */
pid_t shim_audit_fork(const char *site, enum shim_reason why, uintptr_t ret)
{
	uintptr_t pc[FRAMES];
	int n = backtrace_from(ret, pc, FRAMES);
	struct slot *s = NULL;
	int ci = -1;
	if (!__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE)) {
		claim();
		if (!ring) {
			void *m = mmap(NULL, SLOTS * sizeof *ring, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			ring = m == MAP_FAILED ? NULL : m;
		}
		ci = find_chain(SHIM_AUDIT_FORK, pc, n, (int)why);
		if (ci >= 0)
			table.c[ci].site = site;
		if (ci >= 0 && ring && next_slot < SLOTS) {
			s = &ring[next_slot];
			*s = (struct slot){ ci, NULL, 0, 0 };
			if (!table.c[ci].count)
				table.c[ci].slots_from = next_slot;
			next_slot++;
		}
		if (ci < 0)
			table.dropped++;
		__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
	} else {
		table.dropped++; /* racy, and only a hint */
	}
	unsigned long long t0 = now_ns();
	pid_t pid = real.fork();
	if (pid == 0) {
		shim_proc_child(); /* before the slot: a renewal would clear it */
		shim_audit_child = s;
		return 0;
	}
	unsigned long long t = now_ns() - t0;
	if (ci >= 0 && !__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE)) {
		struct chain *c = &table.c[ci];
		c->count++;
		c->ns += t;
		if (s)
			c->slots_to = (unsigned long)(s - ring) + 1;
		if (pid < 0 && s)
			s->chain = -1;
		__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
	}
	return pid;
}

/* system, popen, posix_spawn in audit mode: the chain and the time spent
 * in the call (libc's, which the caller then makes). */
void shim_audit_spawn(int kind, uintptr_t ret, unsigned long long ns)
{
	uintptr_t pc[FRAMES];
	int n = backtrace_from(ret, pc, FRAMES);
	if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		return;
	claim();
	/* what the shim does with it by default: R_POLICY when libc already
	 * spawns without copying, R_COUNT when the engine would run it */
	bool engine = cfg.spawn == SPAWN_ALWAYS ||
		      (cfg.spawn == SPAWN_AUTO && (kind == SHIM_AUDIT_POSIX_SPAWN ? cfg.engine_for_posix_spawn
									  : cfg.engine_for_system_popen));
	int ci = find_chain(kind, pc, n, engine ? R_COUNT : R_POLICY);
	if (ci >= 0) {
		table.c[ci].count++;
		table.c[ci].ns += ns;
	} else {
		table.dropped++;
	}
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

unsigned long long shim_audit_now(void)
{
	return now_ns();
}

/* One frame as `object function+0xoff`, or `object +0xoff` where the
 * object exports no symbol around it. */
static void frame(FILE *f, uintptr_t pc)
{
	Dl_info di;
	if (!dladdr((void *)pc, &di) || !di.dli_fname) {
		fprintf(f, "? %#lx", (unsigned long)pc);
		return;
	}
	const char *obj = strrchr(di.dli_fname, '/') ? strrchr(di.dli_fname, '/') + 1 : di.dli_fname;
	if (!*obj)
		obj = "(main program)";
	if (di.dli_sname)
		fprintf(f, "%s %s+%#lx", obj, di.dli_sname, (unsigned long)(pc - (uintptr_t)di.dli_saddr));
	else
		fprintf(f, "%s +%#lx", obj, (unsigned long)(pc - (uintptr_t)di.dli_fbase));
}

/* At exit: DIR/audit.PID, one line per chain, tab separated:
 *   chain KIND COUNT NS VERDICT SITE EXECD NOEXEC FIRSTS FRAME...
 * after a line `process PID RUN_NS DROPPED EXE`. */
void shim_audit_report(void)
{
	if (!cfg.audit_dir || table.owner != getpid() || !table.n)
		return;
	char path[4200], exe[4096];
	snprintf(path, sizeof path, "%s/audit.%d", cfg.audit_dir, (int)getpid());
	ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[k > 0 ? k : 0] = '\0';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		shim_log(LOG_WARN, "audit: cannot write %s (%s)", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	fprintf(f, "process\t%d\t%llu\t%lu\t%s\n", (int)getpid(), now_ns() - started_ns, table.dropped, exe);
	for (int i = 0; i < table.n; i++) {
		struct chain *c = &table.c[i];
		if (!c->count)
			continue;
		unsigned long execd = 0, noexec = 0;
		const char *firsts[FIRSTS] = { 0 };
		unsigned long firstn[FIRSTS] = { 0 }, nothing = 0;
		for (unsigned long j = c->slots_from; ring && j < c->slots_to && j < SLOTS; j++) {
			struct slot *s = &ring[j];
			if (s->chain != i)
				continue;
			int e = __atomic_load_n(&s->execs, __ATOMIC_RELAXED);
			int failed = __atomic_load_n(&s->failed, __ATOMIC_RELAXED);
			if (e > failed)
				execd++;
			else
				noexec++;
			const char *first = __atomic_load_n(&s->first, __ATOMIC_RELAXED);
			if (!first) {
				nothing++;
				continue;
			}
			for (int q = 0; q < FIRSTS; q++)
				if (!firsts[q] || firsts[q] == first) {
					firsts[q] = first;
					firstn[q]++;
					break;
				}
		}
		fprintf(f, "chain\t%s\t%lu\t%llu\t%s\t%s\t%lu\t%lu\t", kind_name[c->kind], c->count, c->ns,
			c->verdict == R_COUNT ? "site" : c->verdict >= 0 ? shim_reason_name[c->verdict] : "?",
			c->site ? c->site : "-", execd, noexec);
		/* a refused place: VERDICT policy, SITE its label */
		for (int q = 0; q < FIRSTS && firsts[q]; q++)
			fprintf(f, "%s%s=%lu", q ? "," : "", firsts[q], firstn[q]);
		if (nothing)
			fprintf(f, "%s(none seen)=%lu", firsts[0] ? "," : "", nothing);
		for (int q = 0; q < c->nframes; q++) {
			fputc('\t', f);
			frame(f, c->pc[q]);
		}
		fputc('\n', f);
	}
	fclose(f);
}
