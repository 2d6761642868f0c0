/* libuv (Node.js, uvloop, any program that embeds it): uv_spawn.
 *
 * Read: libuv 1.40 (Debian 11), 1.44 (Debian 12), 1.46 (built into
 * Node 20.20), 1.50 (Debian 13), 1.51 (built into Node 22.23) and 1.53
 * (sid); docs/sites.md has the child's writes. Debian's nodejs links the
 * shared libuv.so.1, so uv_spawn may be Node's own symbol or libuv's.
 * uv_spawn calls fork() itself in every build read (its static helpers
 * inlined).
 *
 * The child assigns `environ = options->env` before execvp whenever the
 * caller passes an environment, which Node always does, and every
 * thread of the parent reads environ. That write is kept from
 * happening: code_<arch>.c proves, from the machine code of each `call
 * fork` in uv_spawn, that the child reads options->env once, through a
 * callee-saved register that nothing on its path changes, and stores it
 * to environ. At the fork, the struct is copied (process_vm_readv: a
 * bad pointer is a real fork, not a fault) and checked here, and the
 * child resumes with that register pointing to the copy, whose env is
 * NULL: it skips the store, and its execvp, which the guard runs, takes
 * the env as its environment and searches its PATH, as execvp would
 * have after the store. The caller's struct is never written (it may be
 * read-only, or read by another thread spawning with it), and environ
 * is never written.
 *
 * A build whose code does not match keeps its site as before: the
 * child may write environ, so it is declined while the process has
 * other threads, with a reason of its own (fallback_undecoded). With
 * nine or more stdio entries libuv's child writes a heap array (its
 * pipes): declined (fallback_options).
 *
 * Fork handlers: libuv registers two (its thread pool's once-state, its
 * signal pipe), both for a child that goes on running libuv, needless
 * in one that execs. In libuv.so they are all the object's. In a
 * program that links libuv in (nodejs.org's node), every call that
 * registers a handler must lie within libuv's own code (between two of
 * its exported uv_ functions, with no other exported function between);
 * a registration from anywhere else (tests/embed/uv_atfork.c) leaves
 * the site declined (fallback_atfork). From 1.53 libuv spawns through
 * posix_spawn and forks only as a fallback (uid/gid options), whose
 * child is 1.44's. */
#include <stddef.h>
#include <string.h>

#include "runtimes.h"
#include "lockfree.h"

static const struct shim_runtime rt_libuv;

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

/* uv_process_options_t, libuv's public and stable struct (uv.h) */
struct options {
	void *exit_cb;
	const char *file;
	char **args;
	char **env;
	const char *cwd;
	unsigned int flags;
	int stdio_count;
	void *stdio;
	unsigned int uid, gid;
};
#define FLAGS_KNOWN 0xffu /* UV_PROCESS_SETUID ... WINDOWS_FILE_PATH_EXACT_NAME */
#define MAX_STDIO 8       /* pipes_storage[8][2]: more, and the child writes the heap */
#define MAX_ENV 65536     /* entries of args or env */

/* A NUL-terminated string within 64 KiB, read no further than a page
 * at a time (process_vm_readv does not split an element); `eq`: with a '='
 * after its first byte. */
static bool string_ok(const char *s, bool eq)
{
	char buf[256];
	size_t seen = 0;
	bool has_eq = false;
	while (seen < 65536) {
		uintptr_t a = (uintptr_t)s + seen;
		size_t n = 4096 - (a & 4095);
		n = n < sizeof buf ? n : sizeof buf;
		if (!shim_read_memory(buf, (const void *)a, n))
			return false;
		for (size_t i = 0; i < n; i++) {
			if (buf[i] == '\0')
				return !eq || has_eq;
			if (buf[i] == '=' && seen + i > 0)
				has_eq = true;
		}
		seen += n;
	}
	return false;
}

/* Up to 64 strings at once, their first bytes each (to the end of the
 * page at most, as process_vm_readv does not split an element): one
 * system call for most environments' strings; a string longer than
 * that, or one whose read failed, is read alone. */
#include <sys/uio.h>
#include <unistd.h>
#define HEAD 64
static bool batch_ok(char *const *v, size_t n, bool eq)
{
	char head[64][HEAD];
	struct iovec local[64], remote[64];
	for (size_t k = 0; k < n; k++) {
		uintptr_t a = (uintptr_t)v[k];
		size_t len = 4096 - (a & 4095);
		len = len < HEAD ? len : HEAD;
		local[k] = (struct iovec){ head[k], len };
		remote[k] = (struct iovec){ v[k], len };
	}
	ssize_t got = process_vm_readv(getpid(), local, n, remote, n, 0);
	size_t done = got > 0 ? (size_t)got : 0;
	for (size_t k = 0; k < n; k++) {
		size_t len = local[k].iov_len;
		const char *nul = len <= done ? memchr(head[k], '\0', len) : NULL;
		done = len <= done ? done - len : 0;
		if (!nul) {
			if (!string_ok(v[k], eq))
				return false;
		} else if (eq && (nul == head[k] || !memchr(head[k] + 1, '=', (size_t)(nul - head[k]) - 1))) {
			return false;
		}
	}
	return true;
}

/* A NULL-terminated array of strings, at most `max` of them, of which
 * the first `strings` are read (a string costs the kernel a page lookup:
 * 60,000 variables would cost 60 ms per spawn; the kernel's exec checks
 * the rest) */
static bool strings_ok(char *const *v, size_t max, size_t strings, bool eq, size_t *count)
{
	char *chunk[512];
	for (size_t i = 0; i < max;) {
		size_t n = 512;
		uintptr_t a = (uintptr_t)(v + i), page_end = (a | 4095) + 1;
		if ((page_end - a) / sizeof *chunk < n)
			n = (page_end - a) / sizeof *chunk;
		if (!n || !shim_read_memory(chunk, v + i, n * sizeof *chunk))
			return false;
		size_t m = 0;
		while (m < n && chunk[m])
			m++;
		for (size_t k = 0; k < m && i + k < strings; k += 64) {
			size_t b = m - k < 64 ? m - k : 64;
			if (i + k + b > strings)
				b = strings - (i + k);
			if (!batch_ok(chunk + k, b, eq))
				return false;
		}
		if (m < n) {
			*count = i + m;
			return true;
		}
		i += n;
	}
	return false;
}

/* The copy of the caller's options, before the child is given it */
static bool options_ok(const unsigned char *copy)
{
	struct options op;
	memcpy(&op, copy, sizeof op);
	size_t n;
	return op.file && string_ok(op.file, false) && op.args && strings_ok(op.args, MAX_ENV, 512, false, &n) && n > 0 &&
	       (!op.env || strings_ok(op.env, MAX_ENV, 512, true, &n)) && (!op.cwd || string_ok(op.cwd, false)) &&
	       !(op.flags & ~FLAGS_KNOWN) && op.stdio_count >= 0 && op.stdio_count <= MAX_STDIO;
}

/* Does every fork handler the object registers come from libuv's code? */
static bool handlers_libuv_only(const struct shim_object *o)
{
	if (shim_object_named(o, "libuv.so.*"))
		return true;
	const char *const registrars[] = { "__register_atfork", "pthread_atfork" }; /* no symbol of its own: gcc 10 folds one */
	for (size_t r = 0; r < sizeof registrars / sizeof *registrars; r++) {
		uintptr_t calls[8];
		int n = shim_import_callers(o, registrars[r], calls, 8);
		/* unknown, or named by the object and called from nowhere seen
		 * (through a pointer): not known to be libuv's */
		if (n < 0 || (n == 0 && shim_object_references(o, registrars[r])))
			return false;
		for (int i = 0; i < n; i++)
			if (!shim_object_among(o, "uv_", calls[i]))
				return false;
	}
	return true;
}

/* The fork-handler verdict per object: megabytes of code are scanned
 * once, not at every change of the loaded set. Known by the object's
 * build-id as well as its place: another object loaded where one was
 * unloaded, of the same size, is not the same code. An object without a
 * build-id is scanned at every rebuild. Written only while the table is
 * rebuilt. */
static struct {
	uintptr_t base, text_end;
	unsigned char id[32];
	size_t id_len;
	bool handlers_ours;
} seen[2];
static unsigned next_slot;

static void forget(void)
{
	memset(seen, 0, sizeof seen);
	next_slot = 0;
}

static void find(const struct shim_object *o)
{
	uintptr_t start, forks[16];
	size_t size;
	if (!shim_object_sym(o, "uv_spawn", &start, &size))
		return;
	const unsigned char *id = NULL;
	size_t id_len = 0;
	bool has_id = shim_object_build_id(o, &id, &id_len) && id_len <= sizeof seen[0].id;
	int k = 0;
	while (k < 2 && !(has_id && seen[k].base == o->info->dlpi_addr && seen[k].text_end == o->text_end &&
			  seen[k].id_len == id_len && !memcmp(seen[k].id, id, id_len)))
		k++;
	if (k == 2) {
		k = (int)(next_slot++ % 2);
		seen[k].base = o->info->dlpi_addr;
		seen[k].text_end = o->text_end;
		seen[k].id_len = has_id ? id_len : 0;
		if (has_id)
			memcpy(seen[k].id, id, id_len);
		seen[k].handlers_ours = handlers_libuv_only(o);
	}
	unsigned flags = seen[k].handlers_ours ? SITE_ATFORK_READ : 0;
	flags = shim_runtime_flags(&rt_libuv, o, flags);
	int n = shim_import_calls_in(o, "fork", start, start + size, forks, 16), swapped = 0, other = 0;
	uintptr_t stop = 0;
	for (int i = 0; i < n; i++) {
		int reg = shim_code_env_load(o, forks[i], o->text_start, o->text_end, start, start + size,
					     offsetof(struct options, env), sizeof(struct options), &stop);
		if (reg < 0) {
			other++;
			continue;
		}
		shim_site_add_swap(o, forks[i], shim_call_end(forks[i]), "uv_spawn", flags, reg,
				   sizeof(struct options), offsetof(struct options, env), options_ok);
		swapped++;
	}
	if (cfg.log >= LOG_DEBUG) {
		const char *name = o->path && *o->path ? o->path : "the program";
		if (other)
			shim_log(LOG_DEBUG, "uv_spawn in %s: %d fork call(s) not of the shape read (the reading stopped at +%p), %d proved",
				 name, other, (void *)(stop ? stop - o->info->dlpi_addr : 0), swapped);
		else
			shim_log(LOG_DEBUG, "uv_spawn in %s: %d fork call(s) proved to read options->env only to store it", name, swapped);
		shim_log(LOG_DEBUG, "uv_spawn in %s: its object's fork handlers are %s", name,
			 seen[k].handlers_ours ? "libuv's own, or none" : "not only libuv's");
	}
	/* a call not proved, or none found (another architecture, a helper
	 * kept out of line): the whole function, as before, depth 2 */
	if (other || !swapped)
		shim_site_add(o, start, start + size, "uv_spawn", 2, flags | SITE_WRITES_ENVIRON | SITE_UNDECODED);
}

/* the symbols every object with a site of ours defines (sites above, and
 * the ones find() looks for first) */
SHIM_MARKERS("uv_spawn");

SHIM_RUNTIME(rt_libuv) = { .markers = markers, .name = "libuv", .find = find, .version = version, .read = read_versions,
			   .forget = forget };
