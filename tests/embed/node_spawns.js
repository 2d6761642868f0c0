// Node's spawns, through every child_process API, with and without the
// shim (tests/runtimes.sh runs each mode both ways and compares stdout).
//
//   node node_spawns.js basic        environment inherited and explicit, a
//                                    command found only through the child's
//                                    PATH, one in no PATH (ENOENT), cwd,
//                                    uid/gid 65534 (root only), detached
//   node node_spawns.js stdio        stdio 'pipe', 'inherit', 'ignore'; 6 and
//                                    8 entries (the children write to the
//                                    extra descriptors); 9 and 12 entries
//                                    (which the shim declines: a libuv child
//                                    may write the heap array of their pipes)
//   node node_spawns.js concurrency  40 spawnSync/execSync with an explicit
//                                    environment while a worker on SHARE_ENV
//                                    watches for a child's variable, another
//                                    sets and re-reads its own, the thread
//                                    pool runs fs and dns jobs, and a
//                                    SIGUSR2 handler runs between spawns
//   node node_spawns.js child CASE   the module of the fork() cases
//
// Each case runs through spawnSync, execSync, spawn, exec, execFile and
// fork (Node's, with IPC; the child is this script). Every result is one
// line on stdout: mode, API, case, exit status and signal, the child's
// output trimmed, the error code; nothing that varies from run to run.
// Node passes neither stdio nor detached from exec and execFile to spawn:
// those lines show a plain three-pipe child, as Node makes it.
//
// On stderr, for tests/runtimes.sh: "main pid P" (its stats line) and, at
// the end, "spawns: N, declined: M, uidgid: U": N calls that reached
// uv_spawn (each a fork up to libuv 1.52, the missing program's too), M of
// them with 9 or more stdio entries, U of them with uid/gid.
// Runs on Node 12 to 22: no optional chaining, no ??.
"use strict";
const cp = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const SELF = path.resolve(__filename);
const mode = process.argv[2] || "basic";
const MISSING = "vforkshim-no-such-program";
let spawned = 0, declined = 0, uidgid = 0;

// ---- the fork() child -------------------------------------------------
// Sends back what the case asks for, writes to the extra descriptors it
// was given, exits with the status the case expects.
function detachedOf(pid) { // "leader" when the process leads its group and session
	const s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
	const f = s.slice(s.lastIndexOf(")") + 2).split(" "); // state ppid pgrp session
	return (f[2] === String(pid) ? "pgid=pid" : "pgid!=pid") + " " +
		(f[3] === String(pid) ? "sid=pid" : "sid!=pid");
}
if (mode === "child") {
	const c = process.argv[3];
	const env = process.env;
	let msg = "", status = 0;
	const extra = { stdio6: [4, 5], stdio8: [7], stdio9: [8], stdio12: [11] };
	if (c === "inherit" || c === "explicit")
		msg = `${env.VFS_PARENT || "unset"} ${env.ONLY || "unset"}`;
	else if (c === "pathonly") msg = `found through PATH: ${env.VFS_FOUND || "no"}`;
	else if (c === "cwd") msg = process.cwd();
	else if (c === "uidgid") msg = `${process.getuid()} ${process.getgid()}`;
	else if (c === "detached" || c === "attached") msg = detachedOf(process.pid);
	else if (c === "pipe" || c === "inherit_stdio" || c === "ignore") {
		fs.writeSync(1, `child of fork, stdio ${c}: stdout\n`);
		if (c === "ignore") status = 3;
	} else if (extra[c]) {
		for (const fd of extra[c]) fs.writeSync(fd, `fd${fd}\n`);
		msg = `wrote ${extra[c].join(",")}`;
	}
	process.send({ msg: msg }, () => process.exit(status));
	return;
}

// ---- running one case through each API ---------------------------------
// A case: name, sh (the shell script of the child), opts (spawn options),
// forkOpts (the fork() options; the child is this script's "child" mode),
// file/args/cmdline (instead of sh -c SCRIPT), bash (bash instead of sh),
// fds (extra descriptors to read where the API gives them).
const trim = (b) => (b === null || b === undefined ? null : String(b).trim());
function line(api, kase, r) {
	let out = r.out === null || r.out === undefined ? "null" : JSON.stringify(r.out);
	console.log(`${mode} ${api} ${kase}: status=${r.status} signal=${r.signal} out=${out} error=${r.error}`);
}
function count(opts, api) {
	spawned++;
	if (opts.uid !== undefined) uidgid++;
	// exec and execFile do not pass stdio to spawn
	if (api !== "exec" && api !== "execFile" && Array.isArray(opts.stdio) && opts.stdio.length >= 9) declined++;
}
const fileOf = (k) => (k.file !== undefined ? k.file : k.bash ? "bash" : "sh");
const shellOf = (k) => (k.bash ? { shell: "/bin/bash" } : {}); // for execSync and exec
const argsOf = (k) => (k.args !== undefined ? k.args : ["-c", k.sh]);
const cmdOf = (k) => (k.cmdline !== undefined ? k.cmdline : k.sh);
const extraOut = (k, outputs) => (k.fds || []).map((fd) => ` fd${fd}=${trim(outputs[fd])}`).join("");

const apis = {
	spawnSync(k) {
		const o = Object.assign({ stdio: "pipe" }, k.opts);
		count(o, "spawnSync");
		const r = cp.spawnSync(fileOf(k), argsOf(k), o);
		const out = r.stdout === null || r.stdout === undefined ? null :
			trim(r.stdout) + extraOut(k, r.output || []);
		return { status: r.status, signal: r.signal, out: out, error: r.error ? r.error.code : null };
	},
	execSync(k) {
		const o = Object.assign({ stdio: "pipe" }, shellOf(k), k.opts);
		count(o, "execSync");
		try {
			return { status: 0, signal: null, out: trim(cp.execSync(cmdOf(k), o)), error: null };
		} catch (e) {
			return { status: e.status, signal: e.signal, out: trim(e.stdout), error: e.code || null };
		}
	},
	spawn(k) {
		const o = Object.assign({}, k.opts);
		count(o, "spawn");
		return new Promise((resolve) => {
			const c = cp.spawn(fileOf(k), argsOf(k), o);
			const bufs = {};
			c.stdio.forEach((s, fd) => {
				if (s && s.on && fd !== 0) { bufs[fd] = ""; s.on("data", (d) => (bufs[fd] += d)); }
			});
			if (c.stdin) c.stdin.end();
			let error = null, done = false;
			const finish = (code, signal) => {
				if (done) return;
				done = true;
				const out = bufs[1] === undefined ? null : trim(bufs[1]) + extraOut(k, bufs);
				resolve({ status: code, signal: signal, out: out, error: error });
			};
			c.on("error", (e) => {
				error = e.code;
				// a child that never started: some Node versions emit no
				// close; wait for it a little, or end without
				if (c.pid === undefined) setTimeout(() => finish(null, null), 300);
			});
			c.on("close", finish);
		});
	},
	exec(k) {
		const o = Object.assign({}, shellOf(k), k.opts);
		count(o, "exec");
		return new Promise((resolve) => {
			const c = cp.exec(cmdOf(k), o, (e, stdout) => resolve({
				status: e ? e.code : 0, signal: e ? e.signal : null, out: trim(stdout),
				error: e && typeof e.code === "string" ? e.code : null,
			}));
			if (c.stdin) c.stdin.end();
		});
	},
	execFile(k) {
		const o = Object.assign({}, k.opts);
		count(o, "execFile");
		return new Promise((resolve) => {
			const c = cp.execFile(fileOf(k), argsOf(k), o, (e, stdout) => resolve({
				status: e ? (typeof e.code === "number" ? e.code : null) : 0, signal: e ? e.signal : null,
				out: trim(stdout), error: e && typeof e.code === "string" ? e.code : null,
			}));
			if (c.stdin) c.stdin.end();
		});
	},
	fork(k) {
		const o = Object.assign({}, k.forkOpts !== undefined ? k.forkOpts : k.opts);
		count(o, "fork");
		return new Promise((resolve) => {
			const c = cp.fork(SELF, ["child", k.child || k.name], o);
			const bufs = {};
			c.stdio.forEach((s, fd) => {
				if (s && s.on && fd !== 0 && fd !== 3) { bufs[fd] = ""; s.on("data", (d) => (bufs[fd] += d)); }
			});
			if (c.stdin) c.stdin.end();
			let msg = null, error = null, done = false;
			c.on("message", (m) => (msg = m.msg));
			const finish = (code, signal) => {
				if (done) return;
				done = true;
				let out = msg === null ? "no message" : `message ${JSON.stringify(msg)}`;
				if (bufs[1] !== undefined) out += ` stdout ${JSON.stringify(trim(bufs[1]))}` + extraOut(k, bufs);
				resolve({ status: code, signal: signal, out: out, error: error });
			};
			c.on("error", (e) => {
				error = e.code;
				if (c.pid === undefined) setTimeout(() => finish(null, null), 300);
			});
			c.on("close", finish);
		});
	},
};

async function runCases(cases) {
	for (const k of cases) {
		for (const api of Object.keys(apis)) {
			if (k.only && k.only.indexOf(api) < 0) continue;
			line(api, k.name, await apis[api](k));
		}
	}
}

// ---- basic: environment, PATH, ENOENT, cwd, uid/gid, detached ----------
function basicCases(dir) {
	const PATH = process.env.PATH;
	const cases = [
		{ name: "inherit", sh: 'echo "${VFS_PARENT:-unset} ${ONLY:-unset}"', opts: {} },
		{ name: "explicit", sh: 'echo "${VFS_PARENT:-unset} ${ONLY:-unset}"',
			opts: { env: { PATH: PATH, ONLY: "this" } } },
		// onlyhere and onlyhere-node are only in the child's PATH
		{ name: "pathonly", file: "onlyhere", args: ["arg"], cmdline: "onlyhere arg",
			opts: { env: { PATH: `${dir}:${PATH}` } },
			forkOpts: { execPath: "onlyhere-node", env: { PATH: `${dir}:${PATH}`, VFS_NODE: process.execPath } } },
		{ name: "missing", file: MISSING, args: [], cmdline: MISSING, opts: {},
			forkOpts: { execPath: MISSING } },
		{ name: "cwd", sh: "pwd", opts: { cwd: "/usr" } },
		{ name: "attached", sh: "echo $(detached)", opts: {} },
		{ name: "detached", sh: "echo $(detached)", opts: { detached: true } },
	];
	// the shell's own pgid and sid against its pid, from /proc, no fork
	const det = 'read p c s pp g sid rest < /proc/$$/stat; ' +
		'[ "$g" = $$ ] && a=pgid=pid || a=pgid!=pid; [ "$sid" = $$ ] && b=sid=pid || b=sid!=pid; echo "$a $b"';
	for (const k of cases) if (k.sh === "echo $(detached)") k.sh = det;
	if (process.getuid() === 0)
		cases.push({ name: "uidgid", sh: "id -u; id -g", opts: { uid: 65534, gid: 65534 } });
	else
		console.log(`${mode} all uidgid: skipped, not root`);
	return cases;
}

// ---- stdio: pipe, inherit, ignore, extra entries ------------------------
function stdioCases() {
	const pipes = (n) => Array(n).fill("pipe");
	const withIpc = (n) => { const s = pipes(n); s[3] = "ipc"; return s; };
	const extra = (fds) => fds.map((fd) => `echo fd${fd} >&${fd}`).join(" && ") + ` && echo wrote ${fds.join(",")}`;
	return [
		{ name: "pipe", sh: "echo stdout; echo stderr >&2", opts: { stdio: "pipe" },
			forkOpts: { stdio: ["pipe", "pipe", "pipe", "ipc"] } },
		// the child writes straight to this script's stdout
		{ name: "inherit", child: "inherit_stdio", sh: `echo "child, stdio inherit: stdout"`,
			opts: { stdio: "inherit" }, forkOpts: { stdio: ["inherit", "inherit", "inherit", "ipc"] } },
		{ name: "ignore", sh: "echo stdout; exit 3", opts: { stdio: "ignore" },
			forkOpts: { stdio: ["ignore", "ignore", "ignore", "ipc"] } },
		{ name: "stdio6", sh: extra([4, 5]), fds: [4, 5], opts: { stdio: pipes(6) }, forkOpts: { stdio: withIpc(6) } },
		{ name: "stdio8", sh: extra([7]), fds: [7], opts: { stdio: pipes(8) }, forkOpts: { stdio: withIpc(8) } },
		// 9 or more: declined by the shim
		{ name: "stdio9", sh: extra([8]), fds: [8], opts: { stdio: pipes(9) }, forkOpts: { stdio: withIpc(9) } },
		// dash reads one digit after >&: bash writes to fd 11
		{ name: "stdio12", bash: true, sh: extra([11]), fds: [11], opts: { stdio: pipes(12) }, forkOpts: { stdio: withIpc(12) } },
	];
}

// ---- concurrency --------------------------------------------------------
const SPAWNS = 40, WVARS = 50, POOL = 8, SIGNALS_EVERY = 2;
const watcher = `
const { parentPort } = require("worker_threads");
let seen = 0, stop = false;
parentPort.on("message", () => { stop = true; });
function loop() {
	for (let i = 0; i < 5000; i++) if (process.env.ONLY !== undefined) seen++;
	if (stop) parentPort.postMessage(seen); else setImmediate(loop);
}
parentPort.postMessage("ready");
loop();`;
const setter = `
const { parentPort, workerData } = require("worker_threads");
const n = workerData;
const lost = new Set();
let stop = false;
parentPort.on("message", () => { stop = true; });
let round = 0;
function loop() {
	for (let k = 0; k < 20; k++, round++) {
		for (let i = 0; i < n; i++) process.env["W_" + i] = String(round);
		for (let i = 0; i < n; i++) if (process.env["W_" + i] !== String(round)) lost.add(i);
	}
	if (stop) parentPort.postMessage(lost.size); else setImmediate(loop);
}
parentPort.postMessage("ready");
loop();`;

async function concurrency() {
	let wt = null;
	try { wt = require("worker_threads"); } catch (e) { wt = null; }
	const workers = [];
	const started = (w) => new Promise((resolve) => w.once("message", resolve));
	const result = (w) => new Promise((resolve) => { w.once("message", resolve); w.postMessage("stop"); });
	let watch = null, set = null;
	if (wt && wt.SHARE_ENV) {
		watch = new wt.Worker(watcher, { eval: true, env: wt.SHARE_ENV });
		set = new wt.Worker(setter, { eval: true, env: wt.SHARE_ENV, workerData: WVARS });
		workers.push(watch, set);
		await Promise.all(workers.map(started));
	}
	// the thread pool: fs and dns jobs issued before each spawn run on
	// the pool's threads while the main thread waits for the child
	let issued = 0, completed = 0, failed = 0;
	const jobs = [];
	const job = (f) => { issued++; jobs.push(new Promise((resolve) => f((e) => { completed++; if (e) failed++; resolve(); }))); };
	let handled = 0, wake = null;
	process.on("SIGUSR2", () => { handled++; if (wake) wake(); });
	const ENV = { PATH: process.env.PATH, ONLY: "this" };
	let childSaw = 0, mainSaw = 0, signalled = 0;
	for (let i = 0; i < SPAWNS; i++) {
		for (let j = 0; j < POOL / 2; j++) job((cb) => (j % 2 ? fs.readFile(SELF, cb) : fs.stat(SELF, cb)));
		// getaddrinfo on the pool; a number needs no hosts file (Debian's
		// minbase chroots have none with localhost)
		job((cb) => require("dns").lookup("127.0.0.1", cb));
		job((cb) => fs.readFile("/proc/self/status", cb));
		let out;
		spawned++;
		if (i % 2) out = String(cp.spawnSync("sh", ["-c", "echo ${ONLY:-unset}"], { env: ENV }).stdout);
		else out = String(cp.execSync("echo ${ONLY:-unset}", { env: ENV, stdio: "pipe" }));
		if (out === "this\n") childSaw++;
		if (process.env.ONLY !== undefined) mainSaw++;
		if (i % SIGNALS_EVERY === 0) { // wait for the handler before the next spawn
			const ran = new Promise((resolve) => (wake = resolve));
			signalled++;
			process.kill(process.pid, "SIGUSR2");
			await ran;
			wake = null;
		}
	}
	await Promise.all(jobs);
	let seen = 0, lost = 0;
	if (workers.length) [seen, lost] = await Promise.all([result(watch), result(set)]);
	for (let i = 0; workers.length && i < WVARS; i++) if (process.env["W_" + i] === undefined) lost++;
	console.log(`${mode}: children that saw their own ONLY=this: ${childSaw} of ${SPAWNS}`);
	console.log(`${mode}: main saw child env: ${mainSaw} times`);
	console.log(`worker saw child env: ${seen} times`);
	console.log(`worker lost ${lost} of ${WVARS} variables`);
	console.log(`pool jobs done: ${completed === issued && failed === 0 ? "yes" : `no (${completed} of ${issued}, ${failed} failed)`}`);
	console.log(`signals handled: ${handled} of ${signalled}`);
	await Promise.all(workers.map((w) => w.terminate()));
}

// ---- main -----------------------------------------------------------------
async function main() {
	console.error(`main pid ${process.pid}`);
	process.env.VFS_PARENT = "parent";
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vfs-node-"));
	fs.writeFileSync(path.join(dir, "onlyhere"), '#!/bin/sh\necho "onlyhere ran: $*"\n', { mode: 0o755 });
	fs.writeFileSync(path.join(dir, "onlyhere-node"),
		'#!/bin/sh\nVFS_FOUND=yes exec "$VFS_NODE" "$@"\n', { mode: 0o755 });
	try {
		if (mode === "basic") await runCases(basicCases(dir));
		else if (mode === "stdio") await runCases(stdioCases());
		else if (mode === "concurrency") await concurrency();
		else throw new Error(`unknown mode ${mode}`);
	} finally {
		fs.unlinkSync(path.join(dir, "onlyhere"));
		fs.unlinkSync(path.join(dir, "onlyhere-node"));
		fs.rmdirSync(dir);
	}
	console.error(`spawns: ${spawned}, declined: ${declined}, uidgid: ${uidgid}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
