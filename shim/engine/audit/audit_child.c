/* The child of a fork in audit mode (audit.c) reports the first call
 * the library sees it make, and its execs, into its slot: memory shared
 * with the parent on purpose, atomics only. Called from the guarded
 * functions (guard*.c, fork.c), in any child: lock-free like them. */
#include <string.h>

#include "audit.h"
#include "lockfree.h"

struct shim_audit_slot *shim_audit_child;

void shim_audit_note(const char *call)
{
	struct shim_audit_slot *s = shim_audit_child;
	const char *none = NULL;
	__atomic_compare_exchange_n(&s->first, &none, call, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	if (!strncmp(call, "exec", 4))
		__atomic_add_fetch(&s->execs, 1, __ATOMIC_RELAXED);
}

int shim_audit_exec_returned(int r)
{
	if (shim_audit_child)
		__atomic_add_fetch(&shim_audit_child->failed, 1, __ATOMIC_RELAXED);
	return r;
}
