// A worker on SHARE_ENV sets and reads variables while the main thread
// spawns children with an environment of their own (issue 15, #1 #2):
// prints what the children printed and whether the worker ever saw a
// child's variable or lost the parent's HOME.
const { Worker, SHARE_ENV } = require("worker_threads");
const cp = require("child_process");
const n = Number(process.argv[2] || 20);
const w = new Worker(`
const { parentPort } = require("worker_threads");
let bad = 0, stop = false;
parentPort.on("message", () => { stop = true; });
function loop() {
	for (let i = 0; i < 2000; i++) {
		process.env["W_" + (i % 50)] = String(i);
		if (process.env.CHILD_ONLY !== undefined || process.env.HOME === undefined) bad++;
	}
	if (stop) parentPort.postMessage(bad); else setImmediate(loop);
}
parentPort.postMessage("ready");
loop();`, { eval: true, env: SHARE_ENV });
w.once("message", () => {
	let yes = 0;
	for (let i = 0; i < n; i++) {
		const r = cp.spawnSync("sh", ["-c", "echo ${CHILD_ONLY:-none}"],
			{ env: { CHILD_ONLY: "1", PATH: process.env.PATH } });
		if (String(r.stdout) === "1\n") yes++;
	}
	w.once("message", (bad) => {
		console.log(`children that saw their own CHILD_ONLY: ${yes} of ${n}`);
		console.log(`worker reads that saw a child's environment: ${bad}`);
		console.log(`main sees W_0: ${process.env.W_0 !== undefined}, CHILD_ONLY: ${process.env.CHILD_ONLY !== undefined}`);
		w.terminate();
	});
	w.postMessage("stop");
});
