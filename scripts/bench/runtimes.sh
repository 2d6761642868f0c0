#!/bin/bash
# Real runtimes holding GIB GiB (default 2) spawn /bin/true COUNT times
# (default 20); ms per spawn measured inside the runtime, without the
# shim and with it (VFORKSHIM=1, defaults: fork=sites), runs alternated.
#   scripts/bench/runtimes.sh [GIB [COUNT]]     (make bench-runtimes)
# A runtime that is not installed is skipped with a line saying so.
set -eu
cd "$(dirname "$0")/../.."
GIB=${1:-2}
COUNT=${2:-20}
lib=$PWD/build/libvforkshim.so
[ -e "$lib" ] || make -s "$lib"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bytes=$((GIB << 30))

echo "vforkshim bench: runtimes holding $GIB GiB, $COUNT spawns of /bin/true ($(date -u +%F)," \
	"$(nproc) cores, kernel $(uname -r), $(getconf GNU_LIBC_VERSION))"
echo "reproduce: scripts/bench/runtimes.sh $GIB $COUNT"
printf '\n%-34s %12s %12s %9s  %s\n' runtime "without (ms)" "with (ms)" speed-up "stats (with)"

# bench NAME CMD...: CMD prints ms per spawn on its last line
bench() {
	local name=$1; shift
	command -v "$1" >/dev/null || { printf '%-34s skipped: %s not installed\n' "$name" "$1"; return; }
	local without with stats
	without=$("$@" 2>/dev/null | tail -n 1)
	with=$(env VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE="$tmp/log" LD_PRELOAD="$lib" "$@" 2>/dev/null | tail -n 1)
	stats=$(grep 'stats' "$tmp/log" | tail -n 1 | grep -o 'fork_rerouted=[0-9]* fork_real=[0-9]*' || true)
	rm -f "$tmp/log"
	awk -v n="$name" -v a="$without" -v b="$with" -v s="$stats" \
		'BEGIN { printf "%-34s %12.2f %12.2f %8.1fx  %s\n", n, a, b, (b > 0 ? a / b : 0), s }'
}

bench "node spawnSync" node -e "
const b = Buffer.alloc($bytes, 1); const cp = require('child_process');
cp.spawnSync('/bin/true'); const t = process.hrtime.bigint();
for (let i = 0; i < $COUNT; i++) cp.spawnSync('/bin/true');
if (b[7] !== 1) process.exit(1); console.log(Number(process.hrtime.bigint() - t) / 1e6 / $COUNT);" 
bench "ruby system" ruby -e "
s = 'x' * $bytes; system('/bin/true'); t = Process.clock_gettime(Process::CLOCK_MONOTONIC)
$COUNT.times { system('/bin/true') }
puts((Process.clock_gettime(Process::CLOCK_MONOTONIC) - t) * 1000 / $COUNT)"
bench "perl system" perl -MTime::HiRes=time -e "
my \$s = 'x' x $bytes; system('/bin/true'); my \$t = time;
system('/bin/true') for 1..$COUNT; print((time - \$t) * 1000 / $COUNT, qq{\n})"
if command -v javac >/dev/null; then
	cat > "$tmp/B.java" <<JAVA
public class B { public static void main(String[] a) throws Exception {
  int n = Integer.parseInt(a[0]); new ProcessBuilder("/bin/true").start().waitFor();
  long t = System.nanoTime();
  for (int i = 0; i < n; i++) new ProcessBuilder("/bin/true").start().waitFor();
  System.out.println((System.nanoTime() - t) / 1e6 / n); } }
JAVA
	javac -d "$tmp" "$tmp/B.java"
	for mech in FORK POSIX_SPAWN; do
		bench "java ProcessBuilder ($mech)" java -Xms$((GIB + 1))g -Xmx$((GIB + 1))g -XX:+AlwaysPreTouch \
			-Djdk.lang.Process.launchMechanism=$mech -cp "$tmp" B "$COUNT"
	done
else
	printf '%-34s skipped: javac not installed\n' java
fi
py=$(command -v python3 >/dev/null && python3 -c 'import sys; print(sys.executable)' || echo python3)
bench "python subprocess (vforks itself)" "$py" -c "
import subprocess, time; b = b'x' * $bytes; subprocess.run(['/bin/true']); t = time.monotonic()
for _ in range($COUNT): subprocess.run(['/bin/true'])
print((time.monotonic() - t) * 1000 / $COUNT)"
