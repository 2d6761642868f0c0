#!/bin/bash
# ENOMEM under strict overcommit (issue: benchmarks, part 5).
#   scripts/bench/enomem.sh --strict-overcommit     (make bench-enomem STRICT_OVERCOMMIT=1)
# Sets vm.overcommit_memory=2 for the length of the run, so it runs only
# as root and only when asked with --strict-overcommit; the old value is
# put back on every exit path the shell sees (normal end, error, INT,
# TERM, HUP; not SIGKILL). A process holding more than half the commit
# limit then spawns /bin/true: by libc's fork (which must commit a
# second copy and fails with ENOMEM), by the shim's rerouted fork
# (VFORKSHIM_FORK=all) and by glibc's posix_spawn. Perl, holding as
# much, calls system() without and with the shim.
source "$(dirname "$0")/common.sh"
REPRODUCE="scripts/bench/enomem.sh --strict-overcommit"
header "ENOMEM under strict overcommit (vm.overcommit_memory=2)"
if [ "${1:-}" != --strict-overcommit ] || [ "$(id -u)" != 0 ]; then
	echo "Not run: it needs root and --strict-overcommit, because it sets vm.overcommit_memory=2"
	echo "for the length of the run (restored on exit)."
	exit 0
fi
knob=/proc/sys/vm/overcommit_memory
old=$(cat "$knob")
restore() { echo "$old" > "$knob"; }
trap 'restore; [ -n "${BENCH_DATA:-}" ] || rm -rf "$DATA"' EXIT
trap 'restore; exit 130' INT
trap 'restore; exit 143' TERM
trap 'restore; exit 129' HUP
echo 2 > "$knob"
kib() { awk -v k="$1" '$1 == k":" { print $2 }' /proc/meminfo; }
limit=$(kib CommitLimit) committed=$(kib Committed_AS)
# more than half the commit limit: a fork must commit as much again
gib=$(( limit / 2 / 1048576 + 1 ))
if [ $(( (gib + 1) * 1048576 + committed )) -gt "$limit" ]; then
	echo "Not run: $gib GiB, more than half the commit limit, cannot be committed here now."
	exit 0
fi
awk -v l="$limit" -v c="$committed" -v g="$gib" 'BEGIN {
	printf "Commit limit %.1f GiB, committed before the run %.1f GiB; the process holds %d GiB.\n\n", l / 1048576, c / 1048576, g }'
rm -f "$DATA/stats.log"
out=$(VFORKSHIM_FORK=all shim "$BENCH/enomem" "$gib")
echo "| spawn of /bin/true | result |"
echo "|---|---|"
echo "| real fork (libc) | $(field <(echo "$out") libc_fork 2) |"
echo "| rerouted fork (shim, fork=all) | $(field <(echo "$out") fork 2) |"
echo "| glibc posix_spawn | $(field <(echo "$out") libc_posix_spawn 2) |"
perl_system() {
	"$@" perl -e "my \$s = 'x'; \$s x= $gib << 30; my \$r = system('/bin/true');
		print \$r == 0 ? qq{ok\n} : qq{failed: \$!\n}" 2>/dev/null || echo "perl itself failed"
}
echo "| perl system() without the shim | $(perl_system env) |"
echo "| perl system() with the shim (defaults) | $(perl_system shim) |"
echo
ok=$([ "$(field <(echo "$out") libc_fork 2)" = ENOMEM ] && [ "$(field <(echo "$out") fork 2)" = ok ] && echo 1 || echo 0)
verdict "$ok" "real fork fails with ENOMEM, the rerouted fork spawns"
