# $SIG{ALRM} forks a worker that does not exec while system() waits
# for its child (issue 15, #4): Perl runs the handler from inside
# pp_system, so the site is on the stack, but the fork is the
# handler's. The worker's write must stay in its own memory.
use strict; use warnings; use POSIX ();
our $g = 0;
my $handled = 0;
$SIG{ALRM} = sub {
	my $p = fork // die "fork: $!";
	if (!$p) { $g = 42; POSIX::_exit(0) }
	waitpid($p, 0);
	$handled++;
};
alarm 1;
my $r = system("sleep", 2);
print "system $r, handler ran $handled, g=$g\n";
