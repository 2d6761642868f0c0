#!/bin/bash
# The libFuzzer targets, each for SECONDS (make check: 10, make
# check-reliability: 120). Each starts from the seeds in tests/fuzz/seeds
# and the corpus the earlier runs grew in $B/fuzz (git-ignored). A
# failing input is saved there and printed; the run fails.
#   tests/fuzz/run.sh SECONDS
source "$(dirname "$0")/../lib.sh"
secs=${1:?usage: run.sh SECONDS}
F=$B/fuzz
for t in config sites; do
	corpus=$F/corpus-$t
	mkdir -p "$corpus"
	cp -n tests/fuzz/seeds/$t/* "$corpus"/
	# -close_fd_mask=2: the parsers' warning lines would flood stderr;
	# a failure is still reported (libFuzzer writes it before exiting)
	timeout -k 10 $((secs + 60)) "$F/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-close_fd_mask=2 -print_final_stats=1 -artifact_prefix="$F/crash-$t-" \
		"$corpus" > "$LOGS/fuzz-$t.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOGS/fuzz-$t.log")
	size=$(ls "$corpus" | wc -l)
	check "fuzz $t: ${runs:-0} inputs in $secs s, corpus of $size, every one accepted safely (exit $rc)" \
		test "$rc" = 0 -a -n "$runs"
	if [ "$rc" != 0 ]; then # the target's own message: the input again, stderr open
		tail -n 20 "$LOGS/fuzz-$t.log"
		for c in "$F"/crash-$t-*; do [ -e "$c" ] && echo "$c:" && "$F/fuzz_$t" "$c" 2>&1 | tail -n 15; done
	fi
	echo "fuzz $t inputs=${runs:-0} seconds=$secs corpus=$size" >> "${FIGURES:-/dev/null}"
done
summary fuzz
