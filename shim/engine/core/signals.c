/* Signal masks and dispositions through raw syscalls.
 *
 * glibc's sigprocmask quietly leaves its internal signals (SIGCANCEL,
 * SIGSETXID: 32 and 33) unblocked, and its sigaction refuses them; a
 * child that shares our memory must not run any handler, theirs
 * included, so we talk to the kernel directly, as glibc's own spawni.c
 * does with its internal helpers. Calling the kernel also keeps an
 * interposed sigaction (libjsig, say) out of the child. */
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"
#include "lockfree.h"

/* The kernel's sigset is _NSIG bits; glibc's sigset_t is larger and
 * starts with it. */
#define KSIGSET_SIZE (_NSIG / 8)

void shim_block_all(sigset_t *old)
{
	sigset_t all;
	memset(&all, 0xff, sizeof all);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, old, KSIGSET_SIZE);
}

void shim_set_mask(const sigset_t *mask)
{
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, mask, NULL, KSIGSET_SIZE);
}

/* struct k_sigaction starts with the handler on every architecture we
 * build for (x86_64, i386, arm, aarch64, riscv64, ppc64, s390x); the
 * rest is flags, an optional restorer and the mask, all left zero when
 * we install SIG_DFL or SIG_IGN. The buffer is larger than any of
 * them. */
struct ksigaction {
	void (*handler)(int);
	unsigned long rest[7];
};

static bool is_internal(int sig)
{
	/* glibc's SIGCANCEL and SIGSETXID: __SIGRTMIN and __SIGRTMIN + 1. */
	return sig == 32 || sig == 33;
}

void shim_child_reset_handlers(const sigset_t *to_default, bool internal_ignored)
{
	for (int sig = 1; sig < _NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		struct ksigaction ka;
		memset(&ka, 0, sizeof ka);
		if (to_default && sigismember(to_default, sig) == 1) {
			ka.handler = SIG_DFL;
		} else if (internal_ignored && is_internal(sig)) {
			ka.handler = SIG_IGN;
		} else {
			if (syscall(SYS_rt_sigaction, sig, NULL, &ka, KSIGSET_SIZE) != 0)
				continue;
			if (ka.handler == SIG_IGN || ka.handler == SIG_DFL)
				continue;
			memset(&ka, 0, sizeof ka);
			ka.handler = SIG_DFL;
		}
		syscall(SYS_rt_sigaction, sig, &ka, NULL, KSIGSET_SIZE);
	}
}
