#!/bin/bash
# vforkshim audit: on a C program with a home-made exec-bound fork, a
# worker fork and system(), and on each runtime installed, what it names
# and decides; the program's own output and exit status unchanged.
. "$(dirname "$0")/lib.sh"
if sanitized; then
	# the command preloads the library alone (as deploy.sh says); a
	# sanitized one needs libasan ahead of it: the plain check runs these
	echo "skip: audit tests (the plain make check runs them)"
	exit 0
fi
V="scripts/vforkshim --lib=$LIB"
P=$B/tests/progs
T=$LOGS/audit
mkdir -p "$T"
# audit CMD...: the report in $LOGS/out, the program's stdout in $T/stdout
audit() { $V audit -- "$@" > "$LOGS/out" 2> "$LOGS/err"; }
has() { grep -q -- "$1" "$LOGS/out"; }

"$P/audit_me" 4 > "$T/base"
$V audit -- "$P/audit_me" 4 > "$LOGS/out" 2> "$LOGS/err"
rc=$?
check "C program: its output and exit status as without audit (exit $rc)" \
	test "$rc/$(grep -cx 'worker 42\|done' "$LOGS/out")" = 0/2
check "    the home-made exec-bound fork: 4 calls, 4 of 4 children exec'd, named as a candidate site" \
	grep -q "fork() at audit_me run_tool+0x[0-9a-f]*, 4 call(s), .* children exec'd 4 of 4, first call: execl\?v\?=4" "$LOGS/out"
check "    the candidate as VFORKSHIM_SITES takes it, and where to read first" \
	has "candidate site: VFORKSHIM_SITES=audit_me:run_tool (every child seen exec'd; read docs/sites.md \"Adding a site\""
check "    the worker fork: its child ran on (exit), not exec-bound" \
	has "fork() at audit_me worker+.* children exec'd 0 of 1, first call: exit=1"
check "    system(): already cheap here" has "system() at .* -> already cheap\|already cheap: libc runs system()"
check "    the total time copying page tables against the run" grep -q "^fork() copied page tables for [0-9.]* ms in all, [0-9.]*% of the" "$LOGS/out"
# the candidate, taken: the forks it names are rerouted, the output the same
env VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_SITES=audit_me:run_tool LD_PRELOAD="$LIB" "$P/audit_me" 4 > "$T/site" 2> "$LOGS/err"
check "    with that site: the same output, the 4 forks rerouted, the worker's real" \
	test "$(cmp -s "$T/base" "$T/site" && echo same)/$(stat_of fork_rerouted)/$(stat_of fork_real)" = same/4/1
$V audit --json --output="$LOGS/out.json" -- "$P/audit_me" 2 > /dev/null 2>&1
check "    --json: valid, 3 places, the copy time" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["places"]) == 3 and d["fork_copy_ms"] > 0, d
assert any(p["verdict"].startswith("candidate site: VFORKSHIM_SITES=audit_me:run_tool") for p in d["places"]), d' "$LOGS/out.json"

if have perl; then
	audit perl -e 'system("/bin/true") for 1..3; my $x = `true`; if (!fork) { exit 0 } wait'
	check "perl: system() rerouted by its built-in site" has "rerouted by built-in site \(Perl_pp_system\|perl:pp_system\)"
	check "    backticks: a refused function named, not offered as a candidate" has "not a site: Perl_my_popen was read and refused"
	check "    fork: not exec-bound" has "not exec-bound: 1 of 1 children ran on without exec"
fi
if have ruby; then
	audit ruby -e '3.times { system("/bin/true") }'
	if [ "$(id -u)" = 0 ]; then
		check "ruby (root): rerouted by libruby's vfork caller" has "rerouted by built-in site libruby:vfork-caller"
	else
		check "ruby (unprivileged): vforks itself, no fork seen" has "no fork, system, popen or posix_spawn was called"
	fi
fi
if have node; then
	audit node -e 'const cp = require("child_process"); for (let i = 0; i < 3; i++) cp.spawnSync("/bin/true")'
	if uv_forks "$(node -p process.versions.uv)"; then
		check "node: rerouted at uv_spawn" has "rerouted by built-in site uv_spawn"
	else
		check "node: libuv spawns with posix_spawn: already cheap" has "already cheap: libc runs posix_spawn() without copying"
	fi
fi
# a libuv whose child code is not of the shape read (tests/concurrency.sh)
if [ -e "$B/tests/plugins/libuv_shape1.so" ]; then
	audit "$P/uv_shapes" "$B/tests/plugins/libuv_shape1.so" 2
	check "libuv of another shape: named, declined as undecoded" has "declined at site uv_spawn: its child may assign environ, its code is not of a shape read (libuv)"
fi
if have java && have javac; then
	printf 'public class P { public static void main(String[] a) throws Exception { for (int i = 0; i < 3; i++) new ProcessBuilder("/bin/true").start().waitFor(); } }\n' > "$T/P.java"
	javac -d "$T" "$T/P.java"
	audit java -Djdk.lang.Process.launchMechanism=FORK -cp "$T" P
	check "java FORK: forkAndExec named, declined for threads" has "declined at site Java_java_lang_ProcessImpl_forkAndExec: its child may assign environ"
fi
if [ -x /usr/bin/python3 ]; then
	audit /usr/bin/python3 -c 'import subprocess; subprocess.run(["true"], preexec_fn=lambda: None)'
	check "python: a preexec_fn fork declined at fork_exec" has "declined at site cpython:fork_exec: its child runs the runtime's code (preexec_fn)"
	if [ "$(id -u)" = 0 ]; then
		audit /usr/bin/python3 -c 'import subprocess; subprocess.run(["true"], user=0)'
		check "python: user= rerouted at fork_exec" has "rerouted by built-in site cpython:fork_exec"
	fi
fi
summary audit
