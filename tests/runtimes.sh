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

# run_both CMD...: without the shim (base, base.err), then with it
# (out, err); `same` compares stdout, `same_err` stderr less stats lines
run_both() {
	"$@" > "$LOGS/base" 2> "$LOGS/base.err"
	shim VFORKSHIM=1 VFORKSHIM_STATS=1 -- "$@"
}
same_err() { grep -v '^vforkshim: stats ' "$LOGS/err" | cmp -s - "$LOGS/base.err"; }
counts() { echo "$(stat_of fork_rerouted)/$(stat_of fork_real)"; }

# Node: libuv's uv_spawn.
if have node; then
	cat > "$T/t.js" <<'EOF'
const cp = require("child_process");
let o = "";
for (let i = 0; i < 5; i++) o += cp.spawnSync("/bin/echo", ["s" + i]).stdout;
o += cp.execSync("echo $V; pwd", { env: { V: "v", PATH: process.env.PATH }, cwd: "/usr" });
const r = cp.spawnSync("sh", ["-c", "read x; echo got $x; echo e >&2; exit 3"], { input: "in\n" });
o += `${r.stdout}${r.stderr}status ${r.status}\n`;
const bad = cp.spawnSync("vforkshim-no-such-program");
o += `enoent ${bad.error && bad.error.code}\n`;
if (process.getuid() === 0)
	o += cp.execSync("id -u; id -g", { uid: 65534, gid: 65534 });
const c = cp.spawn("sh", ["-c", "cat; echo done"], { stdio: ["pipe", "pipe", "inherit"] });
let so = "";
c.stdout.on("data", (d) => (so += d));
c.on("close", (code) => cp.exec("echo async", (e, out) => console.log(o + so + code + "\n" + out)));
c.stdin.end("piped\n");
EOF
	run_both node "$T/t.js"
	n=10; [ "$(id -u)" = 0 ] && n=11
	check "node: spawn/exec/execSync/spawnSync with env, cwd, pipes, uid/gid: same output" same
	check "node: same stderr" same_err
	# uv_spawn's child assigns environ (Node always passes an env) and
	# a Node process always has other threads (V8's platform workers)
	check "node: every spawn declined at uv_spawn, its child assigns environ (0/$n, fallback_threads=$n)" \
		test "$(counts)/$(stat_of fallback_threads)" = "0/$n/$n"
fi

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

# Python: subprocess uses vfork/posix_spawn itself; preexec_fn forks run
# Python in the child and must stay real even with VFORKSHIM_FORK=all.
if have python3; then
	# the binary itself: a wrapper script (pyenv's shims are bash) would
	# be a shell forking shell code, which fork=all must not be given
	py=$(python3 -c 'import sys; print(sys.executable)')
	cat > "$T/t.py" <<'EOF'
import os, subprocess
print(subprocess.run(["echo", "plain"], capture_output=True, text=True).stdout, end="")
r = subprocess.run(["sh", "-c", "echo $PV"], env={"PV": "pre"}, preexec_fn=lambda: os.environ.update(X="1"),
                   capture_output=True, text=True)
print(r.stdout, end="")
EOF
	"$py" "$T/t.py" > "$LOGS/base" 2>&1
	shim VFORKSHIM=1 VFORKSHIM_STATS=1 VFORKSHIM_FORK=all -- "$py" "$T/t.py"
	check "python: subprocess with and without preexec_fn: same output" same
	check "python: the preexec_fn fork stays real even with fork=all (fallback_denied=1, rerouted 0)" \
		test "$(stat_of fallback_denied)/$(stat_of fork_rerouted)" = 1/0
fi

summary runtimes
