# Shared by tests/peers/run.sh and the suites (sourced).

# The environment of a mode, as assignments.
mode_env() {
	case $1 in
	base) ;;
	sites) echo "LD_PRELOAD=$LIB VFORKSHIM=1" ;;
	always) echo "LD_PRELOAD=$LIB VFORKSHIM=1 VFORKSHIM_SPAWN=always" ;;
	all) echo "LD_PRELOAD=$LIB VFORKSHIM=1 VFORKSHIM_FORK=all" ;;
	esac
}

# run_mode SUITE MODE: runs the suite in a subshell with the mode's
# variables exported; stats lines of every process go to OUT/stats.log.
run_mode() {
	local s=$1 m=$2 out=$OUTS/$1/$2
	rm -rf "$out"
	mkdir -p "$out"
	: > "$out/stats.log"
	chmod 666 "$out/stats.log" # a suite may run tests as another user
	local t0=$SECONDS
	(
		for a in $(mode_env "$m"); do export "${a?}"; done
		if [ "$m" != base ]; then
			export VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE=$out/stats.log
		fi
		export PEER_MODE=$m PEER_ENV="$(mode_env "$m")"
		"${s}_run" "$out" > "$out/log" 2>&1
	)
	echo $((SECONDS - t0)) > "$out/seconds"
	touch "$out/results"
	echo "   $(counts "$out") in $(cat "$out/seconds") s; $(stats_sum "$out" fork_rerouted) forks rerouted," \
		"$(stats_sum "$out" spawn_engine) spawns on the engine"
}

counts() { # OUT: "run pass/fail/skip"
	awk '{ n++; c[$2]++ } END { printf "%d %d/%d/%d", n, c["pass"], c["fail"], c["skip"] }' "$1/results"
}

stats_sum() { # OUT KEY: the key summed over every stats line
	grep -o " $2=[0-9]*" "$1/stats.log" 2>/dev/null | awk -F= '{ s += $2 } END { print s + 0 }'
}

# verdict SUITE MODES: sites and always must equal base test for test;
# base failures must be allow-listed; the suite's own claims
# (<suite>_claim MODE OUT, optional) must hold.
verdict() {
	local s=$1 ok=0 m
	local base=$OUTS/$s/base/results
	if [ ! -s "$base" ]; then
		echo "FAIL: $s: no results at baseline"
		return 1
	fi
	while read -r t st; do
		[ "$st" = fail ] || continue
		if ! grep -q "^$s $t " tests/peers/allow-list; then
			echo "FAIL: $s: $t fails at baseline and is not in tests/peers/allow-list"
			ok=1
		fi
	done < "$base"
	for m in sites always; do
		[[ " $2 " == *" $m "* ]] || continue
		if ! diff <(sort "$base") <(sort "$OUTS/$s/$m/results") > "$OUTS/$s/$m/diff"; then
			echo "FAIL: $s: $m differs from base:"
			sed 's/^/    /' "$OUTS/$s/$m/diff" | head -n 20
			ok=1
		fi
		if declare -F "${s}_claim" >/dev/null && ! "${s}_claim" "$m" "$OUTS/$s/$m"; then
			ok=1
		fi
	done
	if [[ " $2 " == *" all "* ]] && ! diff <(sort "$base") <(sort "$OUTS/$s/all/results") > "$OUTS/$s/all/diff"; then
		echo "note: $s: fork=all differs from base (docs/COMPATIBILITY.md explains):"
		sed 's/^/    /' "$OUTS/$s/all/diff" | head -n 20
	fi
	[ $ok = 0 ] && echo "ok: $s: identical results in sites and always modes"
	return $ok
}

row() { # SUITE MODES: one table row
	local s=$1 cells="" m
	for m in base sites always all; do
		if [[ " $2 " == *" $m "* ]]; then
			local c
			c=$(counts "$OUTS/$s/$m")
			cells="$cells | ${c#* }"
		else
			cells="$cells | —"
		fi
	done
	local run
	run=$(counts "$OUTS/$s/base")
	printf '| %s | %s%s | %s | %s |' "$s" "${run%% *}" "$cells" \
		"$(stats_sum "$OUTS/$s/sites" fork_rerouted) / $(stats_sum "$OUTS/$s/all" fork_rerouted)" \
		"$(stats_sum "$OUTS/$s/always" spawn_engine)"
}

table() {
	echo "| suite | tests | base pass/fail/skip | sites | always | all | forks rerouted (sites / all) | engine spawns (always) |"
	echo "|---|---|---|---|---|---|---|---|"
	printf '%s\n' "$@"
}

# The table of the last run goes into docs/COMPATIBILITY.md between its
# markers, with the machine and the date.
write_compatibility() {
	local doc=docs/COMPATIBILITY.md
	[ -e "$doc" ] || return 0
	local tmp
	tmp=$(mktemp)
	{
		echo "Last run: $(date -u +%F), $(uname -m), $(nproc) cores, kernel $(uname -r)," \
			"$(getconf GNU_LIBC_VERSION), \`make check-peers\`."
		echo
		cat "$1"
	} > "$tmp"
	scripts/doc-block "$doc" "<!-- peers:begin -->" "<!-- peers:end -->" "$tmp"
	rm -f "$tmp"
}

# claim_rerouted SUITE MODE OUT WHAT: at least one fork rerouted
claim_rerouted() {
	local n
	n=$(stats_sum "$3" fork_rerouted)
	if [ "$n" -gt 0 ]; then
		echo "ok: $1 $2: $n forks rerouted ($4); $(stats_sum "$3" fork_real) stayed real"
	else
		echo "FAIL: $1 $2: no fork rerouted"
		return 1
	fi
}

# tap_results NAME < TAP: "NAME:N status" per test point.
tap_results() {
	awk -v f="$1" '
		/^ok [0-9]+/ { st = ($0 ~ /# *[Ss][Kk][Ii][Pp]/) ? "skip" : "pass"; print f ":" $2, st; seen = 1; next }
		/^not ok [0-9]+/ { st = ($0 ~ /# *TODO/) ? "pass" : "fail"; print f ":" $3, st; seen = 1; next }
		/^1\.\.0/ { print f, "skip"; seen = 1 }
		END { if (!seen) print f, "fail" }'
}
