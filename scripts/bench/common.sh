# Sourced by the benchmarks of scripts/bench/. Sets ROOT, LIB, BENCH
# (the built programs) and DATA (where a benchmark leaves the figures it
# plots: $BENCH_DATA when the report runs it, else a temporary folder).
set -eu
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LIB=$ROOT/build/libvforkshim.so
BENCH=$ROOT/build/bench
cd "$ROOT"
make -s build/libvforkshim.so build/bench/spawn_cost build/bench/burst build/bench/enomem build/bench/libempty.so >/dev/null
if [ -n "${BENCH_DATA:-}" ]; then
	DATA=$BENCH_DATA
	mkdir -p "$DATA"
else
	DATA=$(mktemp -d)
	trap 'rm -rf "$DATA"' EXIT
fi

# The line every table starts with: what it ran on, and when.
machine() {
	local mem
	mem=$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
	echo "$(date -u +%F), $(nproc) cores, $mem GiB, kernel $(uname -r), $(getconf GNU_LIBC_VERSION)"
}

# header TITLE: the title, the machine and the command that reproduces it
header() {
	echo "$1"
	echo
	echo "Measured $(machine)."
	echo "Reproduce: \`${REPRODUCE}\`"
	echo
}

# shim CMD...: CMD with the library preloaded and enabled; the stats
# line goes to $DATA/stats.log (appended)
shim() {
	env VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE="$DATA/stats.log" LD_PRELOAD="$LIB" "$@"
}

# last_stat KEY: KEY's value in the last stats line of $DATA/stats.log
last_stat() {
	grep 'vforkshim: stats' "$DATA/stats.log" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# fits GIB: whether a process can hold GIB GiB here with 2 GiB to spare
fits() {
	awk -v g="$1" '/MemAvailable/ { exit !($2 / 1048576 >= g + 2) }' /proc/meminfo
}

# field FILE KEY COL: column COL of the line of FILE whose first column is KEY
field() { awk -v k="$2" -v c="$3" '$1 == k { print $c; exit }' "$1"; }

# ratio A B: A / B with two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# verdict OK TEXT: a line saying whether a target is met
verdict() {
	if [ "$1" = 1 ]; then echo "- met: $2"; else echo "- **not met**: $2"; fi
}
