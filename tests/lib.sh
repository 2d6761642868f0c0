# Helpers shared by the integration scripts (sourced).
# Environment: B (the build folder), LIB (the library), LOGS (a scratch
# folder), SAN_PRELOAD (make check SANITIZE=...: the sanitizer runtimes,
# which must be preloaded ahead of a sanitized library).
set -u
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${B:=build}"
P=$B/tests/progs
: "${LIB:=$PWD/$B/libvforkshim.so}" "${LOGS:=$B/tests/logs}"
PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD }$LIB"
sanitized() { [ -n "${SAN_PRELOAD:-}" ]; } # make check SANITIZE=...
# In a sanitized build, LeakSanitizer stays on for the Check runners,
# which drive the library's own code; here it is off: it needs a
# CLONE_VM thread that ptraces the program at exit, which the seccomp
# and fault tests forbid, and the runtimes leak at exit by design.
sanitized && export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
# VFORKSHIM_TEST_SLOW=K: the machine is K times slower than this kind
# (make check-arch-runtimes sets it under qemu-system's emulation):
# bounds on time grow K times (SLOW), counts shrink as in a sanitized
# build
SLOW=${VFORKSHIM_TEST_SLOW:-1}
# N COUNT: COUNT, or a tenth of it in a sanitized build, where every
# exec of a test program pays ASan's start-up (about 50 ms), or on a slow
# machine
N() { if sanitized || [ "$SLOW" -gt 1 ]; then echo $(($1 / 10)); else echo "$1"; fi; }
mkdir -p "$LOGS"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

# shim ENV... -- CMD...: runs CMD preloaded, stdout to $LOGS/out, stderr to $LOGS/err
shim() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" LD_PRELOAD="$PRELOAD" "$@" > "$LOGS/out" 2> "$LOGS/err"
}
# run_both CMD...: without the shim (base, base.err), then with it
# (out, err); `same` compares stdout, `same_err` stderr less stats lines
run_both() {
	"$@" > "$LOGS/base" 2> "$LOGS/base.err"
	shim VFORKSHIM=1 VFORKSHIM_STATS=1 -- "$@"
}
same_err() { grep -v '^vforkshim: stats ' "$LOGS/err" | cmp -s - "$LOGS/base.err"; }
counts() { echo "$(stat_of fork_rerouted)/$(stat_of fork_real)"; }

stat_of() { # KEY: from the last stats line in $LOGS/err; 0 without one
	# (a process that made no call through the shim prints none)
	local v
	v=$(grep '^vforkshim: stats ' "$LOGS/err" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p")
	echo "${v:-0}"
}

same() { cmp -s "$LOGS/base" "$LOGS/out"; } # the run without and with the shim agree
have() { command -v "$1" >/dev/null || { echo "skip: $1 is not installed"; return 1; }; }
# uv_forks VERSION: does that libuv fork() for a plain uv_spawn? From
# 1.53 it spawns with posix_spawn, and forks only to change uid or gid
# (docs/sites.md): nothing is left for the shim to reroute.
uv_forks() { [ "$(printf '%s\n' "$1" 1.53 | sort -V | head -n 1)" != 1.53 ]; }

summary() { echo "$1: $pass passed, $fail failed"; [ $fail = 0 ]; }
