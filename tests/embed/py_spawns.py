# CPython's spawns, one kind per run, for tests/runtimes.sh, which runs
# each without and with the shim and compares the output, and reads
# from the stats line what the shim did (docs/sites.md, "CPython").
#   plain N     subprocess with output, status, env, cwd, pass_fds and a
#               missing program (3.9 forks for each; later versions vfork
#               or posix_spawn)
#   user N      user=, group=, extra_groups= (root only): a fork in every
#               version
#   preexec N   preexec_fn: it sets a variable the child prints, or
#               raises; a real fork every time
#   threads N   plain spawns while threads write and read os.environ, call
#               localtime and getaddrinfo, and allocate
#   mp          multiprocessing's spawn and forkserver start methods
#   osfork      os.fork, whose child runs Python: never rerouted
#   uvloop N    asyncio on uvloop: spawns, and one with preexec_fn
import os
import subprocess
import sys
import threading

SH = "echo out $1 ${PV:-unset} $(pwd); echo err >&2; exit 3"


def plain(i):
    r = subprocess.run(["sh", "-c", SH, "sh", str(i)], capture_output=True, text=True,
                       env=dict(os.environ, PV="v%d" % i) if i % 2 else None, cwd="/" if i % 3 == 0 else None)
    return "%s%sstatus %d" % (r.stdout, r.stderr, r.returncode)


def report(s):
    print(s, flush=True)


def work(q, x):  # multiprocessing's children import this module to find it
    q.put(x * x)


def mode_plain(n):
    for i in range(n):
        report(plain(i))
    rd, wr = os.pipe()
    r = subprocess.run(["sh", "-c", "echo passed >&%d" % wr], pass_fds=(wr,))
    os.close(wr)
    report("pass_fds %d %s" % (r.returncode, os.read(rd, 100).decode().strip()))
    try:
        subprocess.run(["/nonexistent/vforkshim-test"])
    except OSError as e:
        report("missing: %s %d" % (type(e).__name__, e.errno))


def mode_user(n):
    for i in range(n):
        r = subprocess.run(["sh", "-c", "id -u; id -g; id -G"], user=65534, group=65534,
                           extra_groups=[], capture_output=True, text=True)
        report("%s status %d" % (r.stdout.replace("\n", " "), r.returncode))


def mode_preexec(n):
    for i in range(n):
        r = subprocess.run(["sh", "-c", "echo $PX"], capture_output=True, text=True,
                           preexec_fn=lambda: os.environ.update(PX="set-in-preexec-%d" % i))
        report("preexec: %s" % r.stdout.strip())
    try:
        subprocess.run(["true"], preexec_fn=lambda: 1 / 0)
    except subprocess.SubprocessError as e:
        report("preexec raised: %s (%s)" % (e, type(e.__cause__).__name__))
    report("parent's PX: %s" % os.environ.get("PX"))


def mode_threads(n):
    import socket
    import time
    stop = False
    anomalies = []

    def env_writer(k):
        j = 0
        while not stop:
            os.environ["PYT_%d_%d" % (k, j % 16)] = str(j)
            if os.getenv("PYT_%d_%d" % (k, j % 16)) != str(j):
                anomalies.append(k)
            j += 1

    def other():
        while not stop:
            time.localtime()
            bytearray(4096)
            try:
                socket.getaddrinfo("localhost", 80)
            except OSError:
                pass

    ts = [threading.Thread(target=env_writer, args=(k,)) for k in range(2)] + [threading.Thread(target=other)]
    for t in ts:
        t.start()
    out = [plain(i) for i in range(n)]
    stop = True
    for t in ts:
        t.join()
    for o in out:
        report(o)
    report("threads' anomalies: %d" % len(anomalies))


def mode_mp(n):
    import multiprocessing as mp
    # the forkserver outlives this process: its stats line comes late
    print("main pid %d" % os.getpid(), file=sys.stderr)

    for method in ("spawn", "forkserver"):
        ctx = mp.get_context(method)
        q = ctx.Queue()
        ps = [ctx.Process(target=work, args=(q, i)) for i in range(2)]
        for p in ps:
            p.start()
        got = sorted(q.get() for _ in ps)
        for p in ps:
            p.join()
        report("%s: %s exit %s" % (method, got, [p.exitcode for p in ps]))


def mode_osfork(n):
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    report("os.fork child: %d" % os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))


def mode_uvloop(n):
    import asyncio
    import uvloop

    async def main():
        for i in range(n):
            p = await asyncio.create_subprocess_exec("sh", "-c", SH, "sh", str(i),
                                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            o, e = await p.communicate()
            report("%s%sstatus %d" % (o.decode(), e.decode(), p.returncode))
        p = await asyncio.create_subprocess_exec("sh", "-c", "echo $PX; ls /proc/self/fd | wc -l",
                                                 stdout=subprocess.PIPE,
                                                 preexec_fn=lambda: os.environ.update(PX="uv-preexec"))
        report("uvloop preexec: %s" % (await p.communicate())[0].decode().split())

    uvloop.install()
    asyncio.run(main())


if __name__ == "__main__":
    modes = {"plain": mode_plain, "user": mode_user, "preexec": mode_preexec, "threads": mode_threads, "mp": mode_mp, "osfork": mode_osfork, "uvloop": mode_uvloop}
    if len(sys.argv) < 2 or sys.argv[1] not in modes:
        sys.exit("usage: py_spawns.py MODE [N]")
    modes[sys.argv[1]](int(sys.argv[2]) if len(sys.argv) > 2 else 3)
