# Perl 5.36's own tests of processes, from Debian's source of the
# installed perl, run against the installed perl.
# Claims: in sites mode, system and list pipe opens are rerouted (Perl's
# backticks, 2-arg pipe opens and fork stay real: docs/sites.md).
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

perl_run() {
	local out=$1 f rc
	(
		cd "$PEERS/perl/t" || exit 1
		for f in $perl_tests; do
			timeout 300 perl "$f" > "$out/tap" 2>> "$out/stderr"
			rc=$?
			tap_results "$f" < "$out/tap" >> "$out/results"
			[ $rc = 0 ] && echo "$f:exit pass" >> "$out/results" || echo "$f:exit fail" >> "$out/results"
		done
		cd ../ext/IPC-Open3 || exit 1
		for f in t/*.t; do
			timeout 300 perl "$f" > "$out/tap" 2>> "$out/stderr"
			rc=$?
			tap_results "IPC-Open3/$f" < "$out/tap" >> "$out/results"
			[ $rc = 0 ] && echo "IPC-Open3/$f:exit pass" >> "$out/results" || echo "IPC-Open3/$f:exit fail" >> "$out/results"
		done
	)
}

perl_claim() {
	local n
	n=$(stats_sum "$2" fork_rerouted)
	if [ "$n" -gt 0 ]; then
		echo "ok: perl $1: $n forks rerouted (system, list pipe opens); $(stats_sum "$2" fork_real) stayed real"
	else
		echo "FAIL: perl $1: no fork rerouted"
		return 1
	fi
}
