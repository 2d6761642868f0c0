/* What a runtime's file (rt_*.c) uses: the site table's interface
 * (fork/fork.h), the code readers (code/code.h), and the two macros that
 * make one file a runtime. Adding a runtime is adding a file. */
#ifndef VFORKSHIM_RUNTIMES_H
#define VFORKSHIM_RUNTIMES_H

#include "../fork/fork.h"
#include "../code/code.h"

/* One line of its own in each runtime's file: the Makefile gathers them
 * for the front (front/markers.inc) */
#define SHIM_MARKERS(...) static const char *const markers[] = { __VA_ARGS__, NULL }
#define SHIM_RUNTIME(var)                                                  \
	static const struct shim_runtime var;                              \
	__attribute__((used, section("shim_rt"))) static const struct shim_runtime *const var##_ptr = &var; \
	static const struct shim_runtime var

#endif
