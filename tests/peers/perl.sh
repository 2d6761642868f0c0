# Perl 5.36's own tests of processes, from Debian's source of the
# installed perl, run against the installed perl.
# Claims: in sites mode, system is rerouted (list-form and 2-arg pipe
# opens, backticks and fork stay real: docs/sites.md).
perl_tests="op/fork.t io/pipe.t op/exec.t io/openpid.t op/magic.t io/open.t op/die_exit.t
 op/sigsystem.t op/waitpid.t run/cloexec.t run/exit.t run/runenv.t"

perl_prepare() {
	perl_src=$(scripts/fetch-source perl) || return 1
	perl_dir=$PEERS/perl
	[ -e "$perl_dir/ready" ] && return 0
	rm -rf "$perl_dir"
	mkdir -p "$perl_dir/t"
	# The tests replace @INC with ../lib (set_up_inc): give them a ../lib
	# that holds the installed perl's modules (the same 5.36.0), merged
	# file by file from every @INC directory (symlinked ones resolved,
	# /usr/share/perl/5.36 is one), first one wins.
	perl -MFile::Find -MFile::Path=make_path -MFile::Basename -MCwd=realpath -e '
		my $to = shift;
		for my $d (map { realpath($_) } grep { -d && !m{^\.} } @INC) {
			find({ no_chdir => 1, wanted => sub {
				return unless -f $_;
				(my $rel = $_) =~ s{^\Q$d\E/}{};
				my $dst = "$to/$rel";
				return if -e $dst;
				make_path(dirname($dst));
				symlink($_, $dst) or die "$dst: $!";
			} }, $d);
		}' "$perl_dir/lib" || return 1
	# t/ as a real directory of links: "../lib" must be ours
	for e in "$perl_src"/t/*; do ln -s "$e" "$perl_dir/t/"; done
	ln -s "$perl_src/ext" "$perl_dir/ext"
	ln -s "$(command -v perl)" "$perl_dir/t/perl" # tests run "./perl" as the built one
	touch "$perl_dir/ready"
}

# perl_one OUT FILE NAME: its test points, and whether it exited 0
perl_one() {
	local st=pass
	timeout 300 perl "$2" > "$1/tap" 2>> "$1/stderr" || st=fail
	tap_results "$3" < "$1/tap" >> "$1/results"
	echo "$3:exit $st" >> "$1/results"
}

perl_run() {
	local out=$1 f
	(
		cd "$PEERS/perl/t" || exit 1
		for f in $perl_tests; do perl_one "$out" "$f" "$f"; done
		cd ../ext/IPC-Open3 || exit 1
		for f in t/*.t; do perl_one "$out" "$f" "IPC-Open3/$f"; done
	)
}

perl_claim() { claim_rerouted perl "$1" "$2" "system"; }
