/* libuv (Node.js, uvloop, any program that embeds it): uv_spawn.
 *
 * Read: libuv 1.40 (Debian 11), 1.44 (Debian 12), 1.46 (built into
 * Node 20.20), 1.50 (Debian 13), 1.51 and 1.53 (sid); docs/sites.md has
 * the child's writes. Debian's nodejs links the shared libuv.so.1, so
 * uv_spawn may be Node's own symbol or libuv's. uv_spawn calls fork()
 * itself in every build read (its static helpers inlined); depth 2
 * leaves room for a build that keeps one of them out of line.
 *
 * The child assigns `environ = options->env` before execvp whenever the
 * caller passes an environment, which Node always does (its
 * normalizeSpawnArguments builds one). Every thread of the parent reads
 * environ (getenv, and libc's own readers: tzset, the resolver), and a
 * write to it cannot be hidden from them: the site is declined while
 * the process has other threads, which a Node process always has (V8's
 * platform workers). A program that embeds libuv and spawns before it
 * starts a thread is rerouted. From 1.53 libuv spawns through
 * posix_spawn and forks only as a fallback (uid/gid options), whose
 * child is 1.44's. */
#include "shim.h"
#include "lockfree.h"

static const struct shim_site_def sites[] = {
	/* libuv.so's own fork handler resets its thread pool's once-state
	 * in the child: needless in one that execs. Elsewhere (libuv
	 * linked into another object) that object's handlers are unknown */
	{ "uv_spawn", 2, SITE_WRITES_ENVIRON | SITE_ATFORK_READ, "libuv.so.*" },
	{ NULL, 0, 0, NULL },
};

static const unsigned read_versions[] = { 140, 144, 146, 150, 151, 153, 0 };

/* uv_version(): (major << 16) | (minor << 8) | patch, a function that
 * returns a constant, in the object that holds uv_spawn */
static unsigned version(const struct shim_object *o)
{
	unsigned (*uv_version)(void) = (unsigned (*)(void))shim_object_callable(o, "uv_version");
	if (!uv_version)
		return 0;
	unsigned v = uv_version();
	return (v >> 16) * 100 + ((v >> 8) & 0xff);
}

SHIM_RUNTIME(rt_libuv) = { .name = "libuv", .sites = sites, .version = version, .read = read_versions };
