#!/bin/bash
# make check-peers: other people's process test suites, without the shim
# and under it, compared test by test.
#   tests/peers/run.sh [SUITE...]        default: every suite below
# Each suite (tests/peers/<suite>.sh) defines <suite>_prepare (fetch from
# Debian's archive and build, cached under .cache/peers) and <suite>_run
# OUT (run the tests with the environment of the mode exported, write
# OUT/results as "test status" lines, status pass, fail or skip). Modes:
#   base    no shim
#   sites   VFORKSHIM=1, defaults (fork=sites, spawn=auto)
#   always  VFORKSHIM=1 VFORKSHIM_SPAWN=always
#   all     VFORKSHIM=1 VFORKSHIM_FORK=all, only for suites whose forks
#           all exec (<suite>_all=yes); reported, explained in
#           docs/COMPATIBILITY.md, never a failure
# Passes when every suite's sites and always results equal its base
# results test for test, every base failure is in tests/peers/allow-list
# with a reason, and the rerouting each suite claims happened.
set -u
cd "$(dirname "$0")/../.."
export LC_ALL=C
TOP=$PWD
LIB=$TOP/build/libvforkshim.so
PEERS=$TOP/.cache/peers
OUTS=$TOP/build/peers
mkdir -p "$PEERS" "$OUTS"
. tests/peers/common.sh
for f in tests/peers/*.sh; do # the suites: functions only
	case $f in */run.sh | */common.sh) ;; *) . "$f" ;; esac
done

suites=${*:-perl python ruby rubyuser node glibc jdk}
status=0
rows=()
for s in $suites; do
	echo "== $s: prepare"
	if ! "${s}_prepare"; then
		rows+=("$(printf '| %s | not prepared: see the log | | | | | |' "$s")")
		status=1
		continue
	fi
	modes=$(eval echo "\${${s}_modes:-base sites always}")
	[ "$(eval echo "\${${s}_all:-no}")" = yes ] && modes="$modes all"
	for m in $modes; do
		echo "== $s: $m"
		run_mode "$s" "$m" || true
	done
	verdict "$s" "$modes" || status=1
	rows+=("$(row "$s" "$modes")")
done

table "${rows[@]}" | tee "$OUTS/table.md"
# the document carries the table of a whole run, not of a few suites
[ $# = 0 ] && write_compatibility "$OUTS/table.md"
[ $status = 0 ] && echo "check-peers: all passed" || echo "check-peers: FAILED"
exit $status
