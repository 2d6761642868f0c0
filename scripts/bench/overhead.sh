#!/bin/bash
# Overhead where the shim does nothing useful (issue: benchmarks, part 4).
#   scripts/bench/overhead.sh [COUNT [ROUNDS]]     (make bench-overhead)
# A small process spawns COUNT times (default 200) per method (see
# spawn_cost.c), in four configurations, ROUNDS times (default 5), the
# configurations' order rotating:
#   none     no LD_PRELOAD
#   inert    the shim preloaded, VFORKSHIM unset
#   enabled  VFORKSHIM=1 with the defaults: fork=sites declines a fork
#            from main (no site), spawn=auto passes posix_spawn, system
#            and popen to glibc 2.36, which never copies
#   empty    an empty library preloaded: the control for "inherit"
# The figure of a configuration is the median over rounds of each run's
# median. Every method but "inherit" gives its child an empty
# environment, so the child does not load the shim: that is the cost in
# the spawning process. "inherit" passes the environment on, as a
# preloaded service does, so /bin/true loads the library too.
source "$(dirname "$0")/common.sh"
COUNT=${1:-200}
ROUNDS=${2:-5}
REPRODUCE="scripts/bench/overhead.sh $COUNT $ROUNDS"
methods=fork_exit,libc_fork_exit,fork,libc_fork,posix_spawn,libc_posix_spawn,system,libc_system,popen,libc_popen,inherit
configs=(none inert enabled empty)
run() {
	case $1 in
	none) "$BENCH/spawn_cost" 0 "$COUNT" "$methods" ;;
	inert) env LD_PRELOAD="$LIB" "$BENCH/spawn_cost" 0 "$COUNT" "$methods" ;;
	enabled) env VFORKSHIM=1 LD_PRELOAD="$LIB" "$BENCH/spawn_cost" 0 "$COUNT" "$methods" ;;
	empty) env LD_PRELOAD="$BENCH/libempty.so" "$BENCH/spawn_cost" 0 "$COUNT" "$methods" ;;
	esac
}
for ((r = 0; r < ROUNDS; r++)); do
	for ((j = 0; j < ${#configs[@]}; j++)); do
		c=${configs[(r + j) % ${#configs[@]}]}
		run "$c" | sed "s/^/$c $r /" >>"$DATA/overhead.raw"
	done
done
# med CONFIG METHOD: the median over rounds of the runs' medians
med() { awk -v c="$1" -v m="$2" '$1 == c && $3 == m { print $4 }' "$DATA/overhead.raw" | sort -n |
	awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f%%", (a / b - 1) * 100 }'; }

header "Overhead in a small process: median ms per call ($ROUNDS rounds of $COUNT)"
echo "Against no shim: separate processes, so machine noise of a few per cent shows. Against libc in the"
echo "same process: the shim's function and libc's own, interleaved: the cost of the call path alone."
echo
echo "| call | no shim | inert | vs no shim | vs libc, same process | enabled (declined or passed to glibc) | vs no shim | vs libc, same process |"
echo "|---|---|---|---|---|---|---|---|"
declare -A name=([fork_exit]="fork, child _exits (not exec-bound)" [fork]="fork + exec" [posix_spawn]="posix_spawn"
	[system]="system" [popen]="popen + pclose")
worst_inert=0 worst_enabled=0
# worse W A B: the larger of W and the change from B to A, in per cent
worse() { awk -v w="$1" -v a="$2" -v b="$3" 'BEGIN { x = (a / b - 1) * 100; print (x > w ? x : w) }'; }
for m in fork_exit fork posix_spawn system popen; do
	n=$(med none "$m") i=$(med inert "$m") il=$(med inert "libc_$m") e=$(med enabled "$m") el=$(med enabled "libc_$m")
	echo "| ${name[$m]} | $n | $i | $(pct "$i" "$n") | $(pct "$i" "$il") | $e | $(pct "$e" "$n") | $(pct "$e" "$el") |"
	worst_inert=$(worse "$worst_inert" "$i" "$n")
	worst_enabled=$(worse "$worst_enabled" "$e" "$n")
done
echo
echo "Targets (against no shim, the spawning process's own cost):"
verdict "$(awk -v w="$worst_inert" 'BEGIN { print (w <= 3) }')" \
	"inert, worst call: $(printf '%+.1f' "$worst_inert")% (target within 3%)"
verdict "$(awk -v w="$worst_enabled" 'BEGIN { print (w <= 5) }')" \
	"declined or passed through, worst call: $(printf '%+.1f' "$worst_enabled")% (target within 5%)"
echo
n=$(med none inherit) i=$(med inert inherit) e=$(med enabled inherit) y=$(med empty inherit)
echo "A child that inherits LD_PRELOAD loads the library too. posix_spawn of /bin/true that passes the"
echo "environment on: no shim $n ms, inert $i ms ($(pct "$i" "$n")), enabled $e ms ($(pct "$e" "$n")),"
echo "an empty library $y ms ($(pct "$y" "$n")). That is the dynamic loader's cost and the page faults of"
echo "the library's first use in each new program, not a call through the shim."
echo
# The load cost itself (issue 18): what loading the library adds to an
# exec'd child, against what an empty library adds.
load=$(awk -v e="$e" -v y="$y" -v n="$n" 'BEGIN { if (y - n > 0) printf "%.1f", (e - n) / (y - n); else print "n/a" }')
verdict "$(awk -v l="$load" 'BEGIN { print (l != "n/a" && l <= 1.2) }')" \
	"the load cost in each exec'd child, enabled: +$(awk -v a="$e" -v b="$n" 'BEGIN { printf "%.3f", a - b }') ms against +$(awk -v a="$y" -v b="$n" 'BEGIN { printf "%.3f", a - b }') ms for an empty library, ${load}x (target within 1.2x)"
# Where it comes from, counted rather than timed (no noise): the
# instructions the child runs and the page faults it takes, per config.
if command -v valgrind > /dev/null; then
	echo
	echo "Counted in /bin/true itself (valgrind --tool=callgrind, instructions; /proc page faults by getrusage):"
	echo
	echo "| /bin/true | instructions | of which relocation | of which our start-up | minor page faults |"
	echo "|---|---|---|---|---|"
	for c in none empty enabled; do
		case $c in
		none) pre= ;;
		empty) pre=$BENCH/libempty.so ;;
		enabled) pre=$LIB ;;
		esac
		out=$(mktemp)
		env ${pre:+LD_PRELOAD=$pre} VFORKSHIM=1 valgrind --tool=callgrind --callgrind-out-file="$out" /bin/true 2>/dev/null
		ir=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(/,/, "", $1); print $1 }')
		rel=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null | awk '/:_dl_relocate_object / { gsub(/,/, "", $1); print $1; exit }')
		init=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null | awk '/:shim_init |:init_once_fn / { gsub(/,/, "", $1); print $1; exit }')
		rm -f "$out"
		flt=$(env ${pre:+LD_PRELOAD=$pre} VFORKSHIM=1 python3 -c '
import os, resource, sys
for _ in range(200):
    os.waitpid(os.posix_spawn("/bin/true", ["/bin/true"], os.environ), 0)
print(round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt / 200, 1))' 2>/dev/null)
		echo "| $c | ${ir:-?} | ${rel:-?} | ${init:-0} | ${flt:-?} |"
	done
	echo
	echo "The relocation column is the loader binding every function the library imports at load"
	echo "(-z now): kept, because a function bound lazily on its first call could be bound inside a"
	echo "rerouted child, running the loader's lookup in memory the parent shares. Our start-up resolves"
	echo "the next definition of each interposed function with dlsym(RTLD_NEXT) at once, for the same reason."
fi
