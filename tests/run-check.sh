#!/bin/bash
# make check: the Check runners (linked and preloaded) with the engine
# forced on, then the integration tests. Each run is bounded by a
# timeout; the stats line of each runner must show that every call it
# made through the shim went to the engine and none to libc.
set -u
cd "$(dirname "$0")/.."
B=${B:-build} # make check SANITIZE=...: build/san-*
T=$B/tests
LIB=$PWD/$B/libvforkshim.so
PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD }$LIB"
LOGS=$T/logs
rm -rf "$LOGS" && mkdir -p "$LOGS"
failed=0

# stat FILE PID KEY: the value of KEY in PID's stats line in FILE
stat_of() {
	grep "^vforkshim: stats pid=$2 " "$1" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}

run_runner() { # name preload
	local name=$1 preload=$2 log=$LOGS/$1.log calls=$LOGS/$1.calls
	echo "== check_$name (VFORKSHIM_SPAWN=always)"
	env VFORKSHIM=1 VFORKSHIM_SPAWN=always VFORKSHIM_STATS=1 \
		VFORKSHIM_LOG_FILE="$PWD/$log" VFORKSHIM_TEST_CALLS="$calls" \
		LD_PRELOAD="$preload" timeout 600 "$T/check_$name" || failed=1
	read -r pid n < "$calls" || { echo "FAIL: check_$name wrote no call count"; failed=1; return; }
	local engine libc
	engine=$(stat_of "$log" "$pid" spawn_engine)
	libc=$(stat_of "$log" "$pid" spawn_libc)
	if [ "$engine" = "$n" ] && [ "$libc" = 0 ]; then
		echo "ok: check_$name: all $n calls through the shim ran on the engine (spawn_engine=$engine spawn_libc=0)"
	else
		echo "FAIL: check_$name: $n calls, stats say spawn_engine=${engine:-?} spawn_libc=${libc:-?}"
		failed=1
	fi
}

echo "== rules: the fork path and the children's code"
if [ -n "${SAN_PRELOAD:-}" ]; then
	echo "skip: rules (a sanitized build calls its sanitizers' runtime everywhere; the plain make check holds the rule)"
else
	tests/rules.sh "$B" || failed=1
fi
echo "== layout: no circle between the library's folders or files"
python3 tests/layout.py "$B" || failed=1

run_runner linked ""
run_runner preloaded "$PRELOAD"

echo "== integration"
LIB="$LIB" LOGS="$LOGS" timeout 600 tests/integration.sh || failed=1
echo "== fork"
LIB="$LIB" LOGS="$LOGS" timeout 600 tests/fork.sh || failed=1
echo "== the front and the engine"
LIB="$LIB" LOGS="$LOGS" timeout 600 tests/front.sh || failed=1
if [ -n "${SAN_PRELOAD:-}" ]; then
	echo "skip: benchmarks (they time the unsanitized build; the plain make check runs them)"
else
echo "== benchmarks, once at a tiny size so they cannot rot"
# every benchmark at a tiny size, the report into the logs (not docs/):
# each section must have its table and, where it has targets, its verdicts
# (the scripts build what they run: scripts/bench/common.sh)
bench_ok=1
timeout 600 scripts/bench/report.sh --quick --out "$LOGS/bench" > "$LOGS/bench.log" 2>&1 || bench_ok=0
for want in "^| 0 | " "^| ruby system (0 GiB) | " "^| 2 | " "^| fork + exec | " \
	"^Not run: it needs root" "^- \(met\|\*\*not met\*\*\): inert"; do
	grep -q -e "$want" "$LOGS/bench/PERFORMANCE.md" 2>/dev/null || { bench_ok=0; echo "missing: $want"; }
done
if [ $bench_ok = 1 ]; then
	echo "ok: scripts/bench/report.sh --quick (every benchmark once, tiny)"
else
	echo "FAIL: scripts/bench/report.sh --quick (output in $LOGS/bench.log)"
	failed=1
fi
fi
echo "== deploy: the vforkshim command, systemd drop-ins, gdb, install, man pages"
LIB="$LIB" LOGS="$LOGS" timeout 600 tests/deploy.sh || failed=1
echo "== vforkshim audit"
LIB="$LIB" LOGS="$LOGS" timeout 600 tests/audit.sh || failed=1
echo "== runtimes"
LIB="$LIB" LOGS="$LOGS" timeout 600 tests/runtimes.sh || failed=1
echo "== concurrency: the child invisible to threads, signal handlers and the loader"
LIB="$LIB" LOGS="$LOGS" timeout 900 tests/concurrency.sh || failed=1
echo "== reliability (short; make check-reliability runs the whole)"
LIB="$LIB" LOGS="$LOGS" timeout 900 tests/reliability/run.sh --quick || failed=1

if [ $failed = 0 ]; then echo "make check: all passed"; else echo "make check: FAILED"; fi
exit $failed
