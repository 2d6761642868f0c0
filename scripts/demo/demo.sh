#!/bin/bash
# make demo: a process holding GIB GiB (default 2) spawns /bin/true 20
# times per method, without the shim and with it, side by side.
set -eu
cd "$(dirname "$0")/../.."
GIB=${GIB:-2}
COUNT=${COUNT:-20}
prog=build/demo/spawn_cost
lib=$PWD/build/libvforkshim.so
echo "vforkshim demo: $GIB GiB resident, $COUNT spawns of /bin/true per method"
echo "($(nproc) cores, $(getconf GNU_LIBC_VERSION), kernel $(uname -r))"
without=$("$prog" "$GIB" "$COUNT")
with=$(VFORKSHIM=1 VFORKSHIM_SPAWN=always VFORKSHIM_FORK=all VFORKSHIM_STATS=1 \
	LD_PRELOAD="$lib" "$prog" "$GIB" "$COUNT" 2>build/demo/stats)
printf '%-12s %14s %14s %9s\n' method "without (ms)" "with (ms)" speed-up
paste -d' ' <(echo "$without") <(echo "$with") |
	awk '{ printf "%-12s %14.3f %14.3f %8.1fx\n", $1, $2, $4, ($4 > 0 ? $2 / $4 : 0) }'
grep 'stats' build/demo/stats | tail -n 1 || true
echo "reproduce: make demo GIB=$GIB COUNT=$COUNT"
