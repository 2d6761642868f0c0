#!/bin/bash
# Integration tests: real programs, with and without the shim, compared
# on their output; the stats line read back for what was rerouted.
# Environment: LIB (the library), LOGS (a scratch folder).
. "$(dirname "$0")/lib.sh"

# 1. The library exports exactly the interposed functions.
exports=$(nm -D --defined-only "$LIB" | awk '{print $3}' | sort | tr '\n' ' ')
check "exports are only the interposed functions ($exports)" \
	test "$exports" = "__libc_start_main clearenv execl execle execlp execv execve execveat execvp execvpe exit fexecve fork getenv pclose popen posix_spawn posix_spawnp pthread_sigmask putenv secure_getenv setegid setenv seteuid setgid setgroups setregid setresgid setresuid setreuid setuid sigprocmask system unsetenv "

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
check "a process that spawns nothing prints no stats line" test ! -s "$LOGS/shim.log"
check "the shim holds no descriptor in the program" cmp -s "$LOGS/base" "$LOGS/out"
shim VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_SPAWN=always VFORKSHIM_LOG_FILE="$PWD/$LOGS/shim.log" -- "$P/demo_calls"
check "stats go to VFORKSHIM_LOG_FILE, one line (the spawned sh is silent), stderr empty" \
	test "$(grep -c 'stats pid=' "$LOGS/shim.log")/$(wc -c < "$LOGS/err")" = 1/0

# 5. Seccomp refusing CLONE_VM clones: the engine falls back to libc
#    and the calls still succeed; with clone3 refused as well, libc
#    fails and the shim fails identically.
"$P/seccomp_spawn" > "$LOGS/base" 2>&1
rc=$?
if [ $rc = 77 ]; then
	echo "skip: seccomp test ($(cat "$LOGS/base"))"
else
	shim VFORKSHIM=1 VFORKSHIM_SPAWN=always VFORKSHIM_FORK=all VFORKSHIM_STATS=1 -- "$P/seccomp_spawn"
	check "seccomp: output identical to libc under the same filter" cmp -s "$LOGS/base" "$LOGS/out"
	# as many as libc's own: glibc 2.31's posix_spawn has only clone,
	# which the filter refuses; 2.34 and later try clone3 first
	check "seccomp: as many spawns and forks succeed as under libc ($(grep -c ran "$LOGS/base"))" \
		test "$(grep -c ran "$LOGS/out")" = "$(grep -c ran "$LOGS/base")"
	check "seccomp: every call fell back (fallback_refused=8 spawn_libc=6 fork_real=2)" \
		test "$(stat_of fallback_refused)/$(stat_of spawn_libc)/$(stat_of fork_real)/$(stat_of spawn_engine)" = 8/6/2/0
	"$P/seccomp_spawn" strict > "$LOGS/base" 2>&1
	shim VFORKSHIM=1 VFORKSHIM_SPAWN=always -- "$P/seccomp_spawn" strict
	check "seccomp strict: the same failures as libc" cmp -s "$LOGS/base" "$LOGS/out"
fi

# 6. The rerouted fork: a child that scribbles the stack, sets the
#    environment, calls exit, assigns environ, fails to exec, forks,
#    sets its mask. The parent must see what it sees without the shim.
R=$PWD/$P/report
# Without the shim, the child's exit(3) flushes a copy of the parent's
# stdio buffer and runs its atexit handler: the line appears twice.
# The guard makes that exit an _exit, so it appears once.
cat > "$LOGS/want" <<'WANT'
buffered output before the forks, printed once
child sees GUARD_VAR=from-child GUARD_PUT=1 HOME=unset
child env: ONLY=this
0000000000000800
still buffered: exit 0, local 42, errno 77, parent GUARD_VAR=(unset) HOME set
exit(3) in child -> 3
environ assigned in child -> 0, parent's environ intact: 1
exec failure in child -> 42
nested fork -> 6
mask set in child -> 0
parent still blocks SIGUSR1: 1, SIGUSR2: 0
done
atexit handler ran once
WANT
shim VFORKSHIM=1 VFORKSHIM_FORK=all VFORKSHIM_STATS=1 -- "$P/fork_guard" "$R"
check "fork=all: the parent sees exactly what it should" cmp -s "$LOGS/want" "$LOGS/out"
diff "$LOGS/want" "$LOGS/out" | head -20
check "fork=all: all 6 forks rerouted, the nested one real" \
	test "$(stat_of fork_rerouted)/$(stat_of fallback_nested)" = 6/1
check "the child saw its own environment and mask" \
	grep -q 'child sees GUARD_VAR=from-child GUARD_PUT=1 HOME=unset' "$LOGS/out"
shim VFORKSHIM=1 VFORKSHIM_FORK=all VFORKSHIM_STATS=1 -- "$P/fork_env"
check "fork=all is the program's: removed from its environment at start-up, the programs it starts run in the default mode" \
	test "$(tr '\n' ' ' < "$LOGS/out")/$(stat_of fork_rerouted)" = "program: unset child: unset child: unset /2"
shim VFORKSHIM=1 VFORKSHIM_FORK=all VFORKSHIM_STATS=1 -- sh -c "exec env $P/fork_env"
check "fork=all goes on through an exec in place (sh's exec, env), not to children" \
	test "$(tr '\n' ' ' < "$LOGS/out")/$(stat_of fork_rerouted)" = "program: unset child: unset child: unset /2"
"$P/fork_guard" "$R" > "$LOGS/base" 2>&1
shim VFORKSHIM=1 VFORKSHIM_STATS=1 -- "$P/fork_guard" "$R"
check "fork=sites: a fork from main() stays real, output as without the shim" \
	test "$(cmp -s "$LOGS/base" "$LOGS/out" && echo same)/$(stat_of fork_rerouted)/$(stat_of fallback_policy)" = same/0/6

# 7. install/uninstall honour DESTDIR, PREFIX and LIBDIR.
D=$(mktemp -d)
make -s install DESTDIR="$D" PREFIX=/opt/vs LIBDIR=/opt/vs/lib64 >/dev/null
check "make install puts the front and the engine beside it under DESTDIR/LIBDIR (the rest: tests/deploy.sh)" \
	test "$(cd "$D" && find . -type f -name '*.so' | sort | tr '\n' ' ')" = "./opt/vs/lib64/libvforkshim-engine.so ./opt/vs/lib64/libvforkshim.so "
make -s uninstall DESTDIR="$D" PREFIX=/opt/vs LIBDIR=/opt/vs/lib64 >/dev/null
check "make uninstall removes it" test -z "$(find "$D" -type f)"
rm -rf "$D"

summary integration
