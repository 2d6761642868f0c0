/* Audit mode (VFORKSHIM_AUDIT): what fork/ and spawn/ call to record a
 * call and its chain; it uses the core alone. */
#ifndef VFORKSHIM_AUDIT_H
#define VFORKSHIM_AUDIT_H

#include "../core/core.h"

/* ---- audit mode (audit.c): VFORKSHIM_AUDIT=DIR reroutes nothing and
 * records the call chains of fork, system, popen and posix_spawn ---- */
enum shim_audit_kind { SHIM_AUDIT_FORK, SHIM_AUDIT_SYSTEM, SHIM_AUDIT_POPEN, SHIM_AUDIT_POSIX_SPAWN };
/* One fork's child, as it reports itself: in memory shared on purpose
 * with the parent (audit.c makes it), written with atomics only. */
struct shim_audit_slot {
	int chain;            /* -1: free */
	const char *first;    /* the child's first call seen (a literal) */
	int execs, failed;    /* exec calls, and those that returned */
};
extern struct shim_audit_slot *shim_audit_child; /* set in an audited fork's child */
void shim_audit_start(void);
/* fork() in audit mode: `site` the site that matched (or the refused
 * function), `why` what the engine would have done (R_COUNT: reroute) */
pid_t shim_audit_fork(const char *site, enum shim_reason why, uintptr_t ret);
void shim_audit_spawn(int kind, uintptr_t ret, unsigned long long ns);
unsigned long long shim_audit_now(void);
void shim_audit_note(const char *call);
int shim_audit_exec_returned(int r);
void shim_audit_report(void);
/* the child's call noted; an exec that returns counted as failed */
#define SHIM_AUDIT_NOTE(name) \
	do { if (__builtin_expect(shim_audit_child != NULL, 0) && (shim_proc_check(), shim_audit_child)) \
		shim_audit_note(name); } while (0)
#define SHIM_AUDIT_EXEC(name, expr) \
	(__builtin_expect(shim_audit_child != NULL, 0) ? (shim_audit_note(name), shim_audit_exec_returned(expr)) : (expr))

#endif
