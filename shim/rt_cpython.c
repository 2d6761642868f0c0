/* CPython: a deny object, never a site here.
 *
 * _posixsubprocess forks (instead of using vfork) only when the child
 * must run Python code (preexec_fn) or an option rules vfork out. The
 * module has no dynamic symbol for its fork, so the whole object that
 * defines PyInit__posixsubprocess (the interpreter binary, or the
 * module's .so) is a deny range: a fork with a frame of it below any
 * site stays real, even with VFORKSHIM_FORK=all. */
#include "shim.h"
#include "lockfree.h"

static const struct shim_site_def sites[] = {
	{ "PyInit__posixsubprocess", 0, SITE_DENY },
	{ NULL, 0, 0 },
};

SHIM_RUNTIME(rt_cpython) = { .name = "cpython", .sites = sites };
