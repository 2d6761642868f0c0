/* libuv (Node.js, and any program that embeds it): uv_spawn.
 *
 * Read: libuv 1.44.2 (Debian 12's libuv1) and 1.46.0 (built into Node
 * 20.20); docs/sites.md has the child's writes. uv_spawn calls fork()
 * itself in both (its static helpers are inlined); depth 2 leaves room
 * for a build that keeps one of them out of line.
 *
 * The child assigns `environ = options->env` before execvp whenever the
 * caller passes an environment, which Node always does. Every thread
 * of the parent reads environ (getenv, and libc's own readers: tzset,
 * the resolver), and a write to it cannot be hidden from them: the site
 * is declined while the process has other threads, which a Node
 * process always has (V8's platform workers). A program that embeds
 * libuv and spawns before it starts a thread is rerouted. */
#include "shim.h"
#include "lockfree.h"

static const struct shim_site_def sites[] = {
	{ "uv_spawn", 2, SITE_WRITES_ENVIRON },
	{ NULL, 0, 0 },
};

SHIM_RUNTIME(rt_libuv) = { .name = "libuv", .sites = sites };
