/* fork(): rerouted through the clone stub when the policy says the
 * child will exec, else the real fork.
 *
 * The checks, all required, each failed one counted: enabled; a stub
 * for this architecture; not inside a rerouted child (then: real fork);
 * no shadow stack; the kernel has not refused CLONE_VM before; RSS at
 * least VFORKSHIM_MIN_RSS; the stack could be walked; no deny site on
 * it; and under `sites`, a site on it.
 *
 * After a rerouted child has exec'd or exited, the parent puts back
 * what the child could have changed in the memory they shared: the
 * stack from the stub up to the top of the site's frame (the stub does
 * that with registers only), errno, environ, its signal mask, and the
 * dumpable flag of the shared mm (the kernel clears it when the child
 * changes credentials). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "shim.h"

extern char **environ;

static pid_t real_fork(enum shim_reason why)
{
	shim_count_fallback(why, true);
	/* The child's counts start at its first (log.c). Its environment
	 * is left alone, fork=all included: unsetenv after a fork of a
	 * threaded process could wait for a lock another thread held. */
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
	char *p = strchr(buf, ' ');
	return p ? strtoull(p + 1, NULL, 10) * (unsigned long long)sysconf(_SC_PAGESIZE) : ~0ULL;
}

/* noinline: its frame must lie below `top`, inside the saved region. */
static __attribute__((noinline)) pid_t rerouted(uintptr_t top, const char *site, bool fail_fork)
{
	const char *at = site ? site : "(all)";
	int saved_errno = errno;
	char **saved_environ = environ;
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	uintptr_t lo = (uintptr_t)__builtin_frame_address(0);
	if (top <= lo) /* an unwinder that lied: no region to save */
		return real_fork(R_UNWIND);
	size_t cap = top - lo + 8192; /* the stub's frame lies below ours */
	size_t shadow = shim_asan_shadow_size(lo, top); /* 0 without ASan */
	void *save = mmap(NULL, cap + shadow, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (save == MAP_FAILED) {
		shim_log(LOG_DEBUG, "fork: no room for a %lu-byte stack snapshot (top %p, frame %p)",
			 (unsigned long)(cap + shadow), (void *)top, (void *)lo);
		errno = saved_errno;
		return real_fork(R_RESOURCE);
	}
	shim_log(LOG_DEBUG, "fork: rerouted at %s, saving %lu bytes of stack",
		 at, (unsigned long)(top - lo));

	sigset_t old;
	shim_block_all(&old);
	shim_guard = (struct shim_guard){ .active = 1, .want_mask = old, .fail_fork = fail_fork };

	shim_asan_save(lo, top, (char *)save + cap);
	long r = shim_vfork_clone(save, (const void *)top, cap);
	if (r == 0)
		return 0; /* the child: every signal blocked, the guard on */

	/* The parent, the child gone: put back what it may have changed. */
	shim_asan_restore(lo, top, (char *)save + cap);
	int creds_changed = shim_guard.creds_changed;
	shim_guard_parent_cleanup();
	environ = saved_environ;
	if (creds_changed && dumpable >= 0)
		prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
	munmap(save, cap + shadow);
	shim_set_mask(&old);

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

SHIM_EXPORT pid_t fork(void)
{
	shim_init();
	if (!cfg.enabled)
		return real.fork();
	if (shim_guard.active) {
		shim_count_fallback(R_NESTED, true);
		pid_t pid = real.fork();
		if (pid == 0)
			shim_guard_nested_child();
		return pid;
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
	shim_sites_refresh();
	if (cfg.fork == FORK_SITES && !shim_sites_any())
		return real_fork(R_POLICY); /* no site loaded: nothing to find */
	struct shim_walk w;
	if (shim_sites_walk(&w) != 0)
		return real_fork(R_UNWIND);
	if (w.denied)
		return real_fork(R_DENIED);
	if (!w.site_cfa && cfg.fork == FORK_SITES)
		return real_fork(R_POLICY);
	/* fork=all saves up to the bottom of the last frame walked. The
	 * child returns through fork()'s caller, so that frame must lie
	 * below it: the walk must have reached the frame after it (frames
	 * 0 and 1 are shim_sites_walk and fork, 2 the caller, 3 its caller,
	 * whose bottom is the caller's top). A caller without unwind tables
	 * (-fno-asynchronous-unwind-tables, or Arm C code, which has none by
	 * default) ends the walk at itself: its top is unknown, decline. */
	if (!w.site_cfa && w.frames < 4)
		return real_fork(R_UNWIND);
	return rerouted(w.site_cfa ? w.site_cfa : w.last_cfa, w.site, w.fail_fork);
#endif
}
