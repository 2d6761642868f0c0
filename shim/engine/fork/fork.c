/* fork(): rerouted through the clone stub when the policy says the
 * child will exec, else the real fork.
 *
 * The checks, all required, each failed one counted: enabled; a stub
 * for this architecture; not inside a rerouted child (then: real fork);
 * no shadow stack; the kernel has not refused CLONE_VM before; RSS at
 * least VFORKSHIM_MIN_RSS; the site table describes the loaded set
 * (sites.c); the walk settles on a site, or finds nothing under
 * fork=all (walk.c: no deny object, no signal frame first); the stack
 * could be walked to the top of the region to save; and, with every
 * signal blocked: if the site's child may assign environ, no other
 * thread; with other threads, no setenv running (env.c).
 *
 * Rule for everything fork() does before the clone and everything the
 * child does: no lock of libc's or the loader's, no allocation. Every
 * real symbol is resolved at start-up (attach.c), the sites come from
 * the objects' own symbol tables (elf.c, sites.c), the unwinder is our
 * own copy (walk.c). tests/rules.sh holds the build to it.
 *
 * After a rerouted child has exec'd or exited, the parent puts back
 * what the child could have changed in the memory they shared: the
 * stack from the stub up to the top of the site's frame (the stub does
 * that with registers only), errno, environ if the child assigned it
 * (nothing else could have: see env.c), its signal mask, and the
 * dumpable flag of the shared mm (the kernel clears it when the child
 * changes credentials). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "fork.h"
#include "lockfree.h"

extern char **environ;

static pid_t real_fork(enum shim_reason why)
{
	shim_count_fallback(why, true);
	if (cfg.log >= LOG_DEBUG) /* not a getpid per fork otherwise */
		shim_log(LOG_DEBUG, "fork: a real fork in %d (fallback_%s)", (int)getpid(), shim_reason_name[why]);
	/* The child's counts start at its first (log.c). */
	return real.fork();
}

#ifndef SHIM_NO_STUB
static int refused; /* the kernel said no to CLONE_VM once: stop asking */

static unsigned long long rss_bytes(void)
{
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	char buf[128];
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return ~0ULL; /* unknown: do not hold the fork back */
	buf[n] = '\0';
	/* the second number: resident pages (by hand: glibc 2.38 made
	 * strtoull a C23 alias, one more name for tests/rules.sh) */
	char *p = strchr(buf, ' ');
	if (!p)
		return ~0ULL;
	unsigned long long pages = 0;
	for (p++; *p >= '0' && *p <= '9'; p++)
		pages = pages * 10 + (unsigned)(*p - '0');
	return pages * (unsigned long long)sysconf(_SC_PAGESIZE);
}

/* With every signal blocked: may this child run now? R_COUNT if so
 * (*window: a setenv window was opened and must be closed). */
static enum shim_reason threads_allow(const struct shim_walk *w, bool *threaded, bool *window)
{
	*window = false;
	*threaded = shim_threads() != 1; /* 0, unknown, counts as threaded */
	if (!*threaded)
		return R_COUNT;
	if (w->decline_threaded)
		return w->verdict == WALK_SITE && (w->site.flags & SITE_UNDECODED) ? R_UNDECODED : R_THREADS;
	if (!shim_env_window_open())
		return R_BUSY;
	*window = true;
	return R_COUNT;
}

/* noinline: its frame must lie below `top`, inside the saved region. */
static __attribute__((noinline)) pid_t rerouted(const struct shim_walk *w)
{
	uintptr_t top = w->verdict == WALK_SITE ? w->site_top : w->last_cfa;
	const char *at = w->verdict == WALK_SITE ? w->site.label : "(all)";
	int saved_errno = errno;
	uintptr_t lo = (uintptr_t)__builtin_frame_address(0);
	if (top <= lo) /* an unwinder that lied: no region to save */
		return real_fork(R_UNWIND);
	size_t cap = top - lo + 8192; /* the stub's frame lies below ours */
	size_t shadow = shim_asan_shadow_size(lo, top); /* 0 without ASan */
	size_t extra = 0;
#ifdef SHIM_RESUME_REGS
	size_t resume_at = (cap + shadow + 15) & ~(size_t)15; /* ASan's shadow has any length */
	bool swap = w->verdict == WALK_SITE && (w->site.flags & SITE_SWAP_ENV);
	extra = swap ? resume_at - (cap + shadow) + sizeof(struct shim_resume) + SHIM_SWAP_MAX : 0;
#endif
	void *save = mmap(NULL, cap + shadow + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (save == MAP_FAILED) {
		shim_log(LOG_DEBUG, "fork: no room for a %lu-byte stack snapshot (top %p, frame %p)",
			 (unsigned long)(cap + shadow), (void *)top, (void *)lo);
		errno = saved_errno;
		return real_fork(R_RESOURCE);
	}

	sigset_t old;
	shim_block_all(&old);
	bool threaded, window;
	enum shim_reason why = threads_allow(w, &threaded, &window);
	if (why != R_COUNT) {
		shim_set_mask(&old);
		munmap(save, cap + shadow + extra);
		errno = saved_errno;
		return real_fork(why);
	}
	if (cfg.log >= LOG_DEBUG)
		shim_log(LOG_DEBUG, "fork: rerouted in %d at %s, saving %lu bytes of stack", (int)getpid(), at,
			 (unsigned long)(top - lo));
	char **saved_environ = environ;
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	shim_guard = (struct shim_guard){ .active = 1, .want_mask = old, .gen = shim_proc_gen,
					  .fail_fork = w->verdict == WALK_SITE && (w->site.flags & SITE_FAIL_FORK) };
#ifdef SHIM_RESUME_REGS
	/* SITE_SWAP_ENV: the copy of the struct and where the child resumes,
	 * in memory the child does not overwrite, unmapped once it is gone;
	 * the exec takes the env the child no longer stores */
	struct shim_resume *resume = NULL;
	if (swap) {
		resume = (struct shim_resume *)((char *)save + resume_at);
		unsigned char *copy = (unsigned char *)(resume + 1);
		memcpy(copy, w->swap, sizeof w->swap);
		*resume = w->resume;
		resume->reg[w->swap_reg_index] = (uintptr_t)copy;
		shim_guard.environ_as = w->swap_env;
	}
#endif

	shim_asan_save(lo, top, (char *)save + cap);
	long r = shim_vfork_clone(save, (const void *)top, cap);
	if (r == 0) { /* the child: every signal blocked, the guard on */
#ifdef SHIM_RESUME_REGS
		if (resume) { /* straight into the site's frame, its register on the copy */
			shim_asan_unpoison((void *)lo, resume->sp - lo);
			shim_resume(resume);
		}
#endif
		return 0;
	}

	/* The parent, the child gone: put back what it may have changed. */
	shim_asan_restore(lo, top, (char *)save + cap);
	int creds_changed = shim_guard.creds_changed;
	struct shim_popen_entry *child_streams = shim_guard.popen_chain;
	shim_guard_parent_cleanup();
	/* Only a child that may assign environ gets it put back: with a
	 * known site that never does, a change here is another thread's
	 * (Perl up to 5.36 writes environ without setenv), not to undo. */
	if (w->may_assign_environ && environ != saved_environ) { /* the child's: see env.c */
		environ = saved_environ;
		shim_sites_learn_environ(w, threaded);
	}
	if (window)
		shim_env_window_close();
	if (creds_changed && dumpable >= 0)
		prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
	munmap(save, cap + shadow + extra);
	shim_set_mask(&old);
	if (child_streams) /* after the child: the parent's own context */
		shim_guard_drop_streams(child_streams);

	if (r > 0) {
		STAT_INC(fork_rerouted);
		shim_decide(at, SHIM_REROUTED, 0);
		errno = saved_errno;
		return (pid_t)r;
	}
	errno = saved_errno;
	if (r == -EINVAL || r == -ENOSYS || r == -EPERM) {
		if (!__atomic_exchange_n(&refused, 1, __ATOMIC_RELAXED))
			shim_log(LOG_INFO, "the kernel refused a CLONE_VM clone (errno %ld); fork() stays real from now on", -r);
		return real_fork(R_REFUSED);
	}
	if (r == -ENOBUFS)
		return real_fork(R_RESOURCE);
	/* EAGAIN (RLIMIT_NPROC), ENOMEM: what fork would say */
	STAT_INC(fork_real);
	shim_decide(at, SHIM_FAILED, (int)-r);
	errno = (int)-r;
	return -1;
}
#endif

/* Not split or cloned by the compiler (GCC's partial inlining makes a
 * fork.part.0 whose frame would not start at fork): the walk counts
 * frames from the one whose function starts at shim_fork_entry. */
#if defined(__has_attribute)
#if __has_attribute(noclone)
__attribute__((noclone))
#endif
#endif
__attribute__((noinline)) pid_t engine_fork(void)
{
	if (!cfg.enabled)
		return real.fork();
	shim_proc_check();
	if (SHIM_IN_CHILD) {
		shim_count_fallback(R_NESTED, true);
		pid_t pid = real.fork();
		if (pid == 0)
			shim_guard_nested_child();
		return pid;
	}
	SHIM_AUDIT_NOTE("fork");
	if (cfg.audit_dir) { /* the walk here: it counts from this frame */
		struct shim_walk w;
		enum shim_reason why = shim_sites_match(&w);
		if (why == R_COUNT && w.decline_threaded && shim_threads() != 1)
			why = w.verdict == WALK_SITE && (w.site.flags & SITE_UNDECODED) ? R_UNDECODED : R_THREADS;
		return shim_audit_fork(w.verdict == WALK_SITE ? w.site.label : w.refused, why,
				       (uintptr_t)__builtin_return_address(0));
	}
	if (cfg.fork == FORK_OFF)
		return real_fork(R_POLICY);
#ifdef SHIM_NO_STUB
	return real_fork(R_ARCH);
#else
	if (shim_shstk_active())
		return real_fork(R_SHSTK);
	if (__atomic_load_n(&refused, __ATOMIC_RELAXED))
		return real_fork(R_REFUSED);
	if (cfg.min_rss && rss_bytes() < cfg.min_rss)
		return real_fork(R_RSS);
	struct shim_walk w;
	enum shim_reason why = shim_sites_match(&w);
	if (why != R_COUNT)
		return real_fork(why);
	return rerouted(&w);
#endif
}

/* The walk counts frames from this function's (walk.c). */
extern __typeof__(engine_fork) shim_fork_entry __attribute__((alias("engine_fork"), visibility("hidden"), nothrow));
