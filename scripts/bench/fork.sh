#!/bin/bash
# The rerouted fork's cost, side by side (issue: rerouted fork).
#   scripts/bench/fork.sh [BIG_GIB [COUNT]]      (make bench-fork)
# 1. A process holding 0 GiB and one holding BIG_GIB (default 4) spawn
#    /bin/true COUNT times per method, interleaved: the shim's rerouted
#    fork (VFORKSHIM_FORK=all), libc's fork, libc's vfork (the floor).
# 2. A small process whose fork the shim declines (VFORKSHIM_FORK=sites,
#    no site in main: the stack is walked, then the real fork): against
#    libc's fork called directly in the same process.
set -eu
cd "$(dirname "$0")/../.."
BIG=${1:-4}
COUNT=${2:-200}
prog=build/bench/fork_cost
lib=$PWD/build/libvforkshim.so
[ -x "$prog" ] && [ -e "$lib" ] || make -s "$prog" "$lib"
run() { env VFORKSHIM=1 VFORKSHIM_STATS=1 LD_PRELOAD="$lib" "$@"; }
field() { awk -v m="$1" -v c="$2" '$1 == m { print $c }' <<<"$3"; }

echo "vforkshim bench: rerouted fork ($(date -u +%F), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB," \
	"kernel $(uname -r), $(getconf GNU_LIBC_VERSION))"
echo "reproduce: scripts/bench/fork.sh $BIG $COUNT"
small=$(VFORKSHIM_FORK=all run "$prog" 0 "$COUNT" 2>/dev/null)
big=$(VFORKSHIM_FORK=all run "$prog" "$BIG" "$((COUNT / 4 > 20 ? COUNT / 4 : 20))" 2>/dev/null)
printf '\n%-28s %12s %12s\n' "fork+exec of /bin/true" "0 GiB (ms)" "$BIG GiB (ms)"
for m in fork libc vfork; do
	case $m in fork) name="rerouted (shim, fork=all)" ;; libc) name="real fork (libc)" ;; vfork) name="vfork (libc, the floor)" ;; esac
	printf '%-28s %12.3f %12.3f\n' "$name" "$(field $m 2 "$small")" "$(field $m 2 "$big")"
done
awk -v r0="$(field fork 2 "$small")" -v rb="$(field fork 2 "$big")" -v lb="$(field libc 2 "$big")" \
	-v vb="$(field vfork 2 "$big")" -v g="$BIG" 'BEGIN {
	printf "\nrerouted at %d GiB / rerouted at 0 GiB: %.2fx (target <= 1.5x)\n", g, rb / r0
	printf "real fork at %d GiB / rerouted at %d GiB: %.0fx (target >= 100x)\n", g, g, lb / rb
	printf "rerouted / vfork at %d GiB: %.2fx\n", g, rb / vb }'

declined=$(VFORKSHIM_FORK=sites run "$prog" 0 "$COUNT" 2>/dev/null)
awk -v d="$(field fork 2 "$declined")" -v l="$(field libc 2 "$declined")" 'BEGIN {
	printf "\ndeclined fork (shim, fork=sites, no site): %.3f ms; libc fork, same process: %.3f ms: %+.1f%% (target <= 5%%)\n",
		d, l, (d / l - 1) * 100 }'
