# Sourced by tests/runtimes.sh (the `node` on PATH) and tests/nodes.sh
# (nodejs.org's builds): Node's spawns through every child_process API,
# compared with the run without the shim, and what the stats line says
# of them, its checks named $NODE_LABEL. Needs lib.sh and $T.
NODE_LABEL=${NODE_LABEL:-node}
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
	# libuv 1.53 and later fork only for the uid/gid spawn (as root)
	uv_forks "$(node -p process.versions.uv)" || n=$((n - 10))
	check "$NODE_LABEL: spawn/exec/execSync/spawnSync with env, cwd, pipes, uid/gid: same output" same
	check "$NODE_LABEL: same stderr" same_err
	# uv_spawn's child would assign environ (Node always passes an env)
	# while V8's workers run: it is given options without env instead
	check "$NODE_LABEL: every spawn rerouted at uv_spawn, environ never written ($n/0, $(counts))" \
		test "$(counts)/$(grep -c 'assigned environ' "$LOGS/err")" = "$n/0/0"
fi

# Node, every child_process API (spawnSync, execSync, spawn, exec,
# execFile, fork) in each mode of tests/embed/node_spawns.js: basic
# (environment inherited and explicit, PATH, ENOENT, cwd, uid/gid as root,
# detached), stdio (pipe, inherit, ignore, 6 to 12 entries), concurrency
# (spawns with an explicit environment beside workers on SHARE_ENV, the
# thread pool and a signal handler). The output must be the same with the
# shim. Counts: the script tells on stderr how many of its calls reached
# uv_spawn (N), how many with 9 or more stdio entries (M) and with uid/gid
# (U). The N - M with at most 8 stdio entries are rerouted, their
# children given options without env (shim/engine/runtimes/rt_libuv.c); the M stay real
# (fallback_options). libuv 1.53+ forks only for uid/gid (U).
if have node; then
	ns_stat() { # KEY: from the stats line of the script's own process
		grep "^vforkshim: stats pid=$ns_pid " "$LOGS/err" | tr ' ' '\n' | sed -n "s/^$1=//p"
	}
	ns_forks=1; uv_forks "$(node -p process.versions.uv)" || ns_forks=0
	for mode in basic stdio concurrency; do
		run_both node tests/embed/node_spawns.js $mode
		read -r n m u < <(sed -n 's/^spawns: \([0-9]*\), declined: \([0-9]*\), uidgid: \([0-9]*\)$/\1 \2 \3/p' "$LOGS/base.err")
		ns_pid=$(sed -n 's/^main pid //p' "$LOGS/err")
		check "$NODE_LABEL $mode: $(grep -c '' "$LOGS/base") lines, the same with the shim" \
			test "$(same && echo same)/$(grep -c '^spawns: ' "$LOGS/err")/${n:+ran}" = same/1/ran
		if [ $mode = concurrency ]; then
			check "    no worker saw a child's environment or lost a variable, every pool job and signal handled: $(sed -n 's/^worker //p; s/^pool //p; s/^signals //p' "$LOGS/out" | paste -sd,)" \
				test "$(grep -cxE 'worker saw child env: 0 times|worker lost 0 of [0-9]+ variables|pool jobs done: yes|signals handled: ([0-9]+) of \1' "$LOGS/out")" = 4
		fi
		want=$((n - m))/$m/$m; [ $ns_forks = 0 ] && want=$u/0/0
		r=$(ns_stat fork_rerouted) real=$(ns_stat fork_real) opt=$(ns_stat fallback_options)
		check "    $n spawns through uv_spawn: those with up to 8 stdio entries rerouted, $m with more real (rerouted/real/options $want: ${r:-none}/${real:-none}/${opt:-none})" \
			test "${r:-0}/${real:-0}/${opt:-0}" = "$want"
	done
fi
