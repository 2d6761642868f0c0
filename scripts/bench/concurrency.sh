#!/bin/bash
# Concurrency, page tables and memory (issue: benchmarks, parts 3 and 6).
#   scripts/bench/concurrency.sh [MS [GIB [THREADS...]]]  (make bench-concurrency)
# One process holds GIB GiB (default 4) and, for each thread count
# (default 1 2 4 8), runs bursts of MS milliseconds (default 1000) in
# which that many threads spawn /bin/true back to back: the shim's
# rerouted fork, libc's fork and glibc's posix_spawn, one burst each in
# turn, three rounds (see burst.c). A sampler thread records the rise of
# the system's page tables and memory in use during each burst. The
# process runs preloaded with VFORKSHIM_FORK=all; the stats line must
# show every shim fork rerouted.
source "$(dirname "$0")/common.sh"
MS=${1:-1000}
GIB=${2:-4}
shift 2 || shift $# || true
THREADS=${*:-1 2 4 8}
REPRODUCE="scripts/bench/concurrency.sh $MS $GIB $THREADS"
fits "$GIB" || { echo "concurrency.sh: $GIB GiB does not fit here with 2 GiB to spare" >&2; exit 1; }
out=$DATA/burst.txt
rm -f "$DATA/stats.log"
VFORKSHIM_FORK=all shim "$BENCH/burst" "$GIB" "$MS" 3 "${THREADS// /,}" fork,libc_fork,libc_posix_spawn >"$out"
if [ "$(last_stat fork_real)" != 0 ] || [ "$(last_stat fork_rerouted)" -lt 1 ]; then
	echo "concurrency.sh: the shim's forks were not all rerouted: $(grep stats "$DATA/stats.log")" >&2
	exit 1
fi
# rate THREADS METHOD / peak THREADS METHOD COL
rate() { awk -v t="$1" -v m="$2" '$1 == t && $2 == m { print $3 }' "$out"; }
peak() { awk -v t="$1" -v m="$2" -v c="$3" '$1 == t && $2 == m { printf "%.1f", $c / 1024 }' "$out"; }

header "Concurrency: spawns of /bin/true per second from a process holding $GIB GiB, threads spawning at once"
echo "| threads | rerouted fork (shim) | real fork | glibc posix_spawn | shim / real fork | shim / posix_spawn |"
echo "|---|---|---|---|---|---|"
: > "$DATA/concurrency.dat"
for t in $THREADS; do
	a=$(rate "$t" fork) b=$(rate "$t" libc_fork) c=$(rate "$t" libc_posix_spawn)
	echo "| $t | $a | $b | $c | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0fx", a / b }') | $(ratio "$a" "$c")x |"
	echo "$t $a $b $c" >>"$DATA/concurrency.dat"
done
echo
echo "The machine has $(nproc) cores: beyond that, threads only queue."
echo
echo "Page tables and memory during the same bursts (the largest rise over a burst's start, MiB):"
echo
echo "| threads | system page tables: shim | real fork | posix_spawn | memory in use: shim | real fork | posix_spawn |"
echo "|---|---|---|---|---|---|---|"
for t in $THREADS; do
	echo "| $t | $(peak "$t" fork 4) | $(peak "$t" libc_fork 4) | $(peak "$t" libc_posix_spawn 4) |" \
		"$(peak "$t" fork 5) | $(peak "$t" libc_fork 5) | $(peak "$t" libc_posix_spawn 5) |"
done
read -r _ rss hwm pte < <(grep '^parent ' "$out")
echo
awk -v r="$rss" -v h="$hwm" -v p="$pte" -v g="$GIB" 'BEGIN {
	printf "The parent after every burst: VmRSS %.2f GiB, peak VmHWM %.2f GiB, its own page tables (VmPTE) %.1f MiB.\n", r / 1048576, h / 1048576, p / 1024
	printf "A real fork copies those %.1f MiB of page tables into each child for the moment between fork and exec;\n", p / 1024
	printf "the rerouted fork and posix_spawn copy none. Memory in use also moves with the rest of the machine: read it as an upper bound.\n" }'
