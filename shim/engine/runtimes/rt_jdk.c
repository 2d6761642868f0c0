/* OpenJDK, launchMechanism=FORK: Java_java_lang_ProcessImpl_forkAndExec
 * (libjava.so, loaded RTLD_LOCAL: the table reads every object's own
 * symbols, so that is no obstacle).
 *
 * Read: OpenJDK 17.0.15 (Debian 12); docs/sites.md has the child's
 * writes. forkAndExec calls fork() itself (startChild and forkChild
 * inlined); depth 3 leaves room for builds that keep them.
 *
 * childProcess is written for shared memory (the JDK runs it under
 * vfork in VFORK mode) except in one place: in FORK mode, with an
 * explicit environment, JDK_execvpe assigns `environ = envp` before
 * execvp ("unshared address space; we can mutate environ"). Whether the
 * caller passed one is not visible from fork(), and a JVM always has
 * other threads: the site is declined there (fallback_threads). */
#include "runtimes.h"
#include "lockfree.h"

static const struct shim_site_def sites[] = {
	{ "Java_java_lang_ProcessImpl_forkAndExec", 3, SITE_WRITES_ENVIRON, NULL },
	{ NULL, 0, 0, NULL },
};

/* the symbols every object with a site of ours defines (sites above, and
 * the ones find() looks for first) */
SHIM_MARKERS("Java_java_lang_ProcessImpl_forkAndExec");

SHIM_RUNTIME(rt_jdk) = { .markers = markers, .name = "jdk", .sites = sites };
