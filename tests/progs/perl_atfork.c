/* Perl linked into a program of another name (an application built with
 * libperl.a): Perl's site, Perl_pp_system, and a version that was read
 * (PL_revision/PL_version 5.36), beside a fork handler of the program's
 * own that closes a descriptor in the child. Those handlers are not
 * Perl's: the fork must stay real (fallback_atfork), and the report
 * says the descriptor was closed.
 *   perl_atfork REPORT */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "own_handler.h"

__attribute__((visibility("default"))) const unsigned char PL_revision = 5;
__attribute__((visibility("default"))) const unsigned char PL_version = 36;

__attribute__((noinline, visibility("default"))) int Perl_pp_system(const char *report, const char *arg)
{
	pid_t p = fork();
	if (p == 0) {
		execl(report, report, arg, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	while (p > 0 && waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	char arg[32];
	if (own_handler_register(arg, sizeof arg) < 0)
		return 1;
	fflush(stdout);
	return Perl_pp_system(argv[1], arg) == 0 ? 0 : 1;
}
