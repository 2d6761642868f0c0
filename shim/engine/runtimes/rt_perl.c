/* Perl: pp_system, the op behind system().
 *
 * Read: Perl 5.32, 5.36, 5.40 and 5.42 (Debian 11 to sid); docs/sites.md
 * has the child's writes, the same in all four. pp_system stringifies
 * its arguments in the parent, before fork() (copies into plain mortal
 * strings), so its child runs no Perl code until an exec fails; then
 * the "Can't exec" warning can run a __WARN__ handler or die:
 * SITE_FAIL_FORK finishes that path in a real fork of the child. It
 * calls Perl_my_fork, compiled as a jump to fork(): pp_system is frame
 * 1; depth 2 leaves room for a build where the jump is a call.
 *
 * Finding it: up to 5.36 Perl exports Perl_pp_system. From 5.38 the
 * interpreter's internal functions are hidden (perl5380delta), so it is
 * found through the op tables Perl exports: the index of "system" in
 * PL_op_name, and PL_ppaddr at that index (320 in 5.40, 324 in 5.42).
 * PL_ppaddr is writable (a module may replace an op), so the pointer is
 * taken only if it lies in the object's own code and an unwind entry
 * starts there; the site is matched by that start.
 *
 * Other threads: up to 5.36 the main interpreter changes %ENV by
 * writing environ itself, not through setenv (perl5380delta: "Perl is
 * no longer manipulating the environ array directly"), which env.c's
 * window cannot keep out: in a threaded process (ithreads) the child
 * could read an array being reallocated. Declined there for those
 * versions (SITE_ENVIRON_UNGUARDED); 5.38 and later use setenv.
 *
 * Not a site: Perl_my_popen_list (list-form pipe opens). Its child
 * stringifies the arguments (do_aexec5): an undefined one warns, an
 * object runs its overloaded "", a tied one its FETCH -- Perl code in
 * memory shared with the parent, seen there (issue 15, #5). Nor is
 * Perl_my_popen (backticks, two-argument pipe opens): with the command
 * "-" its child returns into Perl code without exec'ing. */
#include <string.h>

#include "runtimes.h"
#include "lockfree.h"

static const struct shim_runtime rt_perl;

/* The objects whose fork handlers are Perl's own: the perl executable
 * (Debian links libperl into it) and libperl.so. Perl linked into any
 * other program sits beside handlers of that program's: not read. */
#define PERL_OBJECTS "perl|perl5.*|libperl.so.*"

static const struct shim_site_def sites[] = {
	/* /usr/bin/perl registers Perl's fork handlers (perlmain:
	 * PTHREAD_ATFORK): they lock and unlock the interpreter's mutexes
	 * around fork, needless in a child that execs */
	{ "Perl_pp_system", 2, SITE_FAIL_FORK | SITE_ATFORK_READ, PERL_OBJECTS },
	/* read and refused (docs/sites.md): their children may run Perl
	 * code; named only so that vforkshim audit can say so */
	{ "Perl_my_popen", 2, SITE_REFUSED, NULL },
	{ "Perl_my_popen_list", 2, SITE_REFUSED, NULL },
	{ NULL, 0, 0, NULL },
};

static const unsigned read_versions[] = { 532, 536, 540, 542, 0 };

/* PL_revision and PL_version: one byte each (perl.h) */
static unsigned version(const struct shim_object *o)
{
	uintptr_t rev, ver;
	size_t n1, n2;
	if (!shim_object_data(o, "PL_revision", &rev, &n1) || !shim_object_data(o, "PL_version", &ver, &n2) ||
	    n1 != 1 || n2 != 1)
		return 0;
	return *(const unsigned char *)rev * 100u + *(const unsigned char *)ver;
}

static unsigned version_flags(unsigned v)
{
	return v && v < 538 ? SITE_ENVIRON_UNGUARDED : 0;
}

static void find(const struct shim_object *o)
{
	uintptr_t start, names, ppaddr;
	size_t size, names_size, ppaddr_size;
	if (shim_object_sym(o, "Perl_pp_system", &start, &size) ||
	    !shim_object_data(o, "PL_op_name", &names, &names_size) ||
	    !shim_object_data(o, "PL_ppaddr", &ppaddr, &ppaddr_size))
		return; /* the symbol does it, or no Perl here */
	const char *const *name = (const char *const *)names;
	const uintptr_t *pp = (const uintptr_t *)ppaddr;
	size_t n = names_size / sizeof *name;
	if (ppaddr_size / sizeof *pp < n)
		n = ppaddr_size / sizeof *pp;
	for (size_t i = 0; i < n; i++) {
		if (!name[i] || strcmp(name[i], "system") != 0)
			continue;
		uintptr_t fn = SHIM_CODE(pp[i]);
		if (fn < o->text_start || fn >= o->text_end ||
		    shim_function_start(fn + 1) != fn)
			return; /* replaced by a module, or not a function start */
		shim_site_add(o, fn, fn + 1, "perl:pp_system", 2,
			      shim_runtime_flags(&rt_perl, o, SITE_FAIL_FORK | SITE_BY_START |
						 (shim_object_named(o, PERL_OBJECTS) ? SITE_ATFORK_READ : 0)));
		return;
	}
}

/* the symbols every object with a site of ours defines (sites above, and
 * the ones find() looks for first) */
SHIM_MARKERS("Perl_pp_system", "PL_op_name");

SHIM_RUNTIME(rt_perl) = { .markers = markers, .name = "perl", .sites = sites, .find = find, .version = version,
			  .read = read_versions, .version_flags = version_flags };
