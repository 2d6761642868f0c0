#!/bin/bash
# Cost against parent memory (issue: benchmarks, part 1).
#   scripts/bench/memory.sh [COUNT [GIB...]]     (make bench-memory)
# One process per size holds GIB GiB of touched memory (default sizes
# 0 1 2 4 8 16; a size that does not fit in MemAvailable with 2 GiB to
# spare is skipped and said so) and spawns /bin/true COUNT times (default
# 200) by every method, interleaved: see spawn_cost.c. It runs preloaded
# with VFORKSHIM_FORK=all and VFORKSHIM_SPAWN=always, so that the
# program's fork/posix_spawn/system/popen are the shim's and libc's are
# called by address; the stats line must show every call rerouted.
source "$(dirname "$0")/common.sh"
COUNT=${1:-200}
shift || true
SIZES=${*:-0 1 2 4 8 16}
REPRODUCE="scripts/bench/memory.sh $COUNT $SIZES"
methods=(libc_fork fork vfork libc_posix_spawn posix_spawn libc_system system libc_popen popen)
names=("real fork" "rerouted fork" "vfork (floor)" "glibc posix_spawn" "shim posix_spawn"
	"glibc system" "shim system" "glibc popen" "shim popen")

header "Spawn cost against parent memory: median ms (p99) per spawn of /bin/true, $COUNT per method"
printf '| GiB |'; printf ' %s |' "${names[@]}"; echo
printf '|---|'; printf -- '---|%.0s' "${names[@]}"; echo
: > "$DATA/memory.dat"
skipped=""
for g in $SIZES; do
	if ! fits "$g"; then skipped="$skipped $g"; continue; fi
	out=$DATA/memory-$g.txt
	rm -f "$DATA/stats.log"
	VFORKSHIM_FORK=all VFORKSHIM_SPAWN=always shim "$BENCH/spawn_cost" "$g" "$COUNT" >"$out"
	rerouted=$(last_stat fork_rerouted) engine=$(last_stat spawn_engine)
	if [ "$rerouted" != $((COUNT + 1)) ] || [ "$engine" != $((3 * (COUNT + 1))) ]; then
		echo "memory.sh: at $g GiB the shim rerouted $rerouted forks and ran $engine spawns on its engine;" \
			"expected $((COUNT + 1)) and $((3 * (COUNT + 1)))" >&2
		exit 1
	fi
	printf '| %s |' "$g"
	line="$g"
	for m in "${methods[@]}"; do
		printf ' %.2f (%.2f) |' "$(field "$out" "$m" 2)" "$(field "$out" "$m" 3)"
		line="$line $(field "$out" "$m" 2)"
	done
	echo
	echo "$line" >>"$DATA/memory.dat"
done
echo
[ -z "$skipped" ] || echo "Skipped (not enough free memory here):$skipped GiB."
[ -s "$DATA/memory.dat" ] || { echo "memory.sh: no size fitted" >&2; exit 1; }
echo "Every run's stats line: every fork rerouted, every posix_spawn/system/popen on the engine."
echo

# Targets, at the largest size run and at every size.
big=$(tail -n 1 "$DATA/memory.dat")
read -r g real rer vf gps sps gsys ssys gpop spop <<<"$big"
echo "Targets:"
r=$(ratio "$rer" "$vf")
verdict "$(awk -v r="$r" 'BEGIN { print (r <= 1.2) }')" "rerouted fork / vfork at $g GiB: ${r}x (target <= 1.2x)"
r=$(awk -v a="$real" -v b="$rer" 'BEGIN { printf "%.0f", a / b }')
verdict "$(awk -v r="$r" 'BEGIN { print (r >= 300) }')" "real fork / rerouted fork at $g GiB: ${r}x (target >= 300x)"
worst=$(awk '{ m = 0
	for (i = 0; i < 4; i++) { a = i == 0 ? $3 : $(4 + 2 * i); b = i == 0 ? $5 : $(3 + 2 * i)
		if (a / b > m) { m = a / b; w = i } }
	split("rerouted fork:glibc posix_spawn,shim posix_spawn:glibc posix_spawn,shim system:glibc system,shim popen:glibc popen", n, ",")
	if (m > worst) { worst = m; at = $1; what = n[w + 1] } }
	END { split(what, p, ":"); printf "%.2f %s %s / %s", worst, at, p[1], p[2] }' "$DATA/memory.dat")
read -r r at what <<<"$worst"
verdict "$(awk -v r="$r" 'BEGIN { print (r <= 1.1) }')" \
	"shim against glibc, like for like, worst over every size: $what at $at GiB: ${r}x (target <= 1.1x)"
