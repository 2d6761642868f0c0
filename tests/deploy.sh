#!/bin/bash
# Deployment and debugging: the vforkshim command (run, doctor,
# systemd), the gdb commands on a real program, make install and
# uninstall, the man pages.
. "$(dirname "$0")/lib.sh"
if sanitized; then
	# the command preloads the library alone; a sanitized one needs
	# libasan ahead of it. What is tested here is the scripts.
	echo "skip: deploy tests (the plain make check runs them)"
	exit 0
fi
V=scripts/vforkshim
export VFORKSHIM_LIB=$LIB
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- run ----
$V -- sh -c 'exit 7'
check "run: the command's exit status passes through (7)" test $? = 7
$V -- sh -c 'kill -TERM $$'
check "run: a signal that kills the command passes through (143)" test $? = 143
out=$(LD_PRELOAD=$LIB $V --lib="$LIB" -- sh -c 'echo "$LD_PRELOAD"' 2>/dev/null)
check "run: the library is in LD_PRELOAD once when it was there already" test "$out" = "$LIB"
out=$(LD_PRELOAD=/usr/lib/x-not-there.so $V -- sh -c 'echo "$LD_PRELOAD"' 2>/dev/null)
check "run: an existing LD_PRELOAD is kept, ours added after it" test "$out" = "/usr/lib/x-not-there.so $LIB"
$V --stats --fork=sites --spawn=auto --log=warn --min-rss=0 --site=uv_spawn --site=lib:sym/3 -- \
	perl -e 'system("/bin/true") == 0 or exit 1; print "$ENV{VFORKSHIM_SITES}\n"' > "$LOGS/out" 2> "$LOGS/err"
check "run: every option set its variable, and perl's system() was rerouted (fork_rerouted=$(stat_of fork_rerouted))" \
	test "$(cat "$LOGS/out")/$(stat_of fork_rerouted)" = "uv_spawn,lib:sym/3/1"
for bad in --bogus --fork=some --spawn= --min-rss=12T --log=loud --site=a,b --site=a/0; do
	$V "$bad" -- true 2> "$LOGS/err"
	rc=$?
	check "run: '$bad' refused with status 2 and one line naming it" \
		test "$rc/$(wc -l < "$LOGS/err")/$(grep -c -- "${bad%%=*}" "$LOGS/err")" = 2/1/1
done
$V -- vforkshim-no-such-command 2> /dev/null
check "run: a missing command exits 127" test $? = 127
check "--help and --version" test "$($V --help | head -n 1 | cut -c1-6)/$($V --version)" = "usage:/vforkshim 0.1.0"

# ---- doctor ----
$V doctor > "$LOGS/out"
rc=$?
check "doctor: exit 0 here, a vfork clone tried (its own probe) and rerouted, glibc's spawns found not copying (exit $rc)" \
	test "$rc/$(grep -c 'allowed, rerouted\|without copying *yes\|clone stub: yes' "$LOGS/out")" = 0/4
# one line per runtime on the machine, each saying what the shim does
# with it; the same verdicts as the runtimes' own tests
if have perl; then
	check "doctor: Perl's system() reported rerouted" grep -q '^  perl [0-9.]* *forks, rerouted$' "$LOGS/out"
fi
if have node; then
	# libuv 1.53 and later spawn with posix_spawn (tests/lib.sh)
	if uv_forks "$(node -p 'process.versions.uv')"; then want="forks, rerouted"
	else want="already spawns without copying"; fi
	check "doctor: Node reported as '$want'" grep -q "^  node v[0-9.]* *$want\$" "$LOGS/out"
fi

# ---- systemd ----
r=$tmp/root
mkdir -p "$r/etc/systemd/system" "$r/bin"
cp /bin/true "$r/bin/"
printf '[Unit]\nDescription=sample\nDefaultDependencies=no\n[Service]\nExecStart=/bin/true\nEnvironment=LD_PRELOAD=/usr/lib/libother.so\n' \
	> "$r/etc/systemd/system/sample.service"
(cd "$r" && find . | sort) > "$tmp/before"
$V systemd enable sample --root "$r" --stats --fork=all > /dev/null
rc=$?
f=$r/etc/systemd/system/sample.service.d/50-vforkshim.conf
check "systemd enable --root: exit 0 (exit $rc)" test $rc = 0
check "systemd enable: the drop-in sets the variables and merges the unit's LD_PRELOAD" \
	test "$(grep -c '^Environment=VFORKSHIM=1$\|^Environment="VFORKSHIM_STATS=1"$\|^Environment="VFORKSHIM_FORK=all"$' "$f")/$(grep '^Environment="LD_PRELOAD=' "$f")" = \
	"3/Environment=\"LD_PRELOAD=/usr/lib/libother.so $LIB\""
if command -v systemd-analyze > /dev/null; then
	if systemd-analyze verify --help 2>&1 | grep -q -- --root; then
		systemd-analyze verify --root="$r" sample.service > "$LOGS/verify" 2>&1
	else # systemd before 248 has no --root: the unit path is the tree's
		SYSTEMD_UNIT_PATH="$r/etc/systemd/system:" systemd-analyze verify sample.service > "$LOGS/verify" 2>&1
	fi
	rc=$?
	check "systemd enable: systemd-analyze verify accepts the unit with the drop-in, no warning (exit $rc)" \
		test "$rc/$(wc -c < "$LOGS/verify")" = 0/0
else
	echo "skip: systemd-analyze not installed (scripts/install-deps installs it)"
fi
SYSTEMD_ROOT=$r $V systemd status sample > "$LOGS/out"
check "systemd status: shows the drop-in" grep -q 'enabled by' "$LOGS/out"
SYSTEMD_ROOT=$r $V systemd enable sample > /dev/null
check "systemd enable with SYSTEMD_ROOT: exit 0 (exit $?)" test $? = 0
check "systemd enable again: the drop-in replaced, LD_PRELOAD not doubled" \
	test "$(grep -c "$LIB" "$f")/$(grep -c '^Environment=' "$f")" = 1/2
$V systemd disable sample --root "$r" > /dev/null
rc=$?
(cd "$r" && find . | sort) > "$tmp/after"
check "systemd disable --root: no trace left, exit 0 (exit $rc)" test "$rc/$(cmp -s "$tmp/before" "$tmp/after" && echo same)" = 0/same
$V systemd disable sample --root "$r" > "$LOGS/out"
rc=$?
check "systemd disable of a unit not enabled: says so, exit 0 (exit $rc)" test "$rc/$(grep -c 'not enabled' "$LOGS/out")" = 0/1
SYSTEMD_ROOT=$r $V systemd status sample > /dev/null
check "systemd status of a unit not enabled: exit 3, as systemctl's (exit $?)" test $? = 3
$V systemd enable ../evil --root "$r" 2> /dev/null
check "systemd: a unit name with a slash refused (status 2)" test $? = 2

# ---- vforkshim ps: a running service's counters ----
if have node; then
	cat > "$tmp/server.js" <<'EOF'
const cp = require("child_process");
for (let i = 0; i < 5; i++) cp.spawnSync("/bin/true");
process.on("SIGTERM", () => process.exit(0));
console.log("ready");
setInterval(() => {}, 1000);
EOF
	VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE="$tmp/server.stats" LD_PRELOAD="$LIB" node "$tmp/server.js" > "$tmp/server.out" &
	spid=$!
	LD_PRELOAD="$LIB" sleep 30 & # preloaded, VFORKSHIM unset
	ipid=$!
	for _ in $(seq 100); do grep -q ready "$tmp/server.out" && break; sleep 0.1; done
	$V ps --json > "$LOGS/ps.json"
	$V ps > "$LOGS/ps"
	if [ "$(id -u)" = 0 ] && command -v runuser > /dev/null; then
		runuser -u nobody -- $V ps > "$LOGS/ps.nobody" 2>&1
	fi
	kill -TERM $spid; wait $spid
	kill $ipid; wait $ipid 2> /dev/null
	live=$(grep "\"pid\": $spid," "$LOGS/ps.json" | grep -o '"fork_rerouted".*}' | tr -d '{}" ' | tr ',:' ' =')
	atexit=$(grep "stats pid=$spid " "$tmp/server.stats" | cut -d' ' -f4-)
	check "ps: a running Node's counters, read from outside, are its stats at exit (${live:-none})" \
		test -n "$live" -a "$live" = "$atexit"
	check "    its 5 spawns counted" test "$(( $(sed -n 's/.*fork_rerouted=\([0-9]*\).*/\1/p' <<<"$live") + $(sed -n 's/.*fork_real=\([0-9]*\).*/\1/p' <<<"$live") + $(sed -n 's/.*spawn_libc=\([0-9]*\).*/\1/p' <<<"$live") ))" -ge 5
	check "ps: a preloaded process without VFORKSHIM=1 is shown inert" grep -q "^$ipid .*inert" "$LOGS/ps"
	check "ps --json: valid JSON" python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$LOGS/ps.json"
	if [ -e "$LOGS/ps.nobody" ]; then
		check "ps as another user: root's processes not shown, counted as unreadable" \
			test "$(grep -c "^$spid " "$LOGS/ps.nobody")/$(grep -c 'cannot be read' "$LOGS/ps.nobody")" = 0/1
	fi
fi

# ---- vforkshim ps: a forged record ----
# Any process can map a file named libvforkshim.so writable and write a
# record of its own in it (tests/progs/forge_record.c, one hostile field
# per variant). ps must give it exactly one row, "unreadable record",
# print nothing on stderr, exit 0, and show a real preloaded process
# (perl, after 3 system() calls) as it did without the forger. The
# variant `valid` proves that the forger writes the layout ps reads.
if have perl; then
	VFORKSHIM=1 VFORKSHIM_MIN_RSS=0 VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE="$tmp/real.stats" LD_PRELOAD="$LIB" \
		perl -e '$| = 1; $SIG{TERM} = sub { exit 0 }; system("/bin/true") for 1 .. 3; print "ready\n"; sleep 1 while 1' \
		> "$tmp/real.out" &
	rpid=$!
	for _ in $(seq 100); do grep -q ready "$tmp/real.out" && break; sleep 0.1; done
	# ps_rows.py JSON FPID RPID BASE: whether JSON parses, the forger's
	# objects (state, mode and counters; the state alone when that is all
	# it has) and whether the real process's object is BASE's
	cat > "$tmp/ps_rows.py" <<'EOF'
import json, sys
try:
    rows = json.load(open(sys.argv[1]))
except ValueError:
    print("invalid JSON"); sys.exit()
fpid, rpid = int(sys.argv[2]), int(sys.argv[3])
base = [r for r in json.load(open(sys.argv[4])) if r["pid"] == rpid]
real = [r for r in rows if r["pid"] == rpid]
forged = [r for r in rows if r["pid"] == fpid]
def desc(r):
    if set(r) == {"pid", "user", "command", "state"}:
        return r["state"]
    return "%s|%s|%s" % (r["state"], r.get("mode"), " ".join("%s=%s" % kv for kv in r.get("counters", {}).items()))
print("valid %d %s %s" % (len(forged), ",".join(desc(r) for r in forged), "same" if len(base) == 1 and real == base else "changed"))
EOF
	got_if_not() { [ "$1" = "$2" ] || echo " (got: $1)"; } # GOT WANT: GOT, shown when it is not WANT
	known='^vforkshim ps: [0-9]* processes whose maps cannot be read (permission denied)$' # other users', --json
	$V ps > "$LOGS/ps.base" 2> "$LOGS/ps.base.err"
	rc=$?
	$V ps --json > "$LOGS/ps.base.json" 2>> "$LOGS/ps.base.err"
	rc=$rc/$?
	real_row=$(grep "^$rpid " "$LOGS/ps.base")
	real_counts=$(python3 -c 'import json, sys
print(" ".join("%s=%s" % kv for r in json.load(open(sys.argv[1])) if r["pid"] == int(sys.argv[2]) for kv in r["counters"].items()))' \
		"$LOGS/ps.base.json" "$rpid")
	check "ps, without a forger: exit 0, no stderr, the real process on (fork=sites spawn=auto) (exit $rc)" \
		test "$rc/$(grep -cv "$known" "$LOGS/ps.base.err")/$(grep -c "^$rpid .* on (fork=sites spawn=auto) fork_rerouted=" "$LOGS/ps.base")" = 0/0/0/1
	# the well-formed record's counters are 1, 2, 3 ... under the library's names
	i=0 valid_counts=""
	for kv in $real_counts; do i=$((i + 1)) valid_counts="$valid_counts ${kv%%=*}=$i"; done
	valid_counts=${valid_counts# }
	mkdir "$tmp/forge"
	for v in valid fork-4 fork-1 spawn7 enabled5 word3 size-far counters-far counters-odd owner-neg \
		names-nonul names-ctl names-many record-cut magic-end; do
		"$P/forge_record" "$tmp/forge" "$v" > "$tmp/forge.out" &
		fpid=$!
		for _ in $(seq 100); do grep -q ready "$tmp/forge.out" && break; sleep 0.05; done
		$V ps > "$LOGS/ps.forged" 2> "$LOGS/ps.forged.err"
		rc=$?
		$V ps --json > "$LOGS/ps.forged.json" 2> "$LOGS/ps.forged.json.err"
		jrc=$?
		kill $fpid; wait $fpid 2> /dev/null
		if [ $v = valid ]; then
			what="shown on, counters 1, 2, 3 ..."
			want="forge_record on (fork=sites spawn=auto) $valid_counts" jwant="on|fork=sites spawn=auto|$valid_counts"
		else
			what="'unreadable record'"
			want="forge_record unreadable record" jwant="unreadable record"
		fi
		# the row without its pid and user, spaces squeezed
		row=$(grep "^$fpid " "$LOGS/ps.forged" | tr -s ' ' | cut -d' ' -f3- | sed 's/ $//')
		got="$rc/$(wc -c < "$LOGS/ps.forged.err")/$(grep -c "^$fpid " "$LOGS/ps.forged")/$row"
		got="$got/$(grep -c "^$rpid " "$LOGS/ps.forged")/$(grep "^$rpid " "$LOGS/ps.forged" | cmp -s - <(echo "$real_row") && echo same)"
		got="$got/$(grep -ac '[^[:print:]]' "$LOGS/ps.forged")" want="0/0/1/$want/1/same/0"
		check "ps, forged record $v: exit 0, stderr empty, one row $what, the real row unchanged, all printable$(got_if_not "$got" "$want")" \
			test "$got" = "$want"
		got="$jrc/$(grep -cv "$known" "$LOGS/ps.forged.json.err")/$(python3 "$tmp/ps_rows.py" "$LOGS/ps.forged.json" "$fpid" "$rpid" "$LOGS/ps.base.json")"
		want="0/0/valid 1 $jwant same"
		check "ps --json, forged record $v: exit 0, no stderr, valid, one object $what, the real one unchanged$(got_if_not "$got" "$want")" \
			test "$got" = "$want"
	done
	kill -TERM $rpid; wait $rpid
	atexit=$(grep "stats pid=$rpid " "$tmp/real.stats" | cut -d' ' -f4-)
	check "ps: the real process's counters, read beside the forgers, are its stats at exit$(got_if_not "${real_counts:-none}" "$atexit")" \
		test -n "$real_counts" -a "$real_counts" = "$atexit"
fi

# ---- make demo: the defaults, honestly ----
GIB=0 COUNT=2 scripts/demo/demo.sh > "$LOGS/demo" 2>&1
rc=$?
check "demo: runs (exit $rc), every method says what the shim did" \
	test "$rc/$(grep -cE '^(system|popen|posix_spawn|fork\+exec) .*(passed to glibc|engine|rerouted|a real fork)' "$LOGS/demo")" = 0/4
check "demo: the program's own site named, its forks rerouted (3 of 3)" grep -q 'VFORKSHIM_SITES=via_fork_exec .*rerouted 3 of 3' "$LOGS/demo"
# a line where "with" is slower must say why
slow=$(awk '/^(system|popen|posix_spawn|fork\+exec)/ { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9.]+$/) { a = $i; b = $(i + 1); break }
		if (b + 0 > a + 0 && $0 !~ /slower with|the difference is/) print }
	/ \/ / { split($0, x, " / "); n = split(x[1], y, " "); if (x[2] + 0 > y[n] + 0 && $0 !~ /slower with|the difference is/) print }' "$LOGS/demo")
check "demo: no line shows the shim slower without saying why${slow:+: $slow}" test -z "$slow"

# ---- gdb ----
if command -v gdb > /dev/null; then
	# The commands from a file, not -ex with -batch: gdb 10 (bullseye) does
	# not run a breakpoint's commands in batch mode; from a command file,
	# with its input closed, every gdb does.
	cat > "$tmp/gdb.cmds" <<CMDS
set breakpoint pending on
set exec-wrapper env LD_PRELOAD=$LIB VFORKSHIM=1 VFORKSHIM_MIN_RSS=1k
break shim_destructor
vforkshim-break-fallback
run
continue
vforkshim-last 3
vforkshim-stats
vforkshim-config
kill
quit
CMDS
	timeout 300 gdb -q -nx -x scripts/gdb/vforkshim.gdb -x "$tmp/gdb.cmds" \
		--args perl -e 'system("/bin/true"); system("/bin/true"); open(F, "echo hi |"); print <F>; close F' \
		< /dev/null > "$LOGS/gdb" 2>&1
	g() { grep -c "$1" "$LOGS/gdb"; }
	check "gdb vforkshim-break-fallback: stopped at the 2-arg pipe open's fork, reason policy" \
		test "$(g '^vforkshim: fork falls back to libc, reason policy$')/$(g 'Perl_my_popen')" = 1/1
	# the site's label: its symbol up to 5.36, found by its op table after
	check "gdb vforkshim-last: two forks rerouted at Perl's pp_system, then one real (policy)" \
		test "$(g '^fork #[12] in pid [0-9]*: rerouted at \(Perl_pp_system\|perl:pp_system\)$')/$(g '^fork #3 in pid [0-9]*: real fork, reason policy$')" = 2/1
	check "gdb vforkshim-stats: the live counters (2 rerouted, 1 real, fallback_policy=1)" \
		test "$(g '^pid [0-9]*: fork_rerouted=2 fork_real=1 spawn_engine=0 spawn_libc=0$')/$(g '^  fallback_policy=1$')" = 1/1
	check "gdb vforkshim-config: the configuration in force (on, sites, min RSS 1024)" \
		test "$(g '^VFORKSHIM  *on$')/$(g '^VFORKSHIM_FORK  *sites$')/$(g '^VFORKSHIM_MIN_RSS  *1024 bytes$')" = 1/1/1
else
	echo "skip: gdb not installed (scripts/install-deps installs it)"
fi

# ---- install ----
d=$tmp/dest
make -s install DESTDIR="$d" PREFIX=/usr/local B="$B" > "$LOGS/install" 2>&1
(cd "$d" && find . -type f | sort) > "$tmp/files"
cat > "$tmp/want" <<'LIST'
./usr/local/bin/vforkshim
./usr/local/lib/libvforkshim-engine.so
./usr/local/lib/libvforkshim.so
./usr/local/libexec/vforkshim/audit
./usr/local/libexec/vforkshim/probe
./usr/local/libexec/vforkshim/ps
./usr/local/share/man/man1/vforkshim.1
./usr/local/share/man/man7/vforkshim.7
./usr/local/share/vforkshim/vforkshim.conf.example
./usr/local/share/vforkshim/vforkshim.gdb
LIST
check "make install: exactly the front and the engine, the command and its probe, ps and audit, the gdb script, the example drop-in, the man pages" \
	cmp -s "$tmp/want" "$tmp/files"
check "make install: the installed command finds the installed library, probe and ps" \
	test "$(grep -cx 'LIB_INSTALLED=/usr/local/lib/libvforkshim.so\|PROBE_INSTALLED=/usr/local/libexec/vforkshim/probe\|PS_INSTALLED=/usr/local/libexec/vforkshim/ps\|AUDIT_INSTALLED=/usr/local/libexec/vforkshim/audit' "$d/usr/local/bin/vforkshim")" = 4
make -s uninstall DESTDIR="$d" PREFIX=/usr/local B="$B" >> "$LOGS/install" 2>&1
# from any prefix: the front finds the engine beside itself
px=$tmp/any/where
make -s install PREFIX="$px" B="$B" >> "$LOGS/install" 2>&1
if have perl; then
	perl -e 'system("/bin/echo", "x")' > "$LOGS/base" 2> "$LOGS/base.err"
	env VFORKSHIM=1 VFORKSHIM_STATS=1 LD_PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD }$px/lib/libvforkshim.so" \
		perl -e 'system("/bin/echo", "x")' > "$LOGS/out" 2> "$LOGS/err"
	check "make install PREFIX=elsewhere: the installed front loads the installed engine, Perl's system() rerouted" \
		eval 'same && [ "$(stat_of fork_rerouted)" = 1 ] && ! grep -q "engine not loaded" "$LOGS/err"'
	mv "$px" "$tmp/moved"
	env VFORKSHIM=1 VFORKSHIM_STATS=1 LD_PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD }$tmp/moved/lib/libvforkshim.so" \
		perl -e 'system("/bin/echo", "x")' > "$LOGS/out" 2> "$LOGS/err"
	check "the installed tree moved as a whole: still found, still rerouted" \
		eval 'same && [ "$(stat_of fork_rerouted)" = 1 ]'
	rm "$tmp/moved/lib/libvforkshim-engine.so"
	env VFORKSHIM=1 VFORKSHIM_STATS=1 LD_PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD }$tmp/moved/lib/libvforkshim.so" \
		perl -e 'system("/bin/echo", "x")' > "$LOGS/out" 2> "$LOGS/err"
	# Perl and the echo it starts (which inherits VFORKSHIM_STATS): one
	# line each, and nothing else
	check "the engine missing: one warning line per process, the program as without the library" \
		eval 'same && [ "$(grep -c "^vforkshim: warning: engine not loaded, the library is inert: .*libvforkshim-engine.so" "$LOGS/err")" = 2 ] && [ "$(grep -vc "^vforkshim: warning: engine not loaded" "$LOGS/err")" = 0 ]'
fi
check "make uninstall: no file left" test -z "$(cd "$d" && find . -type f)"
check "make uninstall: no folder of ours left" test ! -e "$d/usr/local/libexec/vforkshim" -a ! -e "$d/usr/local/share/vforkshim"

# ---- man pages ----
for m in docs/vforkshim.1 docs/vforkshim.7; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 > /dev/null)
	check "man --warnings -l $m: renders without a warning" test -z "$w" -a "$(MANWIDTH=80 man -l "$m" 2>/dev/null | wc -l)" -gt 20
done

summary deploy
