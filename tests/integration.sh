#!/bin/bash
# Integration tests: real programs, with and without the shim, compared
# on their output; the stats line read back for what was rerouted.
# Environment: LIB (the library), LOGS (a scratch folder).
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
P=build/tests/progs
: "${LIB:=$PWD/build/libvforkshim.so}" "${LOGS:=build/tests/logs}"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

# shim ENV... -- CMD...: runs CMD preloaded, stdout to $LOGS/out, stderr to $LOGS/err
shim() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" LD_PRELOAD="$LIB" "$@" > "$LOGS/out" 2> "$LOGS/err"
}
stat_of() { # KEY: from the last stats line in $LOGS/err
	grep '^vforkshim: stats ' "$LOGS/err" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# 1. The library exports exactly the interposed functions.
exports=$(nm -D --defined-only "$LIB" | awk '{print $3}' | sort | tr '\n' ' ')
check "exports are only the interposed functions ($exports)" \
	test "$exports" = "pclose popen posix_spawn posix_spawnp system "

# 2. Same output with and without the shim; stats say where calls went.
"$P/demo_calls" > "$LOGS/base" 2>&1
shim VFORKSHIM=1 VFORKSHIM_SPAWN=always VFORKSHIM_STATS=1 -- "$P/demo_calls"
check "spawn=always: output identical to libc" cmp -s "$LOGS/base" "$LOGS/out"
check "spawn=always: system, popen, posix_spawnp counted in spawn_engine" \
	test "$(stat_of spawn_engine)/$(stat_of spawn_libc)" = 3/0
shim VFORKSHIM=1 VFORKSHIM_STATS=1 -- "$P/demo_calls"
check "spawn=auto on $(getconf GNU_LIBC_VERSION): identical, passed to libc (policy)" \
	test "$(cmp -s "$LOGS/base" "$LOGS/out" && echo same)/$(stat_of spawn_engine)/$(stat_of spawn_libc)/$(stat_of fallback_policy)" = same/0/3/3
shim VFORKSHIM=1 VFORKSHIM_SPAWN=off VFORKSHIM_STATS=1 -- "$P/demo_calls"
check "spawn=off: identical, passed to libc" \
	test "$(cmp -s "$LOGS/base" "$LOGS/out" && echo same)/$(stat_of spawn_engine)/$(stat_of spawn_libc)" = same/0/3
for v in "" 0 off; do
	shim VFORKSHIM="$v" VFORKSHIM_SPAWN=always VFORKSHIM_STATS=1 -- "$P/demo_calls"
	check "VFORKSHIM='$v' is inert: identical output, nothing on stderr" \
		test "$(cmp -s "$LOGS/base" "$LOGS/out" && echo same)/$(wc -c < "$LOGS/err")" = same/0
done

# 3. Every bad value: one warning naming the variable and what it
#    accepts, the safe default, the program unharmed.
bad_value() { # VAR VALUE ACCEPTS
	shim VFORKSHIM=1 "$1=$2" -- "$P/report" euid
	local lines
	lines=$(grep -c '^vforkshim: ' "$LOGS/err")
	check "$1=$2: one warning naming it and '$3', program ran" \
		test "$lines/$(grep -c "$1=.*$3" "$LOGS/err")/$(wc -l < "$LOGS/out")" = 1/1/1
}
bad_value VFORKSHIM banana "1, on, 0, off"
bad_value VFORKSHIM_FORK banana "sites, all, off"
bad_value VFORKSHIM_SPAWN sometimes "auto, always, off"
bad_value VFORKSHIM_MIN_RSS 12Q "optional k, M or G"
bad_value VFORKSHIM_MIN_RSS 99999999999999999999G "optional k, M or G"
bad_value VFORKSHIM_LOG loud "off, warn, info, debug"
bad_value VFORKSHIM_STATS 2 "1, on, 0, off"
bad_value VFORKSHIM_LOG_FILE /no/such/dir/log "regular file of this user"
bad_value VFORKSHIM_LOG_FILE "$(printf '/tmp/\377\376')/x" "regular file of this user"
ln -sf /tmp/vforkshim-target "$LOGS/link"
bad_value VFORKSHIM_LOG_FILE "$PWD/$LOGS/link" "regular file of this user"
check "a log file behind a symlink is not created" test ! -e /tmp/vforkshim-target
shim VFORKSHIM=1 VFORKSHIM_LOG=off VFORKSHIM_FORK=banana -- "$P/report" euid
check "VFORKSHIM_LOG=off silences warnings" test ! -s "$LOGS/err"

# 4. The log file gets the stats line; nothing else is left open.
rm -f "$LOGS/shim.log"
"$P/report" fds > "$LOGS/base"
shim VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE="$PWD/$LOGS/shim.log" -- "$P/report" fds
check "stats go to VFORKSHIM_LOG_FILE, stderr stays empty" \
	test "$(grep -c 'stats pid=' "$LOGS/shim.log")/$(wc -c < "$LOGS/err")" = 1/0
check "the shim holds no descriptor in the program" cmp -s "$LOGS/base" "$LOGS/out"

# 5. Seccomp refusing CLONE_VM clones: the engine falls back to libc
#    and the calls still succeed; with clone3 refused as well, libc
#    fails and the shim fails identically.
"$P/seccomp_spawn" > "$LOGS/base" 2>&1
rc=$?
if [ $rc = 77 ]; then
	echo "skip: seccomp test ($(cat "$LOGS/base"))"
else
	shim VFORKSHIM=1 VFORKSHIM_SPAWN=always VFORKSHIM_STATS=1 -- "$P/seccomp_spawn"
	check "seccomp: output identical to libc under the same filter" cmp -s "$LOGS/base" "$LOGS/out"
	check "seccomp: spawns succeed" test "$(grep -c ran "$LOGS/out")" = 6
	check "seccomp: every call fell back (fallback_refused=6 spawn_libc=6)" \
		test "$(stat_of fallback_refused)/$(stat_of spawn_libc)/$(stat_of spawn_engine)" = 6/6/0
	"$P/seccomp_spawn" strict > "$LOGS/base" 2>&1
	shim VFORKSHIM=1 VFORKSHIM_SPAWN=always -- "$P/seccomp_spawn" strict
	check "seccomp strict: the same failures as libc" cmp -s "$LOGS/base" "$LOGS/out"
fi

# 6. install/uninstall honour DESTDIR, PREFIX and LIBDIR.
D=$(mktemp -d)
make -s install DESTDIR="$D" PREFIX=/opt/vs LIBDIR=/opt/vs/lib64 >/dev/null
check "make install puts the library under DESTDIR/LIBDIR" \
	test "$(cd "$D" && find . -type f | sort | tr '\n' ' ')" = "./opt/vs/lib64/libvforkshim.so "
make -s uninstall DESTDIR="$D" PREFIX=/opt/vs LIBDIR=/opt/vs/lib64 >/dev/null
check "make uninstall removes it" test -z "$(find "$D" -type f)"
rm -rf "$D"

echo "integration: $pass passed, $fail failed"
[ $fail = 0 ]
