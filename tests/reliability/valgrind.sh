#!/bin/bash
# The engine and the rerouted fork under valgrind's memcheck: no invalid
# read or write, no use of an uninitialised value, no definite leak, in
# the parent and (--trace-children) in each child until it execs; the
# program's output as under valgrind without the shim; the stats line
# shows the paths taken.
#
# Valgrind runs CLONE_VM|CLONE_VFORK as a vfork WITHOUT CLONE_VM: its
# syscall wrapper for clone (coregrind/m_syswrap/syswrap-amd64-linux.c,
# "assume vfork (somewhat) == fork") clears CLONE_VM, because a second
# process cannot share the address space of valgrind's translator and
# shadow memory. The child is a copy and the parent still waits for its
# exec. So memcheck checks every instruction of both sides, but what
# only sharing can break (the child scribbling the parent's stack) is
# not exercised here: tests/fork.sh proves that on the kernel, and ASan
# (make check SANITIZE=address,undefined) with the real sharing.
# Sourced by tests/reliability/run.sh (lib.sh loaded).

if ! command -v valgrind >/dev/null; then
	echo "skip: valgrind not installed (scripts/install-deps installs it)"
	return 0
fi
# vg NAME [--no-children] ENV... -- CMD...: CMD natively without the
# shim (the reference: glibc's own posix_spawn is wrong under valgrind,
# it hands the child's exec errno back through the memory valgrind no
# longer shares, and reports ENOENT as success and exit 127; the
# engine's pipe keeps it right), then under memcheck with the shim
vg() {
	local name=$1 envs=() children=yes
	shift
	[ "$1" = --no-children ] && { children=no; shift; }
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	local opts=(-q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
		--fair-sched=yes --trace-children=$children --trace-children-skip='/bin/*,/usr/*,*/report')
	timeout 300 "$@" > "$LOGS/vg-$name.base" 2> "$LOGS/vg-$name.base.err"
	timeout 300 env VFORKSHIM=1 VFORKSHIM_STATS=1 "${envs[@]}" LD_PRELOAD="$LIB" \
		valgrind "${opts[@]}" "$@" > "$LOGS/vg-$name.out" 2> "$LOGS/vg-$name.err"
	vg_rc=$?
}
vg_same() { cmp -s "$LOGS/vg-$1.base" "$LOGS/vg-$1.out"; }
# the same lines, each once: under valgrind a child that is a copy can
# flush a copy of the parent's stdio buffer (so it does without the shim)
vg_same_lines() { cmp -s <(sort -u "$LOGS/vg-$1.base") <(sort -u "$LOGS/vg-$1.out"); }
vg_stat() { grep '^vforkshim: stats ' "$LOGS/vg-$1.err" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }

vg engine VFORKSHIM_SPAWN=always -- "$P/demo_calls"
check "valgrind: system, popen, posix_spawnp on the engine: clean, output as without the shim (exit $vg_rc, spawn_engine=$(vg_stat engine spawn_engine))" \
	test "$vg_rc/$(vg_same engine && echo same)/$(vg_stat engine spawn_engine)" = 0/same/3
# (not the 'exec' faults: valgrind's own execve wrapper changes E2BIG
# and ETXTBSY, with or without the shim)
vg killed VFORKSHIM_FORK=all VFORKSHIM_SPAWN=always -- "$R/faults" killed
check "valgrind: children killed before exec, through every path: clean, results as without the shim (exit $vg_rc)" \
	test "$vg_rc/$(vg_same_lines killed && echo same)" = 0/same
vg actions VFORKSHIM_FORK=all VFORKSHIM_SPAWN=always -- "$R/hostile" actions
check "valgrind: file actions on bad descriptors: clean, results as without the shim (exit $vg_rc)" \
	test "$vg_rc/$(vg_same_lines actions && echo same)" = 0/same
# Rerouted forks from several threads: valgrind runs one thread at a
# time under its big lock, handed over through a pipe by default; the
# spawning threads, blocked on that pipe, could starve behind the
# malloc-churning ones, which never block (100% CPU, no progress).
# --fair-sched=yes hands the lock over in turn (a ticket lock).
vg threads VFORKSHIM_FORK=all -- "$P/fork_threads" 16 10
check "valgrind --fair-sched=yes: rerouted forks from 4 threads with malloc churning: clean, every output right (exit $vg_rc, $(vg_stat threads fork_rerouted) rerouted)" \
	test "$vg_rc/$(vg_same threads && echo same)/$(vg_stat threads fork_rerouted)" = 0/same/40
if [ -x "$P/fork_regs" ]; then
	vg regs VFORKSHIM_FORK=all -- "$P/fork_regs" 20
	check "valgrind: the stub keeps every callee-saved register: clean, 20 rerouted (exit $vg_rc)" \
		test "$vg_rc/$(vg_same regs && echo same)/$(vg_stat regs fork_rerouted)" = 0/same/20
fi
