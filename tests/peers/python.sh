# CPython's own tests of processes, from the Lib/test that the machine's
# Python ships (Debian: libpython3.X-testsuite), run with
# tests/peers/pyrunner.py (one line per test), and multiprocessing's
# process tests under the spawn and forkserver start methods.
# Claims (sites and always): every preexec_fn fork stays real
# (fallback_preexec > 0); the forks of _posixsubprocess without
# preexec_fn are rerouted: all of 3.9's, and 3.10+'s user=, group=,
# extra_groups= and _USE_VFORK=False tests (run as root); with
# spawn=always, os.posix_spawn runs on the engine.
python_modules="test.test_subprocess test.test_os test.test_posix test.test_popen test.test_fork1
 test.test_wait3 test.test_wait4 test.test_signal"
# multiprocessing: the classes that start processes (their names are the
# same from 3.9 to 3.12; a package of modules from 3.13)
python_mp="WithProcessesTestProcess WithProcessesTestPool WithProcessesTestQueue"

python_prepare() {
	# Debian's interpreter where there is one (what CI has), else the one
	# python3 runs: the binary itself, not a wrapper script (pyenv's
	# shims are bash)
	if [ -x /usr/bin/python3 ]; then
		python_bin=$(readlink -f /usr/bin/python3)
	else
		python_bin=$(readlink -f "$(python3 -c 'import sys; print(sys.executable)')") || return 1
	fi
	python_v=$("$python_bin" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	if ! "$python_bin" -c 'import test.test_subprocess' 2>/dev/null; then
		if [ "$(id -u)" = 0 ] && [ "$python_bin" = "/usr/bin/python$python_v" ]; then
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "libpython$python_v-testsuite" >/dev/null || return 1
		else
			echo "python: $python_bin has no Lib/test (Debian: libpython$python_v-testsuite)"
			return 1
		fi
	fi
	python_tests=$python_modules
	local m c
	for m in spawn forkserver; do
		for c in $python_mp; do
			for t in "test.test_multiprocessing_$m.$c" "test.test_multiprocessing_$m.test_processes.$c"; do
				if "$python_bin" -c "import importlib; m = importlib.import_module('${t%.*}'); m.$c" 2>/dev/null; then
					python_tests="$python_tests $t"
					break
				fi
			done
		done
	done
}

# A stress test that counts signal deliveries against the clock: it
# fails at baseline on a loaded 2-core machine (seen in the run of
# 2026-12-01, without the shim); skipped in every mode alike.
export PYRUNNER_SKIP="test.test_signal.StressTest.test_stress_modifying_handlers"

python_run() {
	(cd "$1" && timeout 1800 "$python_bin" "$TOP/tests/peers/pyrunner.py" "$1/results" $python_tests)
}

python_claim() {
	local rerouted real engine preexec
	rerouted=$(stats_sum "$2" fork_rerouted)
	real=$(stats_sum "$2" fork_real)
	engine=$(stats_sum "$2" spawn_engine)
	preexec=$(stats_sum "$2" fallback_preexec)
	# 3.9 forks for every spawn; 3.10+ for user/group/extra_groups and
	# _USE_VFORK=False, which test_subprocess tries as root
	local want_rerouted=0
	if "$python_bin" -c 'import sys; sys.exit(sys.version_info >= (3, 10))' || [ "$(id -u)" = 0 ]; then
		want_rerouted=1
	fi
	if [ "$preexec" = 0 ] || { [ $want_rerouted = 1 ] && [ "$rerouted" = 0 ]; }; then
		echo "FAIL: python $python_v $1: fork_rerouted=$rerouted (want $([ $want_rerouted = 1 ] && echo '> 0' || echo any)), fallback_preexec=$preexec (want > 0)"
		return 1
	fi
	if [ "$1" = always ] && [ "$engine" = 0 ]; then
		echo "FAIL: python always: no posix_spawn reached the engine"
		return 1
	fi
	echo "ok: python $python_v $1: $rerouted forks rerouted at fork_exec, $preexec preexec_fn forks real (of $real real), $engine spawns on the engine"
}
