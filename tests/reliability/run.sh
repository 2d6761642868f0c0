#!/bin/bash
# make check-reliability: soak, injected faults, hostile input and
# security, each run bounded by a watchdog (timeout). With --quick (make
# check) the soak is short and holds no memory.
#   tests/reliability/run.sh [--quick] [--spawns N]
source "$(dirname "$0")/../lib.sh"
R=$B/tests/reliability
quick=0 spawns=100000 gib=4
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 spawns=$(N 2000) gib=0 ;;
	--spawns) spawns=$2; shift ;;
	*) echo "usage: run.sh [--quick] [--spawns N]" >&2; exit 2 ;;
	esac
	shift
done
t0=$(date +%s)
figures=$LOGS/reliability.figures
: > "$figures"
# rshim SECONDS ENV... -- CMD...: CMD preloaded, within a watchdog of
# SECONDS (timeout itself not preloaded); stdout to $LOGS/out, stderr
# to $LOGS/err, the stats line into $LOGS/rel.log
rshim() {
	rm -f "$LOGS/rel.log"
	local secs=$1 envs=()
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	timeout -k 10 "$secs" env VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE="$PWD/$LOGS/rel.log" \
		"${envs[@]}" LD_PRELOAD="$PRELOAD" "$@" > "$LOGS/out" 2> "$LOGS/err"
}
rstat() { grep '^vforkshim: stats ' "$LOGS/rel.log" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }

echo "== soak: $spawns spawns, 8 threads through every path, 4 churning malloc, SIGUSR1 at 5 kHz, $gib GiB held"
# sanitized: ASan's quarantine of freed blocks (256 MiB by default)
# would count as RSS growth; a small one keeps the bound meaningful
san=()
sanitized && san=(ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=8:thread_local_quarantine_size_kb=64")
rshim 1800 VFORKSHIM_FORK=all VFORKSHIM_SPAWN=always "${san[@]}" -- "$R/soak" "$gib" "$spawns" 8 4 5000
rc=$?
line=$(grep '^soak ' "$LOGS/out")
echo "$line"
val() { local v; v=$(tr ' ' '\n' <<<"$line" | sed -n "s/^$1=//p"); echo "${v:-0}"; }
check "soak: finished within the watchdog, every output and status right, fds, children, RSS as before (exit $rc)" \
	test "$rc" = 0
check "soak: the stats add up (fork_rerouted=$(rstat fork_rerouted) spawn_engine=$(rstat spawn_engine), nothing to libc)" \
	test "$(rstat fork_rerouted)/$(rstat spawn_engine)/$(rstat fork_real)/$(rstat spawn_libc)" = \
	"$(val fork)/$(( $(val system) + $(val popen) + $(val posix_spawn) ))/0/0"
echo "soak $line" >> "$figures"

echo "== concurrency torture: rerouted children while other threads use everything they could see"
cspawns=2000 rtn=300
[ $quick = 1 ] && cspawns=$(N 100) rtn=30
# cmp_run NAME SITES CMD...: the run without the shim, then with it
cmp_run() {
	local name=$1 sites=$2
	shift 2
	timeout 900 "$@" > "$LOGS/base" 2> "$LOGS/base.err"
	rshim 900 ${sites:+VFORKSHIM_SITES=$sites} -- "$@"
	rc=$?
}
cmp_run torture torture_spawn "$R/torture" "$cspawns" "$PWD/$B/tests/plugins/libreload_b.so"
check "torture: 4 x $cspawns spawns (a user site) beside setenv, getenv, dlopen/dlclose, malloc, localtime, getaddrinfo and a signal handler: same results (exit $rc)" \
	test "$rc/$(same && echo same)" = 0/same
check "  rerouted $(rstat fork_rerouted), declined busy $(rstat fallback_busy)" \
	test "$(rstat fork_rerouted)" -gt 0 2>/dev/null
echo "torture $((4 * cspawns)) spawns, $(rstat fork_rerouted) rerouted, $(rstat fallback_busy) declined busy" >> "$figures"
if have ruby; then
	cmp_run ruby "" ruby tests/embed/ruby_threads.rb "$rtn"
	check "torture, Ruby: $((4 * rtn)) spawns beside threads on ENV, localtime, getaddrinfo, allocation: same results (rerouted $(rstat fork_rerouted))" same
fi
if have perl && perl -Mthreads -e 1 2>/dev/null; then
	cmp_run perl "" perl tests/embed/perl_threads.pl "$rtn"
	# up to 5.36 declined beside threads: environ written unlocked
	want=$((2 * rtn)); perl -e 'exit($] >= 5.038 ? 0 : 1)' || want=0
	check "torture, Perl: $((2 * rtn)) system() beside ithreads on %ENV, localtime, getaddrinfo: same results (rerouted $(rstat fork_rerouted) of $want expected)" \
		test "$(same && echo same)/$(rstat fork_rerouted)" = "same/$want"
fi
if have node; then
	cmp_run node "" node tests/embed/node_share_env.js "$rtn"
	want=$rtn; uv_forks "$(node -p process.versions.uv)" || want=0 # posix_spawn: no fork
	check "torture, Node: $rtn spawns beside a SHARE_ENV worker: same results, every fork rerouted ($(rstat fork_rerouted) of $want)" \
		test "$(same && echo same)/$(rstat fork_rerouted)/$(rstat fork_real)" = "same/$want/0"
fi
for i in 1 2 3 4 5; do
	cmp_run reload libreload_a.so:spawn_it "$P/plugin_reload" "$PWD/$B/tests/plugins/libreload_a.so" "$PWD/$B/tests/plugins/libreload_b.so"
	same || break
done
check "torture: a site's plugin reloaded at its address, 5 times: the newcomer's fork always real" same
cmp_run signal site_run/8 "$P/signal_fork" 20
check "torture: 20 signal handlers forking while a site waits: every fork theirs, real (signal $(rstat fallback_signal))" \
	test "$(same && echo same)/$(rstat fallback_signal)" = same/20

echo "== injected faults: the same results as libc"
for e in EPERM ENOSYS EINVAL; do
	"$P/seccomp_spawn" "$e" > "$LOGS/base" 2>&1
	if [ $? = 77 ]; then echo "skip: seccomp ($(cat "$LOGS/base"))"; break; fi
	rshim 60 VFORKSHIM_FORK=all VFORKSHIM_SPAWN=always -- "$P/seccomp_spawn" "$e"
	check "seccomp refuses CLONE_VM clones with $e: output as libc's, every call fell back and was counted" \
		test "$(same && echo same)/$(rstat fallback_refused)/$(rstat spawn_engine)" = same/8/0
done
for c in nproc as exec killed signalled; do
	timeout 60 "$R/faults" "$c" > "$LOGS/base" 2>&1
	rshim 60 VFORKSHIM_FORK=all VFORKSHIM_SPAWN=always -- "$R/faults" "$c"
	check "fault '$c': every path gives what libc gives ($(wc -l < "$LOGS/base") results)" same
	cat "$LOGS/base" >> "$LOGS/faults.results"
done
check "fault 'as': the engine's stack did not fit, counted as fallback_resource" \
	test "$(rshim 60 VFORKSHIM_FORK=all VFORKSHIM_SPAWN=always -- "$R/faults" as; rstat fallback_resource)" = 5
rshim 60 VFORKSHIM_FORK=all -- "$R/faults" sleeper
check "a child that never execs: the parent stays suspended until it exits, then resumes (status 7)" \
	test "$(cat "$LOGS/out")" = "sleeper: fork returned after the child ended: yes
sleeper: child: exit 7"
echo "faults $(grep -c '' "$LOGS/faults.results") results compared, 3 seccomp errnos" >> "$figures"
rm -f "$LOGS/faults.results"

echo "== hostile input"
for c in argv e2big actions system; do
	timeout 60 "$R/hostile" "$c" > "$LOGS/base" 2>&1
	rshim 60 VFORKSHIM_FORK=all VFORKSHIM_SPAWN=always -- "$R/hostile" "$c"
	check "hostile '$c': every result as libc's ($(wc -l < "$LOGS/base") results)" same
done
rshim 60 VFORKSHIM_FORK=all VFORKSHIM_SPAWN=always -- "$R/hostile" nullargv
check "posix_spawn with a NULL argv (glibc crashes): the shim's engine lets the kernel run it" \
	test "$(cat "$LOGS/out")" = "NULL argv: posix_spawn 0, status 0"
# Every variable with every kind of bad value: the program's output is
# unchanged, at most one warning line (a process warns once; each
# program it starts that loads the shim warns again), and no value can
# break a line (a control byte is written \xNN).
"$P/report" euid > "$LOGS/base" 2>/dev/null
huge=$(head -c 100000 /dev/zero | tr '\0' x)
sites=$(for i in $(seq 1 2000); do printf 'sym%d,' "$i"; done),,:,x:,:y,$(head -c 300 /dev/zero | tr '\0' s)
inputs=0
work=$(mktemp -d) # a log file named by a bad value is created here, not in the tree
for var in VFORKSHIM VFORKSHIM_FORK VFORKSHIM_SPAWN VFORKSHIM_MIN_RSS VFORKSHIM_LOG VFORKSHIM_STATS \
	VFORKSHIM_SITES VFORKSHIM_LOG_FILE; do
	var_ok=1
	for val in "" "$huge" $'\xff\xfe\x80' $'on\nvforkshim: forged line\e[2J' "-1" "99999999999999999999999G" "$sites"; do
		(cd "$work" && timeout 60 env VFORKSHIM=1 "$var=$val" LD_PRELOAD="$PRELOAD" "$OLDPWD/$P/report" euid) \
			> "$LOGS/out" 2> "$LOGS/err"
		rc=$?
		inputs=$((inputs + 1))
		if [ $rc != 0 ] || ! same || [ "$(grep -c '' "$LOGS/err")" -gt 1 ] || grep -q '^vforkshim: forged' "$LOGS/err"; then
			bad "$var=<${#val} bytes>: exit $rc, output $(same && echo same || echo changed), $(grep -c '' "$LOGS/err") stderr lines"
			var_ok=0
		fi
	done
	[ $var_ok = 1 ] && ok "$var: empty, 100 KB, non-UTF-8, control bytes, negative, overflowing, a 2,000-entry list: program unchanged, at most one warning line"
done
rm -rf "$work"
# VFORKSHIM_LOG_FILE that must be refused: nothing written through it
lf=$(mktemp -d)
mkdir "$lf/dir"
mkfifo "$lf/fifo"
touch "$lf/theirs" && chown 65534:65534 "$lf/theirs" 2>/dev/null
ln -s "$lf/target" "$lf/link"
for t in link dir fifo theirs; do
	[ "$t" = theirs ] && [ "$(stat -c %u "$lf/theirs")" = "$(id -u)" ] && { echo "skip: log file of another user (not root)"; continue; }
	timeout 10 env VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE="$lf/$t" \
		LD_PRELOAD="$PRELOAD" "$P/report" euid > "$LOGS/out" 2> "$LOGS/err"
	rc=$?
	written=$( { [ -e "$lf/target" ] || [ -s "$lf/theirs" ] || [ -n "$(ls -A "$lf/dir")" ]; } && echo yes || echo no)
	check "VFORKSHIM_LOG_FILE at a $t: refused with one warning on stderr, nothing written through it, no hang" \
		test "$rc/$(grep -c 'VFORKSHIM_LOG_FILE=.*cannot be used' "$LOGS/err")/$(grep -c '' "$LOGS/err")/$written" = 0/1/1/no
done
# A file of root's that nobody cannot open: silent in a process that has
# an ancestor (process 1 aside) of another user (the credentials were
# changed for it or for one of its ancestors: its stderr is the
# program's), bad values of other variables too; one warning, as above,
# in a process all of whose ancestors run as its user (as the first
# process of a PID namespace, sh, starts it). setpriv execs: report's
# parent is this shell (root); under sh, which forks it, its parent is
# nobody, its grandparent root.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && unshare -pf --mount-proc --fork true 2>/dev/null; then
	: > "$lf/root" && chmod 600 "$lf/root"
	for up in root "nobody, then root" "nobody alone"; do
		ns=() keep=() more=() want=0/0/0/0 what="silent, even with VFORKSHIM_LOG and VFORKSHIM_FORK not valid"
		[ "$up" = root ] && more=(VFORKSHIM_LOG=loud VFORKSHIM_FORK=banana)
		[ "$up" != root ] && keep=(sh -c '"$@"; exit $?' sh)
		[ "$up" = "nobody alone" ] && ns=(unshare -pf --mount-proc --fork) want=0/1/1/0 what="one warning on stderr"
		timeout 10 "${ns[@]}" setpriv --reuid=65534 --regid=65534 --clear-groups "${keep[@]}" \
			env VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE="$lf/root" "${more[@]}" \
			LD_PRELOAD="$PRELOAD" "$P/report" euid > "$LOGS/out" 2> "$LOGS/err"
		rc=$?
		check "VFORKSHIM_LOG_FILE of root's, to nobody whose ancestors are $up: $what, nothing written through it" \
			test "$rc/$(grep -c 'VFORKSHIM_LOG_FILE=.*cannot be used' "$LOGS/err")/$(grep -c '' "$LOGS/err")/$(stat -c %s "$lf/root")" = "$want"
	done
else
	echo "skip: a log file of root's to a process of nobody (not root, or no setpriv or unshare)"
fi
rm -rf "$lf"
echo "hostile $inputs configuration inputs, 4 log file traps" >> "$figures"

echo "== valgrind: the engine and the rerouted fork under memcheck"
if sanitized; then
	echo "skip: valgrind in a sanitized build (ASan and memcheck cannot share a process)"
else
	source tests/reliability/valgrind.sh
fi

echo "== security"
d=$(mktemp -d)
chmod 755 "$d"
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v setpriv >/dev/null; then
	cp "$R/secure_probe" "$d/" && chmod 4755 "$d/secure_probe"
	mkdir "$d/upper" "$d/work" && echo "$PRELOAD" > "$d/upper/ld.so.preload"
	# /etc/ld.so.preload exists only in this mount namespace, through an
	# overlay on /etc: the host's /etc is never written
	# In a chroot (make check-userlands) / is no mount point, so its
	# propagation cannot be changed; the chroot's runner already made
	# every mount private (scripts/userland), which the new namespace
	# inherits.
	ns_opts=() private="mount --make-rprivate / &&"
	if [ "$(stat -c %d:%i /)" != "$(stat -c %d:%i /proc/1/root/. 2>/dev/null)" ]; then
		ns_opts=(--propagation unchanged) private=""
	fi
	in_ns() { # TAG CMD...: the log file is log.TAG
		local tag=$1
		shift
		unshare -m "${ns_opts[@]}" sh -c "$private"' mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/upper,workdir=$1/work" /etc && shift && exec "$@"' \
			sh "$d" env VFORKSHIM=1 VFORKSHIM_FORK=all VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE="$d/log.$tag" "$@"
	}
	control=$(in_ns control "$d/secure_probe" 2>&1)
	secure=$(in_ns secure setpriv --reuid=65534 --regid=65534 --clear-groups "$d/secure_probe" 2>&1)
	check "control: the probe sees the shim read its variables and reroute ($control)" \
		test "${control%% *}/${control##* }" = "secure=0/fork=rerouted"
	check "secure mode (set-uid root, /etc/ld.so.preload): no VFORKSHIM* read, no reroute, no log ($secure)" \
		test "$secure/$( [ -s "$d/log.secure" ] && echo log || echo nolog)" = "secure=1 vforkshim_reads=0 fork=real/nolog"
else
	echo "skip: secure mode needs root, unshare and setpriv"
fi
rm -rf "$d"
"$R/hostile" fds > "$LOGS/base" 2>&1
rshim 60 VFORKSHIM_FORK=all VFORKSHIM_SPAWN=always -- "$R/hostile" fds
check "no descriptor of the shim in any child: /proc/self/fd through every path as without the shim" same
if [ "$(id -u)" = 0 ]; then
	"$R/dumpable" > "$LOGS/base" 2>&1
	rshim 60 VFORKSHIM_FORK=all -- "$R/dumpable"
	check "a rerouted child that drops to nobody cannot be read by nobody (as with a real fork)" same
	check "  and every attempt was refused: $(grep -c 'EPERM\|EACCES' "$LOGS/out") of 3, dumpable 0, parent back to 1" \
		test "$(grep -c 'EPERM\|EACCES' "$LOGS/out")/$(grep -c 'dumpable after setuid: 0' "$LOGS/out")/$(grep -c 'afterwards: 1' "$LOGS/out")" = 3/1/1
	check "  and the rerouted fork was counted" test "$(rstat fork_rerouted)" = 1
else
	echo "skip: dumpable test needs root"
fi

echo "== fuzz: the configuration and site-list parsers (libFuzzer)"
fsecs=120
[ $quick = 1 ] && fsecs=10
FIGURES=$figures tests/fuzz/run.sh "$fsecs" > "$LOGS/fuzz.out"
grep -v '^fuzz: ' "$LOGS/fuzz.out"
pass=$((pass + $(grep -c '^ok: ' "$LOGS/fuzz.out")))
fail=$((fail + $(grep -c '^FAIL: ' "$LOGS/fuzz.out")))

echo "reliability time $(( $(date +%s) - t0 )) s" >> "$figures"
# A full run writes its figures into docs/RELIABILITY.md.
if [ $quick = 0 ] && [ $fail = 0 ]; then
	{
		echo "Run $(date -u +%F) on $(nproc) cores, kernel $(uname -r), $(getconf GNU_LIBC_VERSION):"
		echo
		awk '$1 == "soak" { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			printf "- soak: %d spawns (fork %d, system %d, popen %d, posix_spawn %d) in %s s, %d timer signals, %d failures; descriptors %d before and after; RSS %.0f MiB before, %.0f MiB after\n",
				v["spawns"], v["fork"], v["system"], v["popen"], v["posix_spawn"], v["seconds"], v["signals"], v["failures"], v["fds_before"], v["rss_before_kib"] / 1024, v["rss_after_kib"] / 1024 }
			$1 == "faults" { sub(/^faults /, ""); print "- injected faults: " $0 }
			$1 == "hostile" { sub(/^hostile /, ""); print "- hostile input: " $0 }
			$1 == "fuzz" { for (i = 3; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
				printf "- fuzz, %s parser: %d inputs in %d s, corpus of %d, no failure\n", $2, f["inputs"], f["seconds"], f["corpus"] }
			$1 == "reliability" { print "- the whole run: " $3 " s" }' "$figures"
		echo "- checks: $pass passed, $fail failed"
	} > "$LOGS/figures.md"
	scripts/doc-block docs/RELIABILITY.md "<!-- reliability:figures" "<!-- /reliability:figures -->" "$LOGS/figures.md"
fi
summary "reliability"
