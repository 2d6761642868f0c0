/* An embedded Perl interpreter runs system() and list pipe opens (the
 * shim's Perl sites) and prints its scope, save and temps stack indexes
 * after each eval and after FREETMPS. The child of a rerouted fork
 * pushes onto these stacks in the parent's memory (do_exec3's ENTER and
 * SAVEFREEPV, the command's mortal copy); tests/runtimes.sh checks the
 * parent ends with the same indexes as without the shim. */
#include <EXTERN.h>
#include <perl.h>

static PerlInterpreter *my_perl;

static void show(const char *what)
{
	printf("%s: scope=%ld save=%ld tmps=%ld\n", what, (long)PL_scopestack_ix, (long)PL_savestack_ix,
	       (long)PL_tmps_ix);
}

int main(int argc, char **argv, char **env)
{
	PERL_SYS_INIT3(&argc, &argv, &env);
	my_perl = perl_alloc();
	perl_construct(my_perl);
	char *args[] = { "", "-e", "0", NULL };
	perl_parse(my_perl, NULL, 3, args, NULL);
	show("start");
	eval_pv("system('/bin/true'); system('sh -c true'); system('echo', 'x') for 1..3;", TRUE);
	show("after system");
	eval_pv("open(my $f, '-|', 'echo', 'y') or die; my @l = <$f>; close $f; "
		"my @m = map { local $_ = $_; system('/bin/true'); $_ } 1..3;", TRUE);
	show("after list open and map");
	FREETMPS;
	show("after FREETMPS");
	perl_destruct(my_perl);
	perl_free(my_perl);
	PERL_SYS_TERM();
	return 0;
}
