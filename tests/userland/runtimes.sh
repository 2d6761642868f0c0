#!/bin/bash
# Inside one userland (tests/userlands.sh runs it in each chroot): every
# runtime found, its version, what the shim did with its spawns, and ms
# per spawn of /bin/true in a process holding GIB GiB, without and with
# the shim (the defaults: VFORKSHIM=1). One markdown row per runtime:
#   | userland | runtime | version | what the shim did | ms without / with |
# "what the shim did" is read from the stats line:
#   - rerouted N of N                   every spawn went through a site
#   - declined: ... (fallback_threads)  the site's child writes environ
#                                       and the runtime has threads
#   - nothing to reroute: it already    the runtime made no fork() call
#     spawns without copying            (vfork, posix_spawn)
#   - declined: ... (fallback_atfork)   uvloop: its fork handler runs
#                                       Python in every child
#   - declined: ... (fallback_unread)   a runtime version not read
#   - NOT REROUTED (reason)             forks stayed real for another
#                                       reason: a site not found
# Usage: tests/userland/runtimes.sh USERLAND [GIB [COUNT]]
# MIB=N instead of GIB holds N MiB (make check-arch-runtimes: 256 under
# emulation); LIB=PATH another build of the library (a cross build).
set -u
cd "$(dirname "$0")/../.."
U=$1 GIB=${2:-1} COUNT=${3:-10}
: "${LIB:=$PWD/build/libvforkshim.so}"
MIB=${MIB:-$((GIB * 1024))}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
bytes=$((MIB << 20))

# What every runtime's program first prints: the output and status of
# one spawn of this, which writes to stdout and stderr, reads its
# argument and the environment, and exits 3.
PROBE_SH='echo "out $1 ${HOME:+home}"; echo err >&2; exit 3'

# row NAME VERSION CMD...: CMD prints what its probe spawn returned, then
# "ms_per_spawn" on its last line; the lines before it must be the same
# with the shim as without
row() {
	local name=$1 ver=$2
	shift 2
	local without with log=$W/stats
	"$@" > "$W/base" 2>/dev/null
	without=$(tail -n 1 "$W/base")
	rm -f "$log"
	env VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE="$log" LD_PRELOAD="$LIB" "$@" > "$W/shim" 2>/dev/null
	with=$(tail -n 1 "$W/shim")
	local same="output identical"
	if ! diff <(sed '$d' "$W/base") <(sed '$d' "$W/shim") > /dev/null || [ "$(sed -n '$=' "$W/base")" -lt 2 ]; then
		same="OUTPUT DIFFERS"
	fi
	# the runtime's own line: of the processes that counted, the one
	# with the most forks (children exec'ing /bin/true count nothing)
	local line
	line=$(awk '{ n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^fork_(rerouted|real)=/) { split($i, kv, "="); n += kv[2] }
		if (n >= best) { best = n; l = $0 } } END { print l }' "$log" 2>/dev/null)
	s() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
	local rer=$(s fork_rerouted) real=$(s fork_real) thr=$(s fallback_threads) pol=$(s fallback_policy)
	local atf=$(s fallback_atfork) unread=$(s fallback_unread) und=$(s fallback_undecoded)
	local did
	if [ -z "$line" ]; then
		did="nothing to reroute: it already spawns without copying"
	elif [ "${rer:-0}" -gt 0 ] && [ "${real:-0}" = 0 ]; then
		did="rerouted $rer of $rer"
	elif [ "${und:-0}" -gt 0 ] && [ "${rer:-0}" = 0 ]; then
		did="NOT REROUTED: libuv's child code not of a shape read, and it has threads (fallback_undecoded=$und)"
	elif [ "${thr:-0}" -gt 0 ] && [ "${rer:-0}" = 0 ]; then
		did="declined: its child assigns environ and it has threads (fallback_threads=$thr)"
	elif [ "${atf:-0}" -gt 0 ] && [ "${rer:-0}" = 0 ]; then
		did="declined: uvloop's fork handler must run in the child (fallback_atfork=$atf)"
	elif [ "${unread:-0}" -gt 0 ] && [ "${rer:-0}" = 0 ]; then
		did="declined: a version whose child code was not read (fallback_unread=$unread)"
	elif [ "${rer:-0}" = 0 ] && [ "${real:-0}" = 0 ]; then
		did="nothing to reroute: it already spawns without copying"
	else
		did="NOT REROUTED: $rer rerouted, $real real (fallback_policy=${pol:-0})"
	fi
	printf '| %s | %s | %s | %s; %s | %s / %s |\n' "$U" "$name" "$ver" "$did" "$same" "${without:-?}" "${with:-?}"
}

export PROBE_SH
if command -v node >/dev/null; then
	row "node spawnSync" "$(node -p 'process.version + " (libuv " + process.versions.uv + ")"')" node -e "
const b = Buffer.alloc($bytes, 1); const cp = require('child_process');
const r = cp.spawnSync('/bin/sh', ['-c', process.env.PROBE_SH, 'sh', 'arg']);
console.log(r.stdout.toString() + r.stderr.toString() + 'status ' + r.status);
const t = process.hrtime.bigint(); for (let i = 0; i < $COUNT; i++) cp.spawnSync('/bin/true');
console.log((Number(process.hrtime.bigint() - t) / 1e6 / $COUNT).toFixed(2));"
fi
if command -v ruby >/dev/null; then
	row "ruby system" "$(ruby -e 'print RUBY_VERSION')" ruby -e "
s = 'x' * $bytes; \$stdout.sync = true
system('/bin/sh', '-c', ENV['PROBE_SH'] + ' 2>&1', 'sh', 'arg'); puts \"status #{\$?.exitstatus}\"
t = Process.clock_gettime(Process::CLOCK_MONOTONIC)
$COUNT.times { system('/bin/true') }
printf(\"%.2f\n\", (Process.clock_gettime(Process::CLOCK_MONOTONIC) - t) * 1000 / $COUNT)"
fi
if command -v perl >/dev/null; then
	row "perl system" "$(perl -e 'printf "%vd", $^V')" perl -MTime::HiRes=time -e "
my \$s = 'x'; \$s x= $bytes; \$| = 1;
system('/bin/sh', '-c', \$ENV{PROBE_SH} . ' 2>&1', 'sh', 'arg'); print 'status ', \$? >> 8, \"\n\";
my \$t = time;
system('/bin/true') for 1..$COUNT; printf(\"%.2f\n\", (time - \$t) * 1000 / $COUNT)"
fi
if command -v javac >/dev/null; then
	cat > "$W/B.java" <<'JAVA'
public class B { public static void main(String[] a) throws Exception {
  int n = Integer.parseInt(a[0]);
  Process p = new ProcessBuilder("/bin/sh", "-c", System.getenv("PROBE_SH"), "sh", "arg").redirectErrorStream(true).start();
  System.out.print(new String(p.getInputStream().readAllBytes()));
  System.out.println("status " + p.waitFor());
  long t = System.nanoTime();
  for (int i = 0; i < n; i++) new ProcessBuilder("/bin/true").start().waitFor();
  System.out.printf("%.2f%n", (System.nanoTime() - t) / 1e6 / n); } }
JAVA
	javac -d "$W" "$W/B.java" 2>/dev/null
	jv=$(java -version 2>&1 | sed -n '1s/.*"\(.*\)".*/\1/p')
	for mech in FORK POSIX_SPAWN; do
		row "java $mech" "$jv" java -Xms$((MIB + 64))m -XX:+AlwaysPreTouch \
			-Djdk.lang.Process.launchMechanism=$mech -cp "$W" B "$COUNT"
	done
fi
if command -v python3 >/dev/null; then
	py=$(python3 -c 'import sys; print(sys.executable)')
	pyv=$("$py" -c 'import platform; print(platform.python_version())')
	pycode() { # ARGS: the probe spawn, then COUNT timed spawns, subprocess.run(..., ARGS)
		echo "import os, subprocess, time; b = bytearray($bytes); b[::4096] = b'x' * len(b[::4096])
r = subprocess.run(['/bin/sh', '-c', os.environ['PROBE_SH'], 'sh', 'arg'], capture_output=True${1:-})
print((r.stdout + r.stderr).decode() + 'status %d' % r.returncode)
t = time.monotonic()
for _ in range($COUNT): subprocess.run(['/bin/true']${1:-})
print('%.2f' % ((time.monotonic() - t) * 1000 / $COUNT))"
	}
	row "python subprocess" "$pyv" "$py" -c "$(pycode)"
	# 3.10 and later fork for user=, group=, extra_groups=
	[ "$(id -u)" = 0 ] && row "python subprocess(user=)" "$pyv" "$py" -c "$(pycode ", user=0")"
	if "$py" -c 'import uvloop' 2>/dev/null; then
		row "python uvloop" "$pyv, uvloop $("$py" -c 'import uvloop; print(uvloop.__version__)')" "$py" -c "
import asyncio, os, subprocess, time, uvloop
async def main():
    b = bytearray($bytes); b[::4096] = b'x' * len(b[::4096])
    p = await asyncio.create_subprocess_exec('/bin/sh', '-c', os.environ['PROBE_SH'], 'sh', 'arg', stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    print((await p.communicate())[0].decode() + 'status %d' % p.returncode)
    t = time.monotonic()
    for _ in range($COUNT): await (await asyncio.create_subprocess_exec('/bin/true')).wait()
    print('%.2f' % ((time.monotonic() - t) * 1000 / $COUNT))
uvloop.install(); asyncio.run(main())"
	fi
fi
