#!/bin/bash
# make demo: what a user gets, the defaults (VFORKSHIM=1 and nothing
# else), in a process holding GIB GiB (default 2): per method, ms per
# spawn of /bin/true without and with the shim and what the shim did
# (read from its stats line); then each runtime installed here.
set -eu
cd "$(dirname "$0")/../.."
GIB=${GIB:-2}
COUNT=${COUNT:-20}
prog=build/demo/spawn_cost
lib=$PWD/build/libvforkshim.so
stats=build/demo/stats
# a missing program would print zeros and blank counts, not fail: say it
[ -x "$prog" ] && [ -e "$lib" ] || { echo "demo: $prog or $lib missing: run make demo" >&2; exit 2; }
echo "vforkshim demo: $GIB GiB resident, $COUNT spawns of /bin/true per method, the default"
echo "configuration (VFORKSHIM=1 only); $(nproc) cores, $(getconf GNU_LIBC_VERSION), kernel $(uname -r)"
echo
st() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$stats" | tail -n 1; }
line() { # METHOD WITHOUT WITH INSTRUCTIONS WHAT: a slower "with" says why
	awk -v m="$1" -v a="$2" -v b="$3" -v i="$4" -v w="$5" 'BEGIN {
		if (b + 0 > a + 0 && w !~ /library/)
			w = w "; slower with: at this size a spawn costs little, the difference is the library loaded in the child and noise"
		printf "%-42s %8.2f %8.2f %7.1fx %7s  %s\n", m, a, b, (b > 0 ? a / b : 0), i, w }'
}
# Instructions the spawning process runs in the call itself (callgrind,
# children not traced), with the library over without: at parity for a
# call passed to glibc, where the time alone is noise at this size
insns() { # METHOD [PRELOAD]: instructions in 5 calls (spawn_cost's via_METHOD)
	local f
	f=$(mktemp)
	env ${2:+VFORKSHIM=1 LD_PRELOAD=$2} valgrind --tool=callgrind --callgrind-out-file="$f" \
		--toggle-collect="via_${1/+/_}" "$prog" 0 5 "$1" > /dev/null 2>&1
	callgrind_annotate "$f" 2> /dev/null | awk '/PROGRAM TOTALS/ { gsub(/,/, "", $1); print $1 }'
	rm -f "$f"
}
ratio() { # METHOD: with/without, or n/a without valgrind
	command -v valgrind > /dev/null || { echo n/a; return; }
	awk -v a="$(insns "$1")" -v b="$(insns "$1" "$lib")" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", b / a; else print "n/a" }'
}
echo "Timed with VFORKSHIM=1 alone, what users run; what the shim did is read from a second run"
echo "with VFORKSHIM_STATS=1 (which loads the engine for its counts). insns: the instructions the"
echo "spawning process runs in the call, with the library over without (callgrind, 5 calls)."
echo
printf '%-42s %8s %8s %8s %7s  %s\n' "" without with "" insns "what the shim did"
for m in system popen posix_spawn fork+exec; do
	a=$("$prog" "$GIB" "$COUNT" "$m" | awk '{ print $2 }')
	b=$(VFORKSHIM=1 LD_PRELOAD="$lib" "$prog" "$GIB" "$COUNT" "$m" | awk '{ print $2 }')
	VFORKSHIM=1 VFORKSHIM_STATS=1 LD_PRELOAD="$lib" "$prog" 0 2 "$m" > /dev/null 2> "$stats"
	i=$(ratio "$m")
	if [ "$(st spawn_libc)" -gt 0 ] 2>/dev/null; then
		what="passed to glibc, which spawns without copying (the engine is not even loaded here)"
	elif [ "$(st spawn_engine)" -gt 0 ] 2>/dev/null; then
		what="run on the shim's engine: this glibc copies"
	elif [ "$(st fork_rerouted)" -gt 0 ] 2>/dev/null; then
		what="rerouted"
	else
		what="a real fork: no known site called it (the default reroutes only known sites)"
	fi
	line "$m" "$a" "$b" "$i" "$what"
done
# a program's own exec-bound function, named the way a user names theirs
a=$("$prog" "$GIB" "$COUNT" fork+exec | awk '{ print $2 }')
b=$(VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_SITES=via_fork_exec LD_PRELOAD="$lib" "$prog" "$GIB" "$COUNT" fork+exec 2> "$stats" | awk '{ print $2 }')
what="rerouted $(st fork_rerouted) of $((COUNT + 1)) (its child only execs: docs/sites.md says how to check)"
line "fork+exec, VFORKSHIM_SITES=via_fork_exec" "$a" "$b" "" "$what"
echo
echo "runtimes installed here, ms per spawn at $GIB GiB without / with, and what the shim did:"
# a spawn the shim left alone costs what the children's loading of the
# library costs, and this machine's noise: a slower "with" says so
tests/userland/runtimes.sh here "$GIB" "$COUNT" |
	awk -F'|' 'function t(x) { gsub(/^ +| +$/, "", x); return x }
		{ split(t($6), ms, " / "); why = t($5)
		  if (ms[2] + 0 > ms[1] + 0) why = why (why ~ /^rerouted/ ? "; slower with: at this size a spawn costs little, the difference is the library loaded in the child and noise" : "; slower with: the children load the library, nothing else changed")
		  printf "  %-26s %-24s %16s  %s\n", t($3), t($4), t($6), why }'
echo
echo "reproduce: make demo GIB=$GIB COUNT=$COUNT"
