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
# Where it comes from, counted rather than timed (no noise): what
# loading the library costs /bin/true, which can gain nothing (issue 23's
# targets). The installed front (make install into a scratch prefix),
# inert and with VFORKSHIM=1, against an empty library: extra
# instructions over /bin/true alone (callgrind) and extra minor page
# faults (getrusage of 400 children). Then a process that loads the
# engine (Perl: its marker is in libperl) for what the engine adds.
if command -v valgrind > /dev/null; then
	prefix=$DATA/prefix
	make -s -C "$ROOT" install PREFIX="$prefix" > /dev/null
	front=$prefix/lib/libvforkshim.so
	# ir PRELOAD ENV... -- CMD...: instructions of CMD
	ir() {
		local pre=$1 out
		shift
		out=$(mktemp)
		env ${pre:+LD_PRELOAD=$pre} "$@" valgrind --tool=callgrind --callgrind-out-file="$out" ${CMD[@]} > /dev/null 2>&1
		callgrind_annotate "$out" 2> /dev/null | awk '/PROGRAM TOTALS/ { gsub(/,/, "", $1); print $1 }'
		rm -f "$out"
	}
	flt() {
		local pre=$1
		shift
		env ${pre:+LD_PRELOAD=$pre} "$@" python3 -c '
import os, resource
for _ in range(400):
    os.waitpid(os.posix_spawn("/bin/true", ["/bin/true"], os.environ), 0)
print(round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt / 400, 2))' 2> /dev/null
	}
	CMD=(/bin/true)
	i_none=$(ir "") i_empty=$(ir "$BENCH/libempty.so") i_inert=$(ir "$front") i_on=$(ir "$front" VFORKSHIM=1)
	f_none=$(flt "") f_empty=$(flt "$BENCH/libempty.so") f_inert=$(flt "$front") f_on=$(flt "$front" VFORKSHIM=1)
	echo
	echo "Loading the library into /bin/true, which can gain nothing (the installed front; the engine"
	echo "is not loaded), counted: instructions by callgrind, minor page faults over 400 children:"
	echo
	echo "| /bin/true | instructions | extra | vs an empty library's extra | page faults | extra | vs empty |"
	echo "|---|---|---|---|---|---|---|"
	row() { # NAME IR FLT
		awk -v n="$1" -v i="$2" -v f="$3" -v i0="$i_none" -v f0="$f_none" -v ie="$i_empty" -v fe="$f_empty" 'BEGIN {
			printf "| %s | %d | %+d | %s | %.2f | %+.2f | %s |\n", n, i, i - i0,
				(n == "nothing" ? "" : sprintf("%.2fx", (i - i0) / (ie - i0))), f, f - f0,
				(n == "nothing" ? "" : sprintf("%+.2f", f - fe)) }'
	}
	row nothing "$i_none" "$f_none"
	row "an empty library" "$i_empty" "$f_empty"
	row "the front, inert (VFORKSHIM unset)" "$i_inert" "$f_inert"
	row "the front, VFORKSHIM=1" "$i_on" "$f_on"
	echo
	for c in inert on; do
		ic=$(eval echo "\$i_$c") fc=$(eval echo "\$f_$c")
		r=$(awk -v i="$ic" -v i0="$i_none" -v ie="$i_empty" 'BEGIN { printf "%.2f", (i - i0) / (ie - i0) }')
		d=$(awk -v f="$fc" -v fe="$f_empty" 'BEGIN { printf "%.2f", f - fe }')
		name=$([ $c = on ] && echo "VFORKSHIM=1" || echo "inert")
		verdict "$(awk -v r="$r" 'BEGIN { print (r <= 2) }')" \
			"/bin/true, the front $name: ${r}x an empty library's extra instructions (target at most 2x; moonshot 1.2x: $(awk -v r="$r" 'BEGIN { print (r <= 1.2 ? "met" : "not met") }'))"
		verdict "$(awk -v d="$d" 'BEGIN { print (d <= 3) }')" \
			"/bin/true, the front $name: $(printf '%+.2f' "$d") page faults over an empty library's (target at most +3)"
	done
	if command -v perl > /dev/null; then
		CMD=(perl -e 1)
		p_none=$(ir "") p_on=$(ir "$front" VFORKSHIM=1)
		echo
		echo "A process that loads the engine (perl -e 1, VFORKSHIM=1: libperl defines Perl_pp_system):"
		echo "$p_none instructions alone, $p_on with the front and the engine ($(awk -v a="$p_on" -v b="$p_none" 'BEGIN { printf "%+d", a - b }'))."
	fi
	echo
	echo "The front imports nothing but the loader's _r_debug (each import is a symbol lookup at every"
	echo "start, under -z now), finds each next definition in the loader's list at its first use instead"
	echo "of dlsym, and decides in its constructor whether to load the engine: see shim/front/decide.c."
	rm -rf "$prefix"
fi
