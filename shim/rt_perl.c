/* Perl: pp_system, the op behind system().
 *
 * Read: Perl 5.36.0 (Debian 12); docs/sites.md has the child's writes.
 * pp_system stringifies its arguments in the parent, before fork()
 * (copies into plain mortal strings), so its child runs no Perl code
 * until an exec fails; then the "Can't exec" warning can run a
 * __WARN__ handler or die: SITE_FAIL_FORK finishes that path in a real
 * fork of the child. It calls fork() itself; depth 2 leaves room for
 * Perl_my_fork, which builds without pthread_atfork put in between.
 *
 * Not a site: Perl_my_popen_list (list-form pipe opens). Its child
 * stringifies the arguments (do_aexec5): an undefined one warns, an
 * object runs its overloaded "", a tied one its FETCH -- Perl code in
 * memory shared with the parent, seen there (issue 15, #5). Nor is
 * Perl_my_popen (backticks, two-argument pipe opens): with the command
 * "-" its child returns into Perl code without exec'ing. */
#include "shim.h"
#include "lockfree.h"

static const struct shim_site_def sites[] = {
	{ "Perl_pp_system", 2, SITE_FAIL_FORK },
	{ NULL, 0, 0 },
};

SHIM_RUNTIME(rt_perl) = { "perl", sites, NULL };
