# CPython 3.11's own tests of processes, from the Lib/test that the
# machine's Python ships (Debian: libpython3.11-testsuite), run with
# tests/peers/pyrunner.py (one line per test).
# Claims: CPython's own vfork/posix_spawn paths are not ours to reroute
# and preexec_fn forks stay real (fork_rerouted=0, fork_real>0);
# with spawn=always, os.posix_spawn runs on the engine.
python_modules="test.test_subprocess test.test_os test.test_posix test.test_popen test.test_fork1
 test.test_wait3 test.test_wait4 test.test_signal"

python_prepare() {
	# the interpreter itself, not a wrapper script (pyenv's shims are bash)
	python_bin=$(python3 -c 'import sys; print(sys.executable)') || return 1
	if ! "$python_bin" -c 'import test.test_subprocess' 2>/dev/null; then
		if [ "$(id -u)" = 0 ] && [ "$(readlink -f "$python_bin")" = /usr/bin/python3.11 ]; then
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpython3.11-testsuite >/dev/null || return 1
		else
			echo "python: $python_bin has no Lib/test (Debian: libpython3.11-testsuite)"
			return 1
		fi
	fi
}

python_run() {
	(cd "$1" && timeout 1200 "$python_bin" "$TOP/tests/peers/pyrunner.py" "$1/results" $python_modules)
}

python_claim() {
	local rerouted real engine
	rerouted=$(stats_sum "$2" fork_rerouted)
	real=$(stats_sum "$2" fork_real)
	engine=$(stats_sum "$2" spawn_engine)
	# preexec_fn forks: declined by policy (no site loaded in CPython,
	# so the stack is not even walked) or denied (_posixsubprocess)
	if [ "$rerouted" != 0 ] || [ "$real" = 0 ]; then
		echo "FAIL: python $1: fork_rerouted=$rerouted (want 0), fork_real=$real (want > 0)"
		return 1
	fi
	if [ "$1" = always ] && [ "$engine" = 0 ]; then
		echo "FAIL: python always: no posix_spawn reached the engine"
		return 1
	fi
	echo "ok: python $1: no fork rerouted, $real real forks (preexec_fn and the like), $engine spawns on the engine"
}
