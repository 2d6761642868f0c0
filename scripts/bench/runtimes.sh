#!/bin/bash
# Real runtimes (issue: benchmarks, part 2).
#   scripts/bench/runtimes.sh [COUNT [GIB...]]     (make bench-runtimes)
# Each runtime holds GIB GiB (default sizes 2 and 8; the held size is
# read back from the runtime's own VmRSS and shown) and spawns /bin/true
# COUNT times (default 20) after one warm-up spawn; ms per spawn is
# measured inside the runtime, without the shim and with it (VFORKSHIM=1,
# the defaults: fork=sites), one run after the other. The stats line of
# each run with the shim is shown: a speed-up is only claimed where forks
# were rerouted. A runtime that is not installed is skipped, said so.
# The peers that copy nothing either way (Java's POSIX_SPAWN mode, and
# CPython 3.10+'s plain subprocess.run, which vforks) run at the first size only: their cost does not
# depend on the parent's memory (glibc's posix_spawn in memory.sh is
# flat from 0 to 16 GiB), and filling 8 GiB twice per runtime is most of
# this benchmark's time.
source "$(dirname "$0")/common.sh"
COUNT=${1:-20}
shift || true
SIZES=${*:-2 8}
REPRODUCE="scripts/bench/runtimes.sh $COUNT $SIZES"
: > "$DATA/runtimes.dat"

# row NAME "MS RSS_KIB" "MS" STATS_LINE: one table row, kept for the plot
row() {
	local name=$1 without=$2 with=$3 line=$4 a b rss
	st() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
	read -r a rss <<<"$without"
	read -r b _ <<<"$with"
	awk -v n="$name" -v a="$a" -v b="$b" -v rss="$rss" -v rer="$(st fork_rerouted)" -v real="$(st fork_real)" \
		-v thr="$(st fallback_threads)" -v atf="$(st fallback_atfork)" 'BEGIN {
		why = thr > 0 ? sprintf(" (%d declined: threads)", thr) : ""
		why = why (atf > 0 ? sprintf(" (%d declined: atfork)", atf) : "")
		printf "| %s | %.1f | %.2f | %.2f | %.1fx | %d / %d%s |\n", n, rss / 1048576, a, b, a / b, rer, real, why }'
	echo "$g $name|$a $b" >>"$DATA/runtimes.dat"
}

# bench NAME CMD...: CMD prints "ms_per_spawn rss_kib" on its last line
bench() {
	local name=$1; shift
	command -v "$1" >/dev/null || { echo "| $name | skipped: $1 not installed | | | | |"; return; }
	local without with
	without=$("$@" | tail -n 1)
	rm -f "$DATA/stats.log"
	with=$(shim "$@" | tail -n 1)
	row "$name" "$without" "$with" "$(grep 'vforkshim: stats' "$DATA/stats.log" | tail -n 1)"
}

# bench_in RELEASE NAME PROGRAM CODE: PROGRAM -c CODE in that Debian
# userland's chroot (scripts/userland; make check-userlands builds them),
# without and with the library built there; skipped where there is none
bench_in() {
	local rel=$1 name=$2 out
	if [ "$(id -u)" != 0 ] || scripts/userland list | grep -q "^$rel .*(not built)"; then
		echo "| $name | skipped: no $rel userland (make check-userlands builds it, as root) | | | | |"
		return
	fi
	out=$(scripts/userland run "$rel" bash -c 'cd /srv/vforkshim && make -s build/libvforkshim.so >/dev/null 2>&1 || exit 3
		command -v "$1" >/dev/null || exit 4
		a=$("$1" -c "$2" | tail -n 1)
		b=$(env VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE=/tmp/bench-stats LD_PRELOAD="$PWD/build/libvforkshim.so" "$1" -c "$2" | tail -n 1)
		echo "$a|$b|$(grep "vforkshim: stats" /tmp/bench-stats | tail -n 1)"; rm -f /tmp/bench-stats' bench "$3" "$4" 2>/dev/null | tail -n 1)
	case $out in
	*"|"*"|"*) IFS='|' read -r a b line <<<"$out"; row "$name" "$a" "$b" "$line" ;;
	*) echo "| $name | skipped: could not run in the $rel userland | | | | |" ;;
	esac
}

java_class() {
	[ -e "$DATA/B.class" ] && return
	cat > "$DATA/B.java" <<'JAVA'
public class B { public static void main(String[] a) throws Exception {
  int n = Integer.parseInt(a[0]); new ProcessBuilder("/bin/true").start().waitFor();
  long t = System.nanoTime();
  for (int i = 0; i < n; i++) new ProcessBuilder("/bin/true").start().waitFor();
  double ms = (System.nanoTime() - t) / 1e6 / n;
  String rss = "0";
  for (String l : java.nio.file.Files.readAllLines(java.nio.file.Paths.get("/proc/self/status")))
    if (l.startsWith("VmRSS:")) rss = l.replaceAll("[^0-9]", "");
  System.out.println(ms + " " + rss); } }
JAVA
	javac -d "$DATA" "$DATA/B.java"
}

# Node: the machine's, and nodejs.org's Node 22 (libuv linked in;
# scripts/fetch-node, cached outside the clone) where it can be had.
# node_js G CALL: the script that holds G GiB and times CALL
nodes=("node|node")
if n22=$(scripts/fetch-node 22.23.5 2>/dev/null); then nodes+=("node 22.23.5 (nodejs.org)|$n22"); fi
node_js() {
	echo "const b = []; for (let i = 0; i < $1; i++) b.push(Buffer.alloc(1 << 30, 1));
const cp = require('child_process'); cp.$2; const t = process.hrtime.bigint();
for (let i = 0; i < $COUNT; i++) cp.$2;
console.log(Number(process.hrtime.bigint() - t) / 1e6 / $COUNT, require('fs').readFileSync('/proc/self/status', 'utf8').match(/VmRSS:\s*(\d+)/)[1]);"
}
NODE_CALLS=("spawnSync('/bin/true')" "execSync('/bin/true')")

header "Real runtimes: ms per spawn of /bin/true, mean of $COUNT, without and with the shim"
echo "| runtime | held (GiB) | without | with | speed-up | rerouted / real forks (with) |"
echo "|---|---|---|---|---|---|"
first=${SIZES%% *}
# Node's own floor: the same spawn from a Node holding nothing, without
# the shim, in this run (the target compares with it)
for nd in "${nodes[@]}"; do
	command -v "${nd#*|}" >/dev/null || continue
	for call in "${NODE_CALLS[@]}"; do
		read -r a rss < <("${nd#*|}" -e "$(node_js 0 "$call")" | tail -n 1)
		echo "| ${nd%%|*} ${call%%(*} (0 GiB, Node's floor) | $(awk -v r="$rss" 'BEGIN { printf "%.2f", r / 1048576 }') | $(printf '%.2f' "$a") | | | |"
		echo "0 ${nd%%|*} ${call%%(*}|$a $a" >>"$DATA/runtimes.dat"
	done
done
for g in $SIZES; do
	if ! fits "$((g + 1))"; then echo "| (all runtimes at $g GiB) | skipped: not enough free memory | | | | |"; continue; fi
	bytes=$((g << 30))
	for nd in "${nodes[@]}"; do
		for call in "${NODE_CALLS[@]}"; do
			bench "${nd%%|*} ${call%%(*} ($g GiB)" "${nd#*|}" -e "$(node_js "$g" "$call")"
		done
	done
	bench "ruby system ($g GiB)" ruby -e "
s = 'x' * $bytes; system('/bin/true'); t = Process.clock_gettime(Process::CLOCK_MONOTONIC)
$COUNT.times { system('/bin/true') }
ms = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - t) * 1000 / $COUNT
puts \"#{ms} #{File.read('/proc/self/status')[/VmRSS:\s*(\d+)/, 1]}\""
	# \$s x= N grows in place; 'x' x N would hold the string twice
	bench "perl system ($g GiB)" perl -MTime::HiRes=time -e "
my \$s = 'x'; \$s x= $bytes; system('/bin/true'); my \$t = time;
system('/bin/true') for 1..$COUNT; my \$ms = (time - \$t) * 1000 / $COUNT;
open my \$f, '<', '/proc/self/status'; my (\$rss) = join('', <\$f>) =~ /VmRSS:\s*(\d+)/; print qq{\$ms \$rss\n}"
	if command -v javac >/dev/null; then
		java_class
		for mech in FORK $([ "$g" = "$first" ] && echo POSIX_SPAWN); do
			bench "java $mech ($g GiB)" java -Xms$((g * 1024 + 64))m -Xmx$((g * 1024 + 1024))m -XX:+AlwaysPreTouch \
				-Djdk.lang.Process.launchMechanism=$mech -cp "$DATA" B "$COUNT"
		done
	else
		echo "| java ($g GiB) | skipped: javac not installed | | | | |"
	fi
	# CPython: 3.9 forks for every spawn (bullseye's, in its userland);
	# 3.10 and later vfork unless given user/group/extra_groups or
	# preexec_fn; uvloop's libuv forks (declined: its fork handler)
	py_rss="re.search(r'VmRSS:\\s*(\\d+)', open('/proc/self/status').read())[1]"
	py_run="import re, subprocess, time; b = b'x' * $bytes; subprocess.run(['/bin/true']); t = time.monotonic()
for _ in range($COUNT): subprocess.run(['/bin/true'])
print((time.monotonic() - t) * 1000 / $COUNT, $py_rss)"
	bench_in bullseye "python 3.9 subprocess.run ($g GiB)" python3.9 "$py_run"
	if [ "$(id -u)" = 0 ]; then
		bench "python $(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])') subprocess.run(user=) ($g GiB)" /usr/bin/python3 -c "
import re, subprocess, time; b = b'x' * $bytes; subprocess.run(['/bin/true'], user=0); t = time.monotonic()
for _ in range($COUNT): subprocess.run(['/bin/true'], user=0)
print((time.monotonic() - t) * 1000 / $COUNT, $py_rss)"
	fi
	if /usr/bin/python3 -c 'import uvloop' 2>/dev/null; then
		bench "python uvloop subprocess ($g GiB)" /usr/bin/python3 -c "
import asyncio, re, time, uvloop
async def one():
    p = await asyncio.create_subprocess_exec('/bin/true'); await p.wait()
async def main():
    b = b'x' * $bytes; await one(); t = time.monotonic()
    for _ in range($COUNT): await one()
    print((time.monotonic() - t) * 1000 / $COUNT, $py_rss)
uvloop.install(); asyncio.run(main())"
	else
		echo "| python uvloop ($g GiB) | skipped: python3-uvloop not installed | | | | |"
	fi
	[ "$g" = "$first" ] || continue
	bench "python $(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])') subprocess.run, vfork ($g GiB)" /usr/bin/python3 -c "$py_run"
done
echo
echo "Node's spawns are rerouted: libuv's child is given a copy of its options without env, so"
echo "it never writes environ (shim/engine/runtimes/rt_libuv.c). Java's FORK mode is declined: its child assigns"
echo "environ, which every thread reads, and the JVM always runs other threads (docs/sites.md);"
echo "its forks stay real, \"declined: threads\" above."
echo
echo "uvloop's spawns are declined too: uvloop does part of every child's work in a fork"
echo "handler (PyOS_AfterFork_Child, preexec_fn, closing its error pipe), which a rerouted"
echo "fork would skip (docs/sites.md); \"declined: atfork\" above."
echo
echo "CPython 3.10+'s plain subprocess.run already uses vfork and Java's POSIX_SPAWN mode"
echo "glibc's posix_spawn: neither copies the page tables, so the shim leaves them alone"
echo "(no rerouted forks); they are the peers to match, measured at $first GiB only (their cost"
echo "does not grow with memory: see glibc posix_spawn in the first table). Their \"with\" column"
echo "is the cost of the children loading the library."
echo

big=$(awk '{ print $1 }' "$DATA/runtimes.dat" | sort -n | tail -n 1)
echo "Targets (the runtimes whose spawns are rerouted):"
for t in "ruby system:100" "perl system:100" "python 3.9 subprocess.run:50"; do
	r=${t%:*} want=${t##*:}
	line=$(grep "^$big $r (" "$DATA/runtimes.dat" || true)
	[ -n "$line" ] || { verdict 0 "$r at $big GiB: not run"; continue; }
	read -r a b <<<"${line#*|}"
	x=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", a / b }')
	verdict "$(awk -v x="$x" -v w="$want" 'BEGIN { print (x >= w) }')" "$r at $big GiB: ${x}x faster with the shim (target >= ${want}x)"
done
# Node: with the shim, a spawn from a Node holding G GiB costs at most
# 1.2x the same Node's spawn holding nothing without it (its floor,
# measured above in this run): the parent's size no longer matters
for nd in "${nodes[@]}"; do
	for call in "${NODE_CALLS[@]}"; do
		r="${nd%%|*} ${call%%(*}"
		floor=$(grep -F "0 $r|" "$DATA/runtimes.dat" | head -n 1 | sed 's/.*|\([^ ]*\) .*/\1/')
		[ -n "$floor" ] || continue
		for g in $SIZES; do
			line=$(grep -F "$g $r ($g GiB)|" "$DATA/runtimes.dat" || true)
			[ -n "$line" ] || { verdict 0 "$r at $g GiB: not run"; continue; }
			read -r a b <<<"${line#*|}"
			x=$(awk -v b="$b" -v f="$floor" 'BEGIN { printf "%.2f", b / f }')
			verdict "$(awk -v x="$x" 'BEGIN { print (x <= 1.2) }')" "$r at $g GiB with the shim: $(printf '%.2f' "$b") ms, ${x}x its floor at 0 GiB without ($(printf '%.2f' "$floor") ms; target <= 1.2x); $(printf '%.1f' "$a") ms without"
		done
	done
done
line=$(grep "^$big python uvloop" "$DATA/runtimes.dat" || true)
if [ -n "$line" ]; then
	read -r a b <<<"${line#*|}"
	verdict 0 "python uvloop subprocess at $big GiB: $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", a / b }')x (target >= 20x): declined, not sound to reroute (docs/sites.md)"
fi
