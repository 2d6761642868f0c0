#!/bin/bash
# The rerouted child must be invisible to the parent's other threads, to
# its signal handlers and to the dynamic loader (issue 15). Each check
# runs a program with and without the shim and compares what it prints;
# the stats line says what was rerouted and what declined, and why.
# Every case here failed before issue 15's fixes; its number in the
# issue's table is in brackets.
. "$(dirname "$0")/lib.sh"
T=$LOGS/concurrency
mkdir -p "$T"
PL=$B/tests/plugins
R=$PWD/$P/report

# both ENV... -- CMD...: CMD without the shim (base), then preloaded with
# VFORKSHIM=1 and ENV (out, err), each within a watchdog
both() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	timeout $((120 * SLOW)) "$@" > "$LOGS/base" 2> "$LOGS/base.err"
	timeout $((120 * SLOW)) env VFORKSHIM=1 VFORKSHIM_STATS=1 "${envs[@]}" LD_PRELOAD="$PRELOAD" "$@" > "$LOGS/out" 2> "$LOGS/err"
	rc=$?
}
stats() { # KEY...: their values, slash separated
	local v=() k
	for k in "$@"; do v+=("$(stat_of "$k")"); done
	(IFS=/; echo "${v[*]}")
}

echo "== the environment"
both VFORKSHIM_SITES=spawn_execve -- "$P/env_race" race 400
check "[1] setenv in a thread while a site's child execs with its own envp: no crash, the environment as the setter left it (exit $rc)" \
	test "$rc/$(same && echo same)" = 0/same
check "    rerouted, or declined while a setenv ran (rerouted+busy = 400, rerouted > 0: $(stats fork_rerouted fallback_busy))" \
	test "$(( $(stat_of fork_rerouted) + $(stat_of fallback_busy) ))/$(( $(stat_of fork_rerouted) > 0 ))" = 400/1
both VFORKSHIM_SITES=spawn_setenv -- "$P/env_race" child-setenv
check "[8] a child's setenv reaches the program it execs with environ or none, and its getenv; not the parent" same
check "    3 rerouted" test "$(stat_of fork_rerouted)" = 3
both VFORKSHIM_SITES=spawn_assign -- "$P/env_race" writer 100
check "    a user site whose child assigns environ, with a reader thread: the parent's environ intact" same
check "    learned after the first: one warning, the other 99 declined ($(stats fork_rerouted fallback_threads))" \
	test "$(stats fork_rerouted fallback_threads)/$(grep -c 'assigned environ while other threads' "$LOGS/err")" = 1/99/1

# libuv, built in (Node) and Debian's shared one: the child assigns
# environ when given an environment, as Node always does.
if pkg-config --exists libuv 2>/dev/null &&
	cc -O2 -o "$T/uv_env" tests/embed/uv_env.c $(pkg-config --cflags --libs libuv) -lpthread 2> "$T/uv.err"; then
	uv=$(pkg-config --modversion libuv)
	# a libuv that spawns without fork: the same runs, no fork to see
	# rerouted/declined/real: the child is given options without env
	# and never writes environ (shim/engine/runtimes/rt_libuv.c), threads or not
	want=20/0/0 want9=0/20/20
	uv_forks "$uv" || { want=0/0/0; want9=0/0/0; }
	both -- "$T/uv_env" alone 20
	check "[2] libuv $uv, no other thread: output as without the shim, the parent's environ intact" same
	check "    rerouted/declined/real: $want expected ($(stats fork_rerouted fallback_threads fork_real))" \
		test "$(stats fork_rerouted fallback_threads fork_real)" = $want
	both -- "$T/uv_env" threads 20
	check "[2] libuv $uv with a thread reading the environment: it never sees a child's" same
	check "    rerouted/declined/real: $want expected, environ never written ($(stats fork_rerouted fallback_threads fork_real), $(grep -c 'assigned environ' "$LOGS/err") warnings)" \
		test "$(stats fork_rerouted fallback_threads fork_real)/$(grep -c 'assigned environ' "$LOGS/err")" = $want/0
	both -- "$T/uv_env" const 20
	check "[2] libuv $uv, the options in a read-only struct (an embedder's static const): same output" same
	check "    rerouted/declined/real: $want expected, the struct only read ($(stats fork_rerouted fallback_threads fork_real))" \
		test "$(stats fork_rerouted fallback_threads fork_real)" = $want
	both -- "$T/uv_env" stdio9 20
	check "[2] libuv $uv, nine stdio entries (its child writes a heap array): same output" same
	check "    real/options: $want9 expected, every one declined ($(stats fork_rerouted fork_real fallback_options))" \
		test "$(stats fork_rerouted fork_real fallback_options)" = $want9
else
	bad "libuv's headers (libuv1-dev, from scripts/install-deps) or its build: $(head -c 300 "$T/uv.err" 2>/dev/null)"
fi

# The reader of libuv's child code (shim/engine/code/env_load.c), on a
# libuv of one function in eighteen shapes or more (tests/plugins/uv_shapes_<arch>.S:
# x86_64's and aarch64's, each its own encodings' traps), with
# a thread reading the environment: libuv's own shape rerouted, every
# other one (the register written, plainly, hidden or on a path also
# reached through a call; handed to a helper; env read before, after or
# across the store, with an index, a push or bt; a second store, through
# environ or an alias; an indirect jump; the store's own GOT load into
# the register) declined as undecoded, with the same results.
if [ -e "$PL/libuv_shape0.so" ]; then
	for s in $(ls "$PL"/libuv_shape*.so | sed 's/.*libuv_shape\([0-9]*\)\.so/\1/' | sort -n); do
		both -- "$P/uv_shapes" "$PL/libuv_shape$s.so" 20
		want=0/20/20; what="not proved, declined"
		[ $s = 0 ] && want=20/0/0 what="proved, rerouted"
		check "[2] libuv's child in shape $s: same output; $what ($(stats fork_rerouted fork_real fallback_undecoded) rerouted/real/undecoded)" \
			test "$(same && echo same)/$(stats fork_rerouted fork_real fallback_undecoded)/$(grep -c 'assigned environ' "$LOGS/err")" = "same/$want/0"
	done
fi

echo "== the dynamic loader"
both VFORKSHIM_SITES=spawn_true -- "$P/loader_lock" dlopen "$PL/libwaiter.so"
check "[3] a fork (no site) while another thread holds the loader's lock in a plugin's constructor: no hang (exit $rc)" \
	test "$rc/$(same && echo same)" = 0/same
both VFORKSHIM_SITES=spawn_true -- "$P/loader_lock" dlclose "$PL/libwaiter.so"
check "[3] the first rerouted child while another thread holds it in a plugin's destructor: no hang (exit $rc)" \
	test "$rc/$(same && echo same)" = 0/same
check "    the dlclose one rerouted: the child found execve resolved" test "$(stat_of fork_rerouted)" = 1
both VFORKSHIM_SITES=libreload_a.so:spawn_it -- "$P/plugin_reload" "$PL/libreload_a.so" "$PL/libreload_b.so"
if grep -q '^skip:' "$LOGS/base"; then
	echo "$(cat "$LOGS/base")"
else
	check "[7] a site's plugin unloaded, another loaded at its address: the newcomer's fork stays real" same
	check "    A's rerouted, B's real ($(stats fork_rerouted fork_real))" test "$(stats fork_rerouted fork_real)" = 1/1
fi

both VFORKSHIM_SITES=spawn_exec -- "$P/atfork_caller" "$PL/libatfork.so" "$R"
check "a site called by a plugin whose fork handler closes a descriptor in the child (uvloop's way): the handler ran" same
check "    the plugin's fork real, main's own rerouted ($(stats fallback_atfork fork_rerouted))" \
	test "$(stats fallback_atfork fork_rerouted)" = 1/1

# more objects with fork handlers than the site table holds: every
# fork real (a dropped entry must not let one through), one warning
mkdir -p "$T/many"
for i in $(seq 1 260); do cp "$PL/libatfork.so" "$T/many/libatfork$i.so"; done
both VFORKSHIM_SITES=spawn_exec -- "$P/atfork_caller" "$PL/libatfork.so" "$R" "$T"/many/libatfork*.so
check "260 objects with fork handlers (the table holds 256 entries): the same output" same
check "    every fork real, as fallback_resource, one warning ($(stats fork_rerouted fallback_resource))" \
	test "$(stats fork_rerouted fallback_resource)/$(grep -c 'site entries' "$LOGS/err")" = 0/2/1
# libuv linked into a program that registers a fork handler of its own:
# that object's handlers are not libuv's, the fork stays real
if [ -e "$(pkg-config --variable=libdir libuv 2>/dev/null)/libuv_a.a" ] &&
	cc -O2 -rdynamic -o "$T/uv_atfork" tests/embed/uv_atfork.c $(pkg-config --cflags libuv) \
		"$(pkg-config --variable=libdir libuv)/libuv_a.a" -lpthread -ldl 2> "$T/uva.err"; then
	both -- "$T/uv_atfork" "$R"
	check "libuv linked into a program with a fork handler of its own: the handler ran (same output)" same
	want=0/1; uv_forks "$(pkg-config --modversion libuv)" || want=0/0
	check "    declined: its object registers fork handlers not libuv's ($(stats fork_rerouted fallback_atfork), $want expected)" \
		test "$(stats fork_rerouted fallback_atfork)" = $want
else
	echo "skip: libuv's static archive (libuv1-dev) is not there or does not link: $(head -c 200 "$T/uva.err" 2>/dev/null)"
fi
# Perl linked into a program of another name, beside a fork handler of
# that program's own: Perl's handlers were read, that program's were not
both -- "$P/perl_atfork" "$R"
check "Perl's site in a program with a fork handler of its own: the handler ran (same output)" same
check "    declined: its object registers fork handlers not Perl's ($(stats fork_rerouted fallback_atfork))" \
	test "$(stats fork_rerouted fallback_atfork)" = 0/1

echo "== signal handlers"
both VFORKSHIM_SITES=site_run -- "$P/signal_fork" 3
check "[4] a handler's fork while a site waits further up the stack: real, its write stays in its own memory" same
check "    3 site forks rerouted, 3 handler forks real" test "$(stats fork_rerouted fork_real)" = 3/3
both VFORKSHIM_SITES=handler_spawn -- "$P/sig_site" "$R"
check "a site that is itself a signal handler: same output" same
check "    its fork is a handler's: real (fallback_signal=$(stat_of fallback_signal))" \
	test "$(stats fork_rerouted fallback_signal)" = 0/1
both VFORKSHIM_SITES=handler_spawn -- "$P/sig_site" "$R" called
check "a site called by a signal handler: same output" same
check "    its fork is a handler's: real (fallback_signal=$(stat_of fallback_signal))" \
	test "$(stats fork_rerouted fallback_signal)" = 0/1
both VFORKSHIM_SITES=site_run/8 -- "$P/signal_fork" 3
check "[4] the same with the site allowed 8 frames deep: the signal frame ends the walk" same
check "    the handler's forks counted as fallback_signal" test "$(stats fork_rerouted fallback_signal)" = 3/3

echo "== what the exec'd program starts with"
both VFORKSHIM_SITES=spawn_report -- "$P/exec_edges" sigs "$R"
check "[6] signals 32 and 33 not left ignored, the mask as after fork+exec" same
check "    rerouted" test "$(stat_of fork_rerouted)" = 1
both VFORKSHIM_FORK=all -- "$P/exec_edges" execveat "$R"
if grep -q '^no execveat' "$LOGS/base"; then
	echo "skip: [11] $(cat "$LOGS/base") (glibc 2.34 added it)"
else
	check "[11] execveat in a rerouted child: the mask and the environment as after fork+exec" same
	check "    rerouted" test "$(stat_of fork_rerouted)" = 1
fi
both VFORKSHIM_FORK=all -- "$P/exec_edges" return
check "[12] a child that returns from main (fork=all): no atexit handler in it, the parent's runs, its stats line too" \
	test "$(cat "$LOGS/out")/$(stat_of fork_rerouted)" = "child status 3
atexit handler ran in the parent/1"

# A site's child that starts programs itself (issue 21): each starts as
# after a fork and that call, with the child's environment and mask,
# while a thread of the parent reads the environment.
for m in system system-sh popen spawn spawnp spawn-mask spawn-envp fexecve system-ignchld system-sigint \
	system-blocked popen-left popen-copy popen-fclose pclose-parents popen-race; do
	both VFORKSHIM_SITES=run_helper -- "$P/child_spawns" "$m" "$R"
	check "a site's child starts a program ($m): its environment, mask and result as after fork and $m; the parent's reader never sees the child's variable ($(stats fork_rerouted))" \
		test "$rc/$(same && echo same)/$(stats fork_rerouted)/$(grep -c 'reader saw HELPER: no' "$LOGS/out")" = 0/same/1/1
done

echo "== a fork while the library holds state (issue 21)"
# Every piece of the library's per-process state must be right in the
# child of any fork, whoever made it (tests/progs/fork_state.c): each
# mode forks while a window, a count, a rebuild or a lock is held, from
# another thread and from a site's child.
FS=$P/fork_state
both VFORKSHIM_SITES=spawn_detached -- "$FS" grandchild
check "a site's child forks while a thread idles: the grandchild's setenv and exec run (exit $rc)" \
	test "$rc/$(same && echo same)/$(stats fork_rerouted)" = 0/same/1
both VFORKSHIM_SITES=spawn_slow -- "$FS" thread-fork
check "another thread forks while a site's child runs: its child's setenv and exec run ($(stats fork_rerouted fork_real))" \
	test "$rc/$(same && echo same)/$(stats fork_rerouted fork_real)" = 0/same/1/1
both VFORKSHIM_SITES=spawn_true -- "$FS" setenv-busy "$(N 20)"
n=$(N 20)
check "workers forked while a thread runs setenv in a loop: none hung, each one's 3 spawns rerouted (exit $rc)" \
	grep -qx "$n workers: 0 hung, 0 failed, $((3 * n)) of their spawns ran in their memory" "$LOGS/out"
for how in thread site; do
	n=$(N 60)
	both VFORKSHIM_SITES=spawn_true,spawn_worker VFORKSHIM_LOG=info -- "$FS" rebuild "$n" "$PWD/$PL/libreload_a.so" $how
	# a worker forked while another thread held the loader's list lock
	# (glibc leaves it held in the child) keeps its forks real, and says
	# so once (so does a declined spawn_worker's child that forks it)
	stuck=$(grep -c "held the loader's list lock" "$LOGS/err")
	shared=$(sed -n 's/.* failed, \([0-9]*\) of their spawns.*/\1/p' "$LOGS/out")
	check "workers forked$([ $how = site ] && echo " by a site's child") while a thread rebuilds the site table: none hung, $shared of $((3 * n)) spawns rerouted, the others in the copies ($stuck) that inherited the loader's lock held" \
		test "$(grep -c "^$n workers: 0 hung, 0 failed" "$LOGS/out")/$(( shared > 0 && 3 * n - shared <= 3 * stuck ))" = 1/1
done
both VFORKSHIM_SITES=spawn_rawfork -- "$FS" raw-copy
check "a site's child copied by a raw fork: the copy's environment, mask, stdio and atexit as without the shim ($(stats fork_rerouted))" \
	test "$rc/$(same && echo same)" = 0/same
both VFORKSHIM_SITES=spawn_true -- "$FS" raw-stats
check "counts of a parent, its vfork child and a raw fork's child: each its own (parent/copy: $(grep -o 'fork_rerouted=[0-9]*' "$LOGS/err" | tail -n 1)/$(grep -o 'fork_rerouted=[0-9]*' "$LOGS/err" | head -n 1))" \
	test "$(same && echo same)/$(grep -c '^vforkshim: stats' "$LOGS/err")/$(grep -o 'fork_rerouted=[0-9]*' "$LOGS/err" | paste -sd/)" = same/2/fork_rerouted=2/fork_rerouted=3
n=$(N 40)
both VFORKSHIM_SPAWN=always -- "$FS" popen-copy "$n"
check "copies made by a raw fork while a thread runs popen on the engine: each one's popen runs" \
	grep -qx "$n copies: $n ran popen, 0 hung" "$LOGS/out"
# a copy that starts threads before its first call: one renews, the
# others wait (8 threads' first system() at once left SIGINT ignored)
for how in "fork 1" "raw 1" "raw 15"; do
	n=$(N 300)
	both VFORKSHIM_SPAWN=always VFORKSHIM_SITES=spawn_true -- "$FS" copy-threads "$n" $how
	check "copies ($how) whose 8 threads make their first calls at once: none hung, each one's SIGINT, setenv, fork, popen and system right" \
		grep -qx "$n copies with 8 threads each: 0 hung, 0 failed a check" "$LOGS/out"
done
both VFORKSHIM_SITES=spawn_true -- "$FS" own-iterate
check "a copy whose own thread is in dl_iterate_phdr at its first call: its later forks rerouted ($(cat "$LOGS/out"))" \
	grep -qx "the copy's spawns: 5 of 5 ran in its memory" "$LOGS/out"
both VFORKSHIM_SITES=spawn_true -- "$FS" loader-hold
check "a copy made while another thread holds the loader's list lock: its fork does not wait for ever ($(stats fork_rerouted fallback_busy))" \
	test "$rc/$(same && echo same)" = 0/same
if [ "$(id -u)" = 0 ] && unshare -pf --mount-proc --fork true 2> /dev/null; then
	# as process 1 (a container's first process), whose thread id, 1, is
	# found in many words of the loader's data: the lock by its pattern
	both VFORKSHIM_SITES=spawn_true -- unshare -pf --mount-proc --fork "$FS" loader-hold
	check "    the same as process 1 of a PID namespace" test "$rc/$(same && echo same)" = 0/same
else
	echo "skip: the copy of process 1 (needs root and unshare)"
fi

echo "== runtimes"
if have node; then
	both -- node tests/embed/node_share_env.js 40
	check "[1][2] Node: a worker on SHARE_ENV sets and reads variables while main spawns with an env: same results (exit $rc)" same
	want=40/0; uv_forks "$(node -p process.versions.uv)" || want=0/0
	check "    every spawn rerouted, environ never written ($(stats fork_rerouted fork_real), $want expected)" \
		test "$(stats fork_rerouted fork_real)/$(grep -c 'assigned environ' "$LOGS/err")" = $want/0
fi
if have perl; then
	both -- perl tests/embed/perl_alarm.pl
	check "[4] Perl: \$SIG{ALRM} forks a worker while system() waits: its write stays in its own memory" same
	check "    system rerouted, the handler's fork real ($(stats fork_rerouted fork_real))" \
		test "$(stats fork_rerouted fork_real)" = 1/1
	both -- perl tests/embed/perl_list_open.pl
	check "[5] Perl: list-form pipe opens with undef, an object and FATAL warnings: no warning, side effect or die in the parent" same
	check "    not a site: all 4 real ($(stats fork_rerouted fork_real))" test "$(stats fork_rerouted fork_real)" = 0/4
fi
if have ruby; then
	both -- ruby tests/embed/ruby_threads.rb 20
	check "Ruby: threads set ENV, call localtime, getaddrinfo and allocate while two others spawn: same results" same
	if [ "$(id -u)" = 0 ]; then
		check "    as root every spawn rerouted ($(stats fork_rerouted fork_real))" test "$(stats fork_rerouted fork_real)" = 80/0
	fi
fi
if have perl && perl -Mthreads -e 1 2>/dev/null; then
	both -- perl tests/embed/perl_threads.pl 20
	check "Perl: ithreads set %ENV, call localtime and getaddrinfo while main runs system(): same results" same
	# up to 5.36 the main interpreter writes environ unlocked (docs/sites.md)
	if perl -e 'exit($] >= 5.038 ? 0 : 1)'; then
		check "    every system() rerouted ($(stats fork_rerouted fork_real))" test "$(stats fork_rerouted fork_real)" = 40/0
	else
		check "    Perl $(perl -e 'printf "%vd", $^V') writes environ unlocked: every system() declined ($(stats fork_rerouted fallback_threads))" \
			test "$(stats fork_rerouted fallback_threads)" = 0/40
	fi
fi
if have java && have javac; then
	javac -d "$T" tests/embed/EnvSame.java
	both VFORKSHIM_FORK=all -- java -cp "$T" EnvSame
	check "[9] Java under fork=all: an inherited environment and an explicit copy reach the child alike" same
	check "    the JVM's environment lacks VFORKSHIM_FORK, its children's too" \
		grep -q 'VFORKSHIM_FORK in children: 0' "$LOGS/out"
fi

echo "== torture (short; make check-reliability runs it longer)"
both VFORKSHIM_SITES=torture_spawn -- "$B/tests/reliability/torture" "$(N 60)" "$PWD/$PL/libreload_b.so"
check "spawners beside setenv, getenv, dlopen/dlclose, malloc, localtime, getaddrinfo and a signal handler: same results (exit $rc)" \
	test "$rc/$(same && echo same)" = 0/same
check "    rerouted children among them ($(stats fork_rerouted fallback_busy))" test "$(stat_of fork_rerouted)" -gt 0 2>/dev/null

summary concurrency
