#!/usr/bin/env python3
"""The layout holds (issue 23): read from the objects, which file of
the library uses which (a symbol one defines and another uses), and fail
on any circle, between folders or between files, and on a front that
uses the engine's code. Usage: tests/layout.py [BUILD_DIR]"""
import collections, glob, os, subprocess, sys

B = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("B", "build")
root = os.path.join(B, "shim")
# the objects of today's sources only: a build folder keeps those of
# files since moved or removed
objs = sorted(o for o in glob.glob(os.path.join(root, "**", "*.o"), recursive=True)
              if os.path.exists(os.path.join("shim", os.path.relpath(o, root)[:-2] + ".c")))
if not objs:
    sys.exit("FAIL: layout: no objects under %s" % root)
defs, uses = {}, {}
for o in objs:
    name = os.path.relpath(o, root)[:-2]  # engine/fork/walk
    d, u = set(), set()
    for line in subprocess.run(["nm", o], capture_output=True, text=True).stdout.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] not in "Uw":
            d.add(f[2])
        elif len(f) == 2 and f[0] == "U":
            u.add(f[1])
    defs[name], uses[name] = d, u
owner = collections.defaultdict(list)
for n, d in defs.items():
    for s in d:
        owner[s].append(n)

def lib(n):  # the front and the engine are linked apart; common/ into both
    return n.split("/")[0]

files = collections.defaultdict(set)
bad = 0
for n, u in uses.items():
    for s in u:
        for m in owner[s]:
            if m == n:
                continue
            if lib(n) == "front" and lib(m) == "engine":
                print("FAIL: layout: the front's %s uses the engine's %s (%s)" % (n, m, s))
                bad = 1
            if lib(m) == "common" or lib(n) == lib(m):
                files[n].add(m)

def folder(n):
    return os.path.dirname(n)

folders = collections.defaultdict(set)
for a, bs in files.items():
    for b in bs:
        if folder(a) != folder(b):
            folders[folder(a)].add(folder(b))

def circles(graph, nodes):  # Tarjan's strongly connected components
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1
        stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out

# The runtimes' markers the Makefile gathered for the front, with GNU
# hashes computed by awk: each must be the hash the front's lookup uses
# (common/dynsym.c), or the front would never find that runtime
inc = os.path.join(root, "front", "markers.inc")
if os.path.exists(inc):
    import re
    for name, h in re.findall(r'\{ "([^"]+)", (\d+)u \}', open(inc).read()):
        want = 5381
        for c in name.encode():
            want = (want * 33 + c) % 2**32
        if int(h) != want:
            print("FAIL: layout: markers.inc gives %s the hash %s, not %d" % (name, h, want))
            bad = 1

sys.setrecursionlimit(10000)
for c in circles(folders, {folder(n) for n in defs}):
    print("FAIL: layout: folders in a circle: " + " -> ".join(c)); bad = 1
for c in circles(files, set(defs)):
    print("FAIL: layout: files in a circle: " + " -> ".join(c)); bad = 1
if not bad:
    print("ok: layout: no circle between the %d folders or the %d files; the front uses nothing of the engine's"
          % (len({folder(n) for n in defs}), len(defs)))
sys.exit(bad)
