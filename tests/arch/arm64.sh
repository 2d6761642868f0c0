#!/bin/bash
# In the arm64 guest of make check-arch-runtimes (tests/arch/runtimes.sh):
# the rerouted fork's register contract and the SITE_SWAP_ENV resume on a
# real arm64 kernel, in the build of the other suites and in one built
# with -mbranch-protection=standard ($B-bti):
#   - fork_regs (tests/progs/fork_regs_aarch64.S): x19-x28, d8-d15, sp,
#     locals and errno as before each of 50 forks under fork=all, whose
#     children clobber them and the frame; its return address is signed
#     (paciasp) and checked (autiasp) after the parent's stack is put back;
#   - uv_shapes shape 0: libuv's arm64 child shape, proved, its child
#     resumed in the site's frame by shim_resume, 20 spawns beside a thread
#     that reads the environment, output as without the library; its
#     uv_spawn signs its return address in the -bti build.
# PAC is on in this guest (-cpu max; pac_probe says so): a signed return
# address the stub or shim_resume got wrong would fault. BTI is not
# enforced: Debian 12's crt files and libgcc carry no BTI property, so no
# object linked with them is marked, and forcing the mark (-z force-bti)
# would fault in libgcc's unwinder, whose dl_iterate_phdr callback has no
# landing pad (docs: README, "Architectures").
. "$(dirname "$0")/../lib.sh"
if [ "$(uname -m)" != aarch64 ]; then
	echo "skip: not an arm64 machine"
	summary arm64
	exit
fi
run() { timeout $((120 * SLOW)) "$@" > "$LOGS/out" 2> "$LOGS/err"; }
probe=$B-bti/pac_probe
check "PAC signs return addresses here: $("$probe" 2>&1)" "$probe"
for b in "$B" "$B-bti"; do
	what=
	[ "$b" = "$B" ] || what=" (-mbranch-protection=standard)"
	lib=$PWD/$b/libvforkshim.so
	run env VFORKSHIM=1 VFORKSHIM_FORK=all VFORKSHIM_STATS=1 LD_PRELOAD="$lib" "$b/tests/progs/fork_regs" 50
	check "registers$what: x19-x28, d8-d15, sp, locals, errno intact (50/50 rerouted)" \
		test "$(cat "$LOGS/out")/$(stat_of fork_rerouted)" = "registers, rsp, locals and errno intact after 50 of 50 forks/50"
	"$b/tests/progs/uv_shapes" "$b/tests/plugins/libuv_shape0.so" 20 > "$LOGS/base" 2> "$LOGS/base.err"
	run env VFORKSHIM=1 VFORKSHIM_STATS=1 LD_PRELOAD="$lib" "$b/tests/progs/uv_shapes" "$b/tests/plugins/libuv_shape0.so" 20
	got=$(stat_of fork_rerouted)/$(stat_of fork_real)/$(stat_of fallback_undecoded)
	check "libuv's arm64 child$what: proved, resumed in its frame by shim_resume: same output ($got rerouted/real/undecoded)" \
		test "$(same && echo same)/$got/$(grep -c 'assigned environ' "$LOGS/err")" = "same/20/0/0/0"
done
summary arm64
