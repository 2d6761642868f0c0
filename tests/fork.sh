#!/bin/bash
# The rerouted fork under stress, VFORKSHIM_FORK=all: registers, inlined
# stack slots, credentials with parent threads, a signal storm, threads
# with malloc churn in a big process. Each program prints what the
# parent saw; the stats line proves every fork was rerouted.
. "$(dirname "$0")/lib.sh"
# timeout outside the preload: fork=all holds for the program started
# with it, not for the children of a wrapper that forks
all() { timeout 120 env VFORKSHIM=1 VFORKSHIM_FORK=all VFORKSHIM_STATS=1 LD_PRELOAD="$PRELOAD" "$@" > "$LOGS/out" 2> "$LOGS/err"; }

if [ -x "$P/fork_regs" ]; then
	all "$P/fork_regs" 50
	check "registers: callee-saved registers, rsp, locals, errno intact (50/50 rerouted)" \
		test "$(cat "$LOGS/out")/$(stat_of fork_rerouted)" = "registers, rsp, locals and errno intact after 50 of 50 forks/50"
fi

# The child's `slot = 999` and the parent's read after fork must be one
# stack slot of main's frame, or the test proves nothing.
if sanitized; then
	echo "skip: inline layout check (ASan moves main's locals into its own frame layout)"
else
	dis=$(objdump -d --no-show-raw-insn "$P/fork_inline" | awk '/<main>:/,/^$/')
	off=$(sed -n 's/.*movl *\$0x3e7,\(0x[0-9a-f]*\)(%rsp).*/\1/p' <<<"$dis" | head -n 1)
	check "inline: the child's store shares a slot of main's frame with the parent's read (${off:-none})" \
		test -n "$off" -a -n "$(grep -E "mov +$off\(%rsp\),%" <<<"$dis")"
fi
all "$P/fork_inline"
check "inline: the parent's value survives the child's write (20/20 rerouted)" \
	test "$(cat "$LOGS/out")/$(stat_of fork_rerouted)" = "parent's stack slot kept in 20 of 20 forks/20"

if [ "$(id -u)" = 0 ]; then
	all "$P/fork_creds"
	check "creds: children drop to nobody, non-dumpable; parent threads and dumpable flag untouched" \
		test "$(tail -n 1 "$LOGS/out")" = "20 of 20 children dropped to nobody; parent threads saw a change: 0; parent uid 0, dumpable 1"
	check "creds: each child's program ran as nobody (id -u printed 65534, 20 times)" \
		test "$(grep -c '^65534$' "$LOGS/out")" = 20
	check "creds: 20 rerouted" test "$(stat_of fork_rerouted)" = 20
else
	echo "skip: credentials test needs root"
fi

n=$(N 2000)
all "$P/fork_storm" "$PWD/$P/report" "$n"
check "storm: $n spawns under SIGUSR1 at 10 kHz and SIGCHLD, no handler in a child" \
	test "$(cat "$LOGS/out")" = "$n of $n children saw their mask and dispositions; handler ran in a child: 0; SIGUSR1 count rose every 500 spawns: 1; SIGCHLD handled: 1"
check "storm: $n rerouted" test "$(stat_of fork_rerouted)" = "$n"

all "$P/fork_threads" 1024 50
check "threads: 4 spawning, 4 churning malloc, 1 GiB held: every output right" \
	test "$(cat "$LOGS/out")" = "200 of 200 spawns from 4 threads returned the right output (1024 MiB held, malloc churning)"
check "threads: 200 rerouted" test "$(stat_of fork_rerouted)" = 200

all "$P/fork_notables" /bin/sh -c 'exit 6'
check "no unwind tables: fork=all declines (the caller's frame has no known top), the parent intact" \
	test "$(cat "$LOGS/out")/$(stat_of fallback_unwind)/$(stat_of fork_rerouted)" = \
	"preload-check no-unwind-tables: 20 of 20 forks through the library left the parent intact/20/0"

# libgcc_s is loaded at start-up only where a loaded object imports
# fork (or has it loaded already); elsewhere the first fork loads it.
check "lazy: fork_lazy imports no fork" test -z "$(nm -D "$P/fork_lazy" | awk '$2 == "U" && $3 ~ /^fork@/')"
all "$P/fork_lazy"
check "lazy: its fork, found with dlsym, still rerouted (unwinder loaded at the first fork)" \
	test "$(cat "$LOGS/out")/$(stat_of fork_rerouted)" = "child exit 6/1"

summary fork
