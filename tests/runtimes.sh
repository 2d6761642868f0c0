#!/bin/bash
# The real runtimes, VFORKSHIM_FORK=sites (the default): each script's
# output with the shim must equal its output without, and the stats line
# must show every exec-bound fork rerouted at the runtime's site, every
# fork that runs the language's own code in the child kept real, and
# every site declined where its child writes what the runtime's other
# threads read (docs/sites.md).
# A runtime missing from the machine is skipped with a line saying so
# (scripts/install-deps installs them when run as root).
. "$(dirname "$0")/lib.sh"
T=$LOGS/runtimes
mkdir -p "$T"



# Node: libuv's uv_spawn (tests/node.sh; make check-nodes runs it on
# nodejs.org's own builds too).
. "$(dirname "$0")/node.sh"

# Ruby: as root Ruby forks (rerouted at the libruby function that would
# vfork); unprivileged it vforks itself and the shim sees nothing.
if have ruby; then
	cat > "$T/t.rb" <<'EOF'
puts `echo backtick`
system("echo", "system-list") or abort
system("echo system-sh $HOME | tr a-z A-Z")
IO.popen(["echo", "popen"]) { |io| puts io.read }
r, w = IO.pipe
pid = Process.spawn({ "RBVAR" => "v1" }, "sh", "-c", "echo spawn $RBVAR; pwd; echo err >&2",
                    out: w, err: [:child, :out], chdir: "/tmp")
w.close; Process.wait(pid); puts r.read
system("vforkshim-no-such-program"); puts "enoent: #{$?.exitstatus}"
pid = fork { puts "ruby code in a forked child"; exit!(4) }
Process.wait(pid); puts "fork: #{$?.exitstatus}"
EOF
	run_both ruby "$T/t.rb"
	check "ruby: system, backticks, IO.popen, Process.spawn with redirections: same output" same
	if [ "$(id -u)" = 0 ]; then
		check "ruby (root): 6 exec-bound forks rerouted, Process.fork with Ruby code real (6/1)" \
			test "$(counts)" = 6/1
	else
		check "ruby (unprivileged): Ruby vforks itself; only Process.fork reaches fork, real (0/1)" \
			test "$(counts)" = 0/1
	fi
fi

# Perl: system is rerouted; list-form pipe opens (their child stringifies
# the arguments: Perl code), backticks, 2-arg pipe opens (my_popen: "-"
# forks Perl code) and fork stay real. A
# failed exec whose "Can't exec" warning runs a __WARN__ handler, or is
# FATAL, runs in a real fork of the child: the parent sees nothing of it.
if have perl; then
	cat > "$T/t.pl" <<'EOF'
use strict; use warnings;
$| = 1;
system("echo", "system-list") == 0 or die;
system("echo system-sh | tr a-z A-Z");
open(my $fh, "-|", "echo", "list-pipe") or die; print <$fh>; close $fh;
print `echo backtick`;
open($fh, "echo two-arg-pipe |") or die; print <$fh>; close $fh;
my @w; { local $SIG{__WARN__} = sub { push @w, @_ };
  my $r = system("vforkshim-no-such-program"); print "enoent: $r ", ($! + 0), " warnings in parent: ", scalar(@w), "\n"; }
{ no warnings; use warnings FATAL => 'exec';
  my $r = system("vforkshim-no-such-program", "x"); print "fatal: $r $?\n"; }
{ local $SIG{CHLD} = 'IGNORE'; no warnings; use warnings FATAL => 'exec';
  my $r = system("vforkshim-no-such-program", "y"); print "fatal, SIGCHLD ignored: $r\n"; }
my $pid = open(my $kid, "-|") // die; if (!$pid) { print "perl code in a child\n"; exit 0 } print <$kid>; close $kid;
$pid = fork // die; if (!$pid) { exit 7 } waitpid($pid, 0); print "fork: ", $? >> 8, "\n";
EOF
	run_both perl "$T/t.pl"
	check "perl: system, pipe opens, backticks, failed exec with warnings: same output" same
	check "perl: same stderr (the FATAL \"Can't exec\" lines, printed by the children)" same_err
	check "perl: 5 forks rerouted (system x5), 5 real (list pipe open, backtick, 2-arg open, open -|, fork)" \
		test "$(counts)" = 5/5
	# The interpreter's own stacks, which the child writes: same indexes
	# in the parent as without the shim (needs perl.h and libperl).
	core=$(perl -MConfig -e 'print "$Config{archlibexp}/CORE"')
	libperl=$(perl -MConfig -e 'print "$Config{libpth}"' | tr ' ' '\n' | while read -r d; do
		ls "$d"/libperl.so* 2>/dev/null; done | head -n 1)
	if [ -e "$core/perl.h" ] && [ -n "$libperl" ] &&
		cc -o "$T/perl_stacks" tests/embed/perl_stacks.c $(perl -MExtUtils::Embed -e ccopts) \
			"$libperl" 2> "$T/cc.err"; then
		run_both "$T/perl_stacks"
		check "perl embedded: scope, save and temps stacks end where they do without the shim" same
		check "perl embedded: 8 system forks rerouted, the list pipe open real" test "$(counts)" = 8/1
	else
		echo "skip: perl.h or libperl.so not found: embedded interpreter check not built"
	fi
fi

# Java 17, launchMechanism=FORK: forkAndExec in libjava.so (dlopen'd).
if have java && have javac; then
	cat > "$T/T.java" <<'EOF'
import java.io.*;
public class T {
  public static void main(String[] a) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", "echo $JV; pwd; echo err >&2");
    pb.environment().put("JV", "javavar");
    pb.directory(new File("/tmp"));
    pb.redirectErrorStream(true);
    Process p = pb.start();
    System.out.print(new String(p.getInputStream().readAllBytes()));
    System.out.println("exit " + p.waitFor());
    File out = File.createTempFile("vforkshim", ".txt");
    out.deleteOnExit();
    new ProcessBuilder("echo", "redirected").redirectOutput(out).start().waitFor();
    System.out.print(new String(java.nio.file.Files.readAllBytes(out.toPath())));
    try { new ProcessBuilder("vforkshim-no-such-program").start(); }
    catch (IOException e) { System.out.println("IOException " + e.getMessage().replaceAll(".*error=", "error=")); }
  }
}
EOF
	javac -d "$T" "$T/T.java"
	run_both java -Djdk.lang.Process.launchMechanism=FORK -cp "$T" T
	check "java FORK: redirects, environment, working directory, exec failure: same output" same
	# FORK mode's child assigns environ when given an environment, and
	# a JVM always has other threads
	check "java FORK: 3 forks declined at forkAndExec, its child may assign environ (0/3, fallback_threads=3)" \
		test "$(counts)/$(stat_of fallback_threads)" = 0/3/3
fi

# Python: _posixsubprocess's fork is rerouted exactly when its child
# runs no Python code (no preexec_fn); 3.9 forks for every spawn, 3.10
# and later only for preexec_fn, user, group, extra_groups. Debian's
# interpreter, and the one `python3` finds when that is another build
# (pyenv's has _posixsubprocess as a module of its own).
pys=()
for p in /usr/bin/python3 "$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)"; do
	[ -x "$p" ] || continue
	p=$(readlink -f "$p")
	case " ${pys[*]} " in *" $p "*) ;; *) pys+=("$p") ;; esac
done
[ ${#pys[@]} = 0 ] && echo "skip: python3 is not installed"
# user_and_preexec RUN LABEL N: through RUN (an interpreter or the
# libpython embedding), user=/group=/extra_groups= as root, all 3
# rerouted; then N preexec_fn spawns and one whose preexec_fn raises,
# every fork real (fallback_preexec)
user_and_preexec() {
	local run=$1 label=$2 n=$3
	if [ "$(id -u)" = 0 ]; then
		$run user 3
		check "$label: user=, group=, extra_groups=[] (a fork in every version): same output" same
		check "    all 3 rerouted ($(counts))" test "$(counts)" = 3/0
	fi
	$run preexec "$n"
	check "$label: preexec_fn sets what the child prints, or raises: same output" same
	check "    every preexec_fn fork real (fallback_preexec=$((n + 1)), rerouted 0: $(stat_of fallback_preexec)/$(stat_of fork_rerouted))" \
		test "$(stat_of fallback_preexec)/$(stat_of fork_rerouted)" = $((n + 1))/0
}
for py in "${pys[@]}"; do
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	pyv="python $v ($py)"
	old=0; "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || old=1
	pyrun() { # MODE N: without and with the shim
		"$py" tests/embed/py_spawns.py "$@" > "$LOGS/base" 2> "$LOGS/base.err"
		shim VFORKSHIM=1 VFORKSHIM_STATS=1 "${PYENV[@]}" -- "$py" tests/embed/py_spawns.py "$@"
	}
	PYENV=()
	pyrun plain 6
	# 3.9: 6 spawns, pass_fds and the missing program fork; later: none
	want=0/0; [ $old = 1 ] && want=8/0
	check "$pyv: subprocess with output, status, env, cwd, pass_fds, a missing program: same output" same
	check "    rerouted/real $want ($(counts))" test "$(counts)" = $want
	pyrun threads 20
	check "$pyv: the same while threads write os.environ, call localtime, getaddrinfo: same output" same
	want=0; [ $old = 1 ] && want=20
	check "    rerouted or declined while a setenv ran: $want ($(stat_of fork_rerouted)+$(stat_of fallback_busy), real $(stat_of fork_real))" \
		test "$(( $(stat_of fork_rerouted) + $(stat_of fallback_busy) ))/$(( $(stat_of fork_real) - $(stat_of fallback_busy) ))" = $want/0
	user_and_preexec pyrun "$pyv" 3
	PYENV=(VFORKSHIM_FORK=all)
	pyrun preexec 1
	check "    with fork=all too (fallback_preexec=2: $(stat_of fallback_preexec), rerouted $(stat_of fork_rerouted))" \
		test "$(stat_of fallback_preexec)/$(stat_of fork_rerouted)" = 2/0
	pyrun osfork
	check "$pyv: os.fork under fork=all: same output, denied (fallback_denied=$(stat_of fallback_denied))" \
		test "$(same && echo same)/$(stat_of fallback_denied)/$(stat_of fork_rerouted)" = same/1/0
	PYENV=()
	pyrun mp
	check "$pyv: multiprocessing spawn and forkserver: same output" same
	# 3.9 forks to start each spawned process, the forkserver and the
	# resource tracker: rerouted. The forkserver's own forks (os.fork,
	# whose children run Python) stay real; it outlives the main
	# process, so only the main process's line is read.
	main=$(sed -n 's/^main pid //p' "$LOGS/err")
	line=$(grep "^vforkshim: stats pid=$main " "$LOGS/err")
	r=$(sed -n 's/.* fork_rerouted=\([0-9]*\).*/\1/p' <<<"$line") real=$(sed -n 's/.* fork_real=\([0-9]*\).*/\1/p' <<<"$line")
	if [ $old = 1 ]; then
		check "    every start rerouted in the main process, none real (${r:-0}/${real:-0})" \
			test "${r:-0}" -ge 3 -a "${real:-0}" = 0
	else
		check "    CPython vforks the starts itself: no fork in the main process (${r:-0}/${real:-0})" \
			test "${r:-0}/${real:-0}" = 0/0
	fi
	if "$py" -c 'import uvloop' 2>/dev/null; then
		pyrun uvloop 4
		check "$pyv: uvloop subprocesses, one with preexec_fn: same output (its fork handler ran)" same
		uv=$("$py" -c 'import uvloop.loop as l, ctypes; print(".".join(map(str, divmod(divmod(ctypes.CDLL("libuv.so.1").uv_version(), 256)[0], 256))))' 2>/dev/null)
		if uv_forks "${uv:-0}"; then
			check "    libuv $uv: all 5 declined, uvloop's fork handler must run in the child ($(stat_of fallback_atfork) atfork, $(stat_of fork_rerouted) rerouted)" \
				test "$(stat_of fallback_atfork)/$(stat_of fork_rerouted)" = 5/0
		else
			# posix_spawn, but a spawn with preexec_fn may still fork
			# (uvloop 0.2x asks libuv for it): declined the same way
			check "    libuv $uv spawns without fork, but for preexec_fn: no reroute, any fork declined for atfork ($(counts), atfork $(stat_of fallback_atfork))" \
				test "$(stat_of fork_rerouted)/$(stat_of fork_real)" = "0/$(stat_of fallback_atfork)" -a "$(stat_of fork_real)" -le 1
		fi
	else
		echo "skip: $pyv: uvloop is not installed (python3-uvloop)"
	fi
done

# CPython embedded through libpython (uWSGI, plugin hosts): the same
# site in the shared library's build of _posixsubprocess. -no-pie: 3.9's
# python3-config compiles without PIE (Debian's no-pie-compile.specs).
if [ ! -x /usr/bin/python3-config ]; then
	echo "skip: python3-config is not installed (python3-dev)"
elif cc -no-pie -o "$T/py_embed" tests/embed/py_embed.c $(/usr/bin/python3-config --embed --cflags --ldflags) 2> "$T/embed.err"; then
	pe() {
		"$T/py_embed" tests/embed/py_spawns.py "$@" > "$LOGS/base" 2> "$LOGS/base.err"
		shim VFORKSHIM=1 VFORKSHIM_STATS=1 -- "$T/py_embed" tests/embed/py_spawns.py "$@"
	}
	user_and_preexec pe "embedded $(ldd "$T/py_embed" | awk '/libpython/ { print $1 }')" 2
else
	bad "a program embedding libpython does not build: $(head -c 300 "$T/embed.err")"
fi

# VFORKSHIM_LOG_FILE, a root-owned 0600 file, and spawns that run the
# child as another user (Ruby's uid:, Python's user=): each child
# inherits the variables and cannot open the file. Its stderr is the
# program's: it stays silent (shim/engine/core/config.c), and the file holds the
# parent's stats line alone, complete. A process whose parent runs as
# its own user still warns; one that drops its own privileges after
# spawning loses its stats line rather than write it to stderr.
if [ "$(id -u)" != 0 ]; then
	echo "skip: children of another user and a log file they cannot open: needs root"
else
	L=$(mktemp -d) # 0700: no one but root reaches the file
	# as_other LABEL N OWNER CMD...: CMD runs `id -u` N times as 65534;
	# without the shim, then with it and VFORKSHIM_LOG_FILE=$L/log, a
	# 0600 file of OWNER's; $pid is the parent's
	as_other() {
		local label=$1 n=$2 owner=$3
		shift 3
		"$@" > "$LOGS/base" 2> "$LOGS/base.err"
		rm -f "$L/log" && : > "$L/log" && chmod 600 "$L/log" && chown "$owner" "$L/log"
		# the shell, not preloaded, writes its pid and execs CMD preloaded
		VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE="$L/log" sh -c \
			'echo $$ > "$0" && LD_PRELOAD=$1 && export LD_PRELOAD && shift && exec "$@"' \
			"$L/pid" "$PRELOAD" "$@" > "$LOGS/out" 2> "$LOGS/err"
		pid=$(cat "$L/pid")
		check "$label: stdout as without the shim, $n lines of 65534" \
			test "$(same && echo same)/$(grep -cx 65534 "$LOGS/out")" = "same/$n"
	}
	# logged KEY: from the parent's stats line in the log file
	logged() { grep "^vforkshim: stats pid=$pid " "$L/log" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
	silent_children() { # LABEL N CMD...
		local n=$2
		as_other "$1" "$n" root "${@:3}"
		check "    stderr as without the shim: empty ($(grep -c '' "$LOGS/err") lines$(head -n 1 "$LOGS/err" | cut -c 1-100 | sed 's/^./: &/'))" \
			test "$(cmp -s "$LOGS/err" "$LOGS/base.err" && echo same)/$(grep -c '' "$LOGS/err")" = same/0
		check "    the log file holds the parent's stats line alone, every spawn rerouted ($(grep -c '' "$L/log") lines, rerouted/real $(logged fork_rerouted)/$(logged fork_real))" \
			test "$(grep -c '' "$L/log")/$(logged fork_rerouted)/$(logged fork_real)" = "1/$n/0"
	}
	if have ruby; then
		# through a shell and a pipe: sh's children have sh's uid, their
		# parent's; the one that changed it is further up
		silent_children "log file, ruby (root): system(\"id -u | cat\", uid: 65534) x3" 3 \
			ruby -e '3.times { system("id -u | cat", uid: 65534) }'
		as_other "log file of 65534's, ruby (root): the parent refuses it" 3 65534 \
			ruby -e '3.times { system("id -u", uid: 65534) }'
		check "    its parent runs as root too: one warning and its stats on stderr, all 3 rerouted; the children silent ($(grep -c '' "$LOGS/err") lines)" \
			test "$(grep -c '' "$LOGS/err")/$(grep -c '^vforkshim: VFORKSHIM_LOG_FILE=.* cannot be used' "$LOGS/err")/$(stat_of fork_rerouted)/$(grep -c "^vforkshim: stats pid=$pid " "$LOGS/err")/$(grep -c '' "$L/log")" = 2/1/3/1/0
		: > "$L/log" && chmod 600 "$L/log" && chown root "$L/log"
		ruby -e 'system("true"); Process::UID.change_privilege(65534); puts "dropped"' > "$LOGS/base" 2> "$LOGS/base.err"
		shim VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_LOG_FILE="$L/log" -- \
			ruby -e 'system("true"); Process::UID.change_privilege(65534); puts "dropped"'
		check "log file, ruby (root) that spawns, then drops to 65534: the line the file now refuses is dropped, not written to stderr ($(grep -c '' "$LOGS/err") lines)" \
			test "$(same && echo same)/$(grep -c '' "$LOGS/err")/$(grep -c '' "$L/log")" = same/0/0
	fi
	for py in "${pys[@]}"; do
		silent_children "log file, python $("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])') ($py): subprocess.run(user=\"nobody\") x3" 3 \
			"$py" -c 'import subprocess
for i in range(3): subprocess.run(["id", "-u"], user="nobody")'
	done
	rm -rf "$L"
fi

summary runtimes
