/* Ruby: the function of libruby that calls vfork, and
 * rb_fork_async_signal_safe.
 *
 * Read: Ruby 2.7, 3.1 and 3.3 (Debian 11 to sid); docs/sites.md has the
 * child's writes, effectively the same in the three.
 * Ruby forks its exec-bound children (system, spawn, backticks,
 * IO.popen) from retry_fork_async_signal_safe, a static function that
 * calls vfork() instead whenever the process is unprivileged: its child
 * is written for shared memory. It has no symbol; vfork_callers.c finds
 * it in libruby's machine code (import_calls.c, x86_64): the functions
 * around its calls of vfork; it calls fork() itself, or
 * through rb_fork() where that is not inlined (depth 2).
 * rb_fork_async_signal_safe, exported for extensions (pty), reaches it
 * two frames up (depth 3, or 4 with rb_fork). */
#include <string.h>

#include "runtimes.h"
#include "lockfree.h"

static const struct shim_runtime rt_ruby;

static const struct shim_site_def sites[] = {
	{ "rb_fork_async_signal_safe", 4, 0, NULL },
	{ NULL, 0, 0, NULL },
};

static const unsigned read_versions[] = { 207, 301, 303, 0 };

/* ruby_version: "3.1.2" */
static unsigned version(const struct shim_object *o)
{
	uintptr_t a;
	size_t n;
	return shim_object_data(o, "ruby_version", &a, &n) ? shim_version_parse((const char *)a) : 0;
}

/* What the scan found, per object: libruby's 3 MB of code is scanned
 * once, not at every change of the loaded set. Written only while the
 * table is rebuilt (one thread at a time). */
static struct {
	uintptr_t base, text_end;
	int n;
	uintptr_t starts[4];
} seen[4];
static unsigned next_slot;

static void forget(void)
{
	memset(seen, 0, sizeof seen);
	next_slot = 0;
}

/* the functions that call vfork: the unwinder's FDE lookup gives the
 * start of the function around each call */
static int vfork_callers(const struct shim_object *o, uintptr_t *starts, int max)
{
	uintptr_t calls[8];
	int n = 0, nc = shim_import_calls(o, "vfork", calls, 8);
	for (int i = 0; i < nc && n < max; i++) {
		uintptr_t start = shim_function_start(calls[i] + 1);
		bool dup = !start;
		for (int j = 0; j < n && !dup; j++)
			dup = starts[j] == start;
		if (!dup)
			starts[n++] = start;
	}
	return n;
}

static void find(const struct shim_object *o)
{
	if (!shim_object_is(o, "libruby", true))
		return;
	int k = 0;
	while (k < 4 && !(seen[k].base == o->info->dlpi_addr && seen[k].text_end == o->text_end))
		k++;
	if (k == 4) {
		k = (int)(next_slot++ % 4);
		seen[k].base = o->info->dlpi_addr;
		seen[k].text_end = o->text_end;
		seen[k].n = vfork_callers(o, seen[k].starts, 4);
	}
	for (int i = 0; i < seen[k].n; i++)
		shim_site_add(o, seen[k].starts[i], seen[k].starts[i] + 1, "libruby:vfork-caller", 2,
			      shim_runtime_flags(&rt_ruby, o, SITE_BY_START));
}

/* the symbols every object with a site of ours defines (sites above, and
 * the ones find() looks for first) */
SHIM_MARKERS("rb_fork_async_signal_safe", "ruby_version");

SHIM_RUNTIME(rt_ruby) = { .markers = markers, .name = "ruby", .sites = sites, .find = find, .version = version,
			  .read = read_versions, .forget = forget };
