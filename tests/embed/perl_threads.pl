# Perl ithreads that set and read %ENV (the process environment, under
# Perl's ENV lock), call localtime and resolve localhost while the main
# thread runs system() (issue 15's torture): every status right, every
# thread's reads its own.
use strict; use warnings;
use threads; use threads::shared;
use Socket ();
my $n = shift // 40;
my $stop :shared = 0;
my $bad :shared = 0;
my @t = map {
	my $id = $_;
	threads->create(sub {
		my $i = 0;
		while (!$stop) {
			my $k = "PT_${id}_" . ($i % 32);
			$ENV{$k} = $i;
			if ($ENV{$k} ne $i) { lock($bad); $bad++ }
			$i++;
		}
	});
} 1 .. 2;
push @t, threads->create(sub { while (!$stop) { my @l = localtime } });
push @t, threads->create(sub { while (!$stop) { Socket::getaddrinfo("localhost", "80"); select(undef, undef, undef, 0.001) } });
my $ok = 0;
for my $i (1 .. $n) {
	$ok++ if system("sh", "-c", "exit " . ($i % 3)) >> 8 == $i % 3;
	$ok++ if system("test -n \"\$HOME\"") == 0;
}
$stop = 1;
$_->join for @t;
print "system right: $ok of ", 2 * $n, "; threads' anomalies: $bad\n";
