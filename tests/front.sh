#!/bin/bash
# The front library and the engine beside it (issue 23): the engine is
# loaded only where it can help, a process without it behaves as without
# the library, the next definitions keep RTLD_NEXT's meaning beside a
# second preloaded library, and a site loaded after start (a plugin,
# Python's lib-dynload) is still rerouted.
source "$(dirname "$0")/lib.sh"
SECOND=$PWD/$B/tests/plugins/libsecond.so
PLUGIN=$PWD/$B/tests/plugins/libusersite.so
engine() { grep -q '^engine: loaded' "$LOGS/out"; }
no_engine() { grep -q '^engine: not loaded' "$LOGS/out"; }
# the program's output less the engine line, without and with the front
rest_same() { diff <(grep -v '^engine: ' "$LOGS/base") <(grep -v '^engine: ' "$LOGS/out") > /dev/null; }

echo "== which processes load the engine"
"$P/front_calls" > "$LOGS/base" 2> "$LOGS/base.err"
shim -- "$P/front_calls"
check "VFORKSHIM unset: no engine, output and stderr as without the library" \
	eval 'no_engine && rest_same && cmp -s "$LOGS/err" "$LOGS/base.err"'
# Under the sanitizers their runtimes, preloaded ahead of the front,
# import dlsym: every process can load code later, so every process with
# VFORKSHIM=1 loads the engine (the rule, not a fault)
if sanitized; then
	shim VFORKSHIM=1 -- "$P/front_calls"
	check "VFORKSHIM=1 under the sanitizers (their runtimes import dlsym): the engine loaded, output as without it" \
		eval 'engine && rest_same'
else
	shim VFORKSHIM=1 -- "$P/front_calls"
	check "VFORKSHIM=1, a program with no runtime that loads no code: no engine, output and stderr as without it" \
		eval 'no_engine && rest_same && cmp -s "$LOGS/err" "$LOGS/base.err"'
	shim VFORKSHIM=1 VFORKSHIM_MIN_RSS=1G VFORKSHIM_FORK=sites VFORKSHIM_SPAWN=auto VFORKSHIM_LOG=warn VFORKSHIM_STATS=0 -- "$P/front_calls"
	check "the defaults spelled out, a valid MIN_RSS: still no engine" eval 'no_engine && rest_same'
fi
for v in VFORKSHIM_STATS=1 VFORKSHIM_FORK=all VFORKSHIM_SPAWN=always VFORKSHIM_LOG=debug VFORKSHIM_SITES=main \
	VFORKSHIM_AUDIT=/nonexistent VFORKSHIM_LOG_FILE=/dev/null; do
	shim VFORKSHIM=1 "$v" -- "$P/front_calls"
	check "VFORKSHIM=1 $v: the engine loaded (the configuration asks for it)" eval 'engine && rest_same'
done
shim VFORKSHIM_STATS=1 VFORKSHIM_FORK=all -- "$P/front_calls"
check "VFORKSHIM unset, valid settings for when it is on: no engine" eval 'no_engine && rest_same && [ ! -s "$LOGS/err" ]'
shim VFORKSHIM=1 VFORKSHIM_FORK=sometimes -- "$P/front_calls"
# one warning per process: the program, its fork+exec child and its
# spawned child (they inherit the variable), as before the front
check "a bad value loads the engine for its warning, one per process, and the default holds" \
	eval 'engine && rest_same && [ "$(grep -c "VFORKSHIM_FORK=sometimes is not valid" "$LOGS/err")" = 3 ]'
shim VFORKSHIM=maybe -- "$P/front_calls"
check "VFORKSHIM=maybe: its warning, one per process, inert" \
	eval 'rest_same && [ "$(grep -c "VFORKSHIM=maybe is not valid" "$LOGS/err")" = 3 ]'
# a program that imports dlopen can load a runtime later
shim VFORKSHIM=1 -- "$P/front_plugin" "$PLUGIN" 1
check "VFORKSHIM=1, a program that can dlopen: the engine loaded" engine
if have perl; then
	shim VFORKSHIM=1 -- perl -e 'open my $m, "<", "/proc/self/maps"; print grep(m{/libvforkshim-engine\.so}, <$m>) ? "engine: loaded\n" : "engine: not loaded\n"'
	check "Perl (libperl defines Perl_pp_system, its marker): the engine loaded" engine
fi
# bash can load builtins with dlopen (enable -f); dash cannot
if [ -x /bin/dash ] && ! sanitized; then
	shim VFORKSHIM=1 -- /bin/dash -c 'grep -c libvforkshim-engine /proc/$$/maps'
	check "dash, with nothing to gain: no engine" test "$(cat "$LOGS/out")" = 0
fi

# a library preloaded before the front is loaded at start too: libsecond
# calls dlsym (it can load code), wherever it stands
for order in "$SECOND $LIB" "$LIB $SECOND"; do
	env VFORKSHIM=1 LD_PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD }$order" "$P/front_calls" > "$LOGS/out" 2> "$LOGS/err"
	check "preloaded ${order//$PWD\//}: libsecond imports dlsym, the engine loaded" engine
done

echo "== the next definitions: RTLD_NEXT's meaning beside another preloaded library"
# libsecond.so interposes fork and posix_spawn and says so. Without the
# front, then after it: its lines, the output and the statuses the same.
env LD_PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD }$SECOND" "$P/front_calls" > "$LOGS/base" 2> "$LOGS/base.err"
env LD_PRELOAD="$PRELOAD $SECOND" "$P/front_calls" > "$LOGS/out" 2> "$LOGS/err"
check "front then libsecond, inert: every fork and posix_spawn reaches libsecond, output as without the front" \
	eval 'rest_same && cmp -s "$LOGS/err" "$LOGS/base.err" && [ "$(grep -c "^second: " "$LOGS/err")" = 3 ]'
env VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_SPAWN=off LD_PRELOAD="$PRELOAD $SECOND" "$P/front_calls" > "$LOGS/out" 2> "$LOGS/err"
check "front then libsecond, with the engine: the calls it passes on reach libsecond (3), not libc" \
	eval 'engine && rest_same && [ "$(grep -c "^second: " "$LOGS/err")" = 3 ] && [ "$(stat_of fork_real)" = 1 ] && [ "$(stat_of spawn_libc)" = 2 ]'
env VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_SPAWN=off LD_PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD }$SECOND $LIB" "$P/front_calls" > "$LOGS/out" 2> "$LOGS/err"
check "libsecond then the front: libsecond's RTLD_NEXT reaches the engine, which passes on to libc" \
	eval 'engine && rest_same && [ "$(grep -c "^second: " "$LOGS/err")" = 3 ] && [ "$(stat_of fork_real)" = 1 ] && [ "$(stat_of spawn_libc)" = 2 ]'
# a site reached through libsecond: rerouted, libsecond's fork not called
env LD_PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD }$SECOND" "$P/front_plugin" "$PLUGIN" 5 > "$LOGS/base" 2> "$LOGS/base.err"
env VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_SITES=plugin_spawn LD_PRELOAD="$PRELOAD $SECOND" "$P/front_plugin" "$PLUGIN" 5 > "$LOGS/out" 2> "$LOGS/err"
check "a user site's fork with libsecond after the front: rerouted (5), libsecond's fork never called" \
	eval 'rest_same && [ "$(stat_of fork_rerouted)" = 5 ] && ! grep -q "^second: fork" "$LOGS/err"'

# more objects than any fixed bound, before libc: the next definitions
# are found all the same
many=$(mktemp -d)
echo 'int many_fn(void) { return 0; }' > "$many/l.c"
libs=()
for i in $(seq 1 300); do
	${CC:-cc} -shared -o "$many/libm$i.so" -Wl,-soname,libm$i.so "$many/l.c" -fPIC 2> /dev/null &&
		libs+=("-lm$i")
	[ $((i % 50)) = 0 ] && wait
done
echo 'int main(void) { return getenv("HOME") == 0; }' | sed '1i #include <stdlib.h>' > "$many/main.c"
${CC:-cc} -o "$many/main" "$many/main.c" -L"$many" -Wl,--no-as-needed "${libs[@]}" -Wl,-rpath,"$many"
env LD_PRELOAD="$PRELOAD" "$many/main"
check "a program with ${#libs[@]} libraries ahead of libc: runs as without the library" test $? = 0
rm -rf "$many"

# the front loaded with dlopen: libc is before it
check "the front loaded with dlopen, not preloaded: its getenv and fork reach libc" \
	eval 'env FRONT_DLOPEN=x ${SAN_PRELOAD:+LD_PRELOAD="$SAN_PRELOAD"} "$P/front_dlopen" "$LIB" > "$LOGS/out" 2> "$LOGS/err" &&
		[ "$(cat "$LOGS/out")" = "getenv: x
fork: child status 7" ]'

echo "== a site loaded after start"
N_SPAWNS=$(N 40)
"$P/front_plugin" "$PLUGIN" "$N_SPAWNS" > "$LOGS/base" 2> "$LOGS/base.err"
shim VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_SITES=plugin_spawn -- "$P/front_plugin" "$PLUGIN" "$N_SPAWNS"
check "a user site in a plugin dlopen'ed after start, a thread setting the environment: all $N_SPAWNS rerouted, output as without the library" \
	eval 'rest_same && [ "$(stat_of fork_rerouted)" = "$N_SPAWNS" ] && [ "$(stat_of fork_real)" = 0 ]'

# pyenv's Pythons keep _posixsubprocess in lib-dynload: loaded by import,
# after start. The interpreter itself defines PyOS_AfterFork_Child (its
# marker): the engine is there when the module comes.
PY_TEST='
import os, subprocess, sys
maps = open("/proc/self/maps").read()
print("engine:", "loaded" if "/libvforkshim-engine.so" in maps else "not loaded")
import _posixsubprocess
print("module:", "lib-dynload" if "lib-dynload" in getattr(_posixsubprocess, "__file__", "") else "built in")
for w in ("a", "b", "c"):
    print(subprocess.run(["/bin/echo", w], stdout=subprocess.PIPE, env={"X": w}).stdout.decode().strip())
print(subprocess.run(["/bin/sh", "-c", "exit 3"]).returncode)
# a uid to set: CPython 3.10 and later fork for it (they vfork otherwise)
print(subprocess.run(["/bin/echo", "u"], user=os.getuid(), stdout=subprocess.PIPE).stdout.decode().strip())
'
pythons=0
for v in 3.9 3.11; do
	py=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/$v.*/bin/python$v 2> /dev/null | tail -n 1)
	[ -x "$py" ] || continue
	pythons=$((pythons + 1))
	"$py" -c "$PY_TEST" > "$LOGS/base" 2> "$LOGS/base.err"
	shim VFORKSHIM=1 -- "$py" -c "$PY_TEST"
	check "pyenv Python $v ($("$py" -c 'import sys; print(sys.version.split()[0])')), VFORKSHIM=1 alone: the engine loaded at start, _posixsubprocess from lib-dynload" \
		eval 'engine && grep -q "^module: lib-dynload" "$LOGS/out" && rest_same'
	shim VFORKSHIM=1 VFORKSHIM_STATS=1 -- "$py" -c "$PY_TEST"
	if [ "$v" = 3.9 ]; then
		# pyenv's own build of 3.9 holds None in a register for the
		# child's test (cmp %rbp,0xe8(%rsp)), a shape rt_cpython's reader
		# does not prove: no site, its forks real (as before the front)
		check "pyenv Python 3.9: the engine sees the module, its 5 forks real (no site: the None test is in a register), output as without the library" \
			eval 'rest_same && [ "$(stat_of fork_rerouted)" = 0 ] && [ "$(stat_of fork_real)" = 5 ] && [ "$(stat_of fallback_policy)" = 5 ]'
	else
		# 3.10 and later vfork for the four without a uid
		check "pyenv Python $v: the fork for user= rerouted at fork_exec, output as without the library" \
			eval 'rest_same && [ "$(stat_of fork_rerouted)" = 1 ] && [ "$(stat_of fork_real)" = 0 ]'
	fi
done
[ $pythons = 0 ] && echo "skip: no pyenv Python 3.9 or 3.11 on this machine (\$PYENV_ROOT/versions)"

summary front
