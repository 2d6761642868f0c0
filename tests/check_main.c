/* The Check runner. Built twice: linked with the shim's objects
 * (check_linked, which also runs the unit tests of internals) and
 * plain (check_preloaded, run with LD_PRELOAD). Check's fork mode is
 * CK_NOFORK: with the shim in the process, Check's own per-test fork
 * would go through it; run-check.sh bounds the run with a timeout.
 * At the end it writes its pid and how many calls went through the
 * shim to the file named by VFORKSHIM_TEST_CALLS, for run-check.sh to
 * compare with its stats line. */
#include <stdlib.h>
#include <unistd.h>

#include "check_util.h"

int main(void)
{
#ifdef __SANITIZE_ADDRESS__
	/* make check SANITIZE=...: LeakSanitizer read its options when this
	 * runner started and checks it at exit. The programs the tests run
	 * (sh, tr, cat) inherit the sanitizer runtimes; their exit-time
	 * leaks are not ours, and would change their exit status. */
	setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
#endif
	util_init();
	SRunner *sr = srunner_create(posix_spawn_suite());
	srunner_add_suite(sr, system_suite());
	srunner_add_suite(sr, popen_suite());
#ifdef LINKED
	srunner_add_suite(sr, config_suite());
#endif
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	const char *calls = getenv("VFORKSHIM_TEST_CALLS");
	FILE *f = calls ? fopen(calls, "w") : NULL;
	if (f) {
		fprintf(f, "%d %lu\n", (int)getpid(), shim_calls);
		fclose(f);
	}
	return failed ? 1 : 0;
}
