# List-form pipe opens whose arguments run Perl code when stringified
# (issue 15, #5): an undefined one under a __WARN__ handler and under
# FATAL warnings, an object with an overloaded "". Without exec'ing,
# the child stringifies them: whatever that runs must stay in its own
# memory.
use strict; use warnings;
$| = 1;
package O { use overload '""' => sub { $main::side++; "ovl" }; }
our $side = 0;
my @w;
local $SIG{__WARN__} = sub { push @w, $_[0] };
my @l;
open(my $fh, "-|", "echo", "a", undef) or die; push @l, <$fh>; close $fh;
open($fh, "-|", "echo", bless({}, "O")) or die; push @l, <$fh>; close $fh;
my $ok = eval {
	use warnings FATAL => 'uninitialized';
	open(my $f2, "-|", "echo", undef) or die; push @l, <$f2>; close $f2; 1;
};
print "eval: ", ($ok ? "ok" : "died: $@"), "\n";
open($fh, "-|", "echo", "plain") or die; push @l, <$fh>; close $fh;
print "lines: ", join("", @l);
print "warnings in the parent: ", scalar(@w), "; side effects in the parent: $side\n";
