# Ruby 3.1's own tests of processes (test/ruby/test_process.rb,
# test_system.rb, test_io.rb, test_pipe.rb, test_signal.rb) from Debian's
# source of the installed ruby, with its tool/test/runner.rb, against the
# installed ruby. Two suites:
#   ruby      as root: Ruby forks, rerouted at the libruby function that
#             would vfork (docs/sites.md)
#   rubyuser  as nobody: Ruby vforks by itself; the shim must see no fork
#             to reroute and change nothing
ruby_tests="test_process test_system test_io test_pipe test_signal"
rubyuser_modes="base sites"

ruby_prepare() {
	ruby_src=$(scripts/fetch-source ruby3.1) || return 1
}

# ruby_results LOG: every test the runner started passes unless its
# report at the end says Failure, Error or Skipped.
ruby_results() {
	# Children that switch uid (test_execopts_uid) cannot write the
	# stats log of root: the shim warns on their stderr, which can land
	# in the middle of a runner line.
	sed 's/vforkshim: .*//' "$1" | awk '
		/^\[ *[0-9]+\/[0-9]+\] [A-Za-z0-9_:]+#/ { line = $0; sub(/^\[[^]]*\] /, "", line); split(line, w, " ")
			t = w[1]; if (!(t in st)) { st[t] = "pass"; order[n++] = t } }
		/^ +[0-9]+\) (Failure|Error|Skipped):/ { kind = $2; getline; split($0, a, /[: ]/);
			t = a[1]; if (!(t in st)) order[n++] = t; st[t] = (kind == "Skipped:") ? "skip" : "fail" }
		END { for (i = 0; i < n; i++) print order[i], st[order[i]] }'
}

ruby_run() {
	local out=$1 f
	for f in $ruby_tests; do
		(cd "$ruby_src" && timeout 900 ${RUBY_AS:-} ruby tool/test/runner.rb --seed=1 -v --tty=no --show-skip \
			"test/ruby/$f.rb") > "$out/$f.log" 2>&1
		ruby_results "$out/$f.log" >> "$out/results"
		grep -q ' tests, .* assertions, ' "$out/$f.log" || echo "$f:runner fail" >> "$out/results"
	done
}

ruby_claim() { claim_rerouted ruby "$1" "$2" "at the libruby function that would vfork"; }

rubyuser_prepare() {
	ruby_prepare || return 1
	if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
		echo "rubyuser: needs root and setpriv to run the tests as nobody"
		return 1
	fi
	rubyuser_home=$PEERS/rubyuser-home
	mkdir -p "$rubyuser_home" && chown nobody "$rubyuser_home"
}

rubyuser_run() {
	# the stats log must belong to the user that writes it
	chown nobody "$1" "$1/stats.log"
	RUBY_AS="setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=$rubyuser_home" ruby_run "$1"
}

rubyuser_claim() {
	local n
	n=$(stats_sum "$2" fork_rerouted)
	if [ "$n" = 0 ] && grep -q 'stats pid=' "$2/stats.log"; then
		echo "ok: rubyuser $1: no fork rerouted (Ruby vforks itself), stats lines written as nobody"
	else
		echo "FAIL: rubyuser $1: fork_rerouted=$n, or no stats line written"
		return 1
	fi
}
