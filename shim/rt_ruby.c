/* Ruby: the function of libruby that calls vfork, and
 * rb_fork_async_signal_safe.
 *
 * Read: Ruby 3.1.2 (Debian 12); docs/sites.md has the child's writes.
 * Ruby forks its exec-bound children (system, spawn, backticks,
 * IO.popen) from retry_fork_async_signal_safe, a static function that
 * calls vfork() instead whenever the process is unprivileged: its child
 * is written for shared memory. It has no symbol; vfork_callers.c finds
 * it in libruby's machine code (x86_64); it calls fork() itself, or
 * through rb_fork() where that is not inlined (depth 2).
 * rb_fork_async_signal_safe, exported for extensions (pty), reaches it
 * two frames up (depth 3, or 4 with rb_fork). */
#include "shim.h"
#include "lockfree.h"

static const struct shim_site_def sites[] = {
	{ "rb_fork_async_signal_safe", 4, 0 },
	{ NULL, 0, 0 },
};

/* What the scan found, per object: libruby's 3 MB of code is scanned
 * once, not at every change of the loaded set. Written only while the
 * table is rebuilt (one thread at a time). */
static struct {
	uintptr_t base, text_end;
	int n;
	uintptr_t starts[4];
} seen[4];
static unsigned next_slot;

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
		seen[k].n = shim_vfork_callers(o, seen[k].starts, 4);
	}
	for (int i = 0; i < seen[k].n; i++)
		shim_site_add(o, seen[k].starts[i], seen[k].starts[i] + 1, "libruby:vfork-caller", 2, SITE_BY_START);
}

SHIM_RUNTIME(rt_ruby) = { "ruby", sites, find };
