#!/bin/bash
# make check-arch-runtimes: tests/runtimes.sh (Ruby, Perl, Python, Node
# with tests/node.sh), tests/concurrency.sh and tests/arch/arm64.sh (the
# register harness and the resume, in a -mbranch-protection=standard
# build too) on arm64, in a Debian
# bookworm arm64 userland (scripts/userland-arm64) booted as the root
# filesystem of qemu-system-aarch64 on bookworm's arm64 kernel (TCG,
# -cpu max: PAC and BTI; two CPUs). qemu-user is never used for the
# tests: it runs a vfork clone as a plain fork, which proves nothing.
#   tests/arch/runtimes.sh        run, unless it passed with the same inputs
#   FORCE=1 tests/arch/runtimes.sh   run whatever the cache says
#   SUITES="tests/runtimes.sh" ...  some of the suites (default: all three)
#   TIMEOUT=SECONDS              the guest's limit (default 5400)
# The root filesystem is an initramfs: the cached userland's cpio
# archive, then a small one of this run (the tree at /srv/vforkshim with
# the cross-built build/cross-aarch64, and /init), concatenated, which
# the kernel unpacks one after the other. An ext4 disk would need
# virtio-blk, virtio-mmio and ext4 modules loaded from an initramfs
# first (Debian's kernel has all three as modules): more parts, no gain.
# The tests run as root in the guest (some children as nobody) with
# B=build/cross-aarch64, the build's own path, so the programs' built-in
# paths hold, and VFORKSHIM_TEST_SLOW=10 (tests/lib.sh: emulation is
# slow; counts shrink as in a sanitized build, time bounds grow). /init
# prints each test's line and a verdict on the serial console, then the
# rows of tests/userland/runtimes.sh (at 256 MiB), and powers off; this
# script reads the console, and on a pass writes the rows into
# docs/COMPATIBILITY.md.
# The cache: the key is a hash of every input (the library's sources,
# the tests and their programs, the Makefiles, this script, the
# userland's package list and versions, the kernel, the cross compiler);
# a pass is recorded under $VFORKSHIM_CACHE/arch-runtimes, and the same
# key again is skipped with a line saying when it passed.
set -u
# in braces: bash reads it whole before running it, so an edit of this
# file during a run (half an hour) cannot change what the run does
{
cd "$(dirname "$0")/../.."
top=$PWD
A=aarch64
B=build/cross-$A
W=build/arch-runtimes
cc=aarch64-linux-gnu-gcc
cachedir=${VFORKSHIM_CACHE:-/var/cache/vforkshim}/arch-runtimes
SUITES=${SUITES:-tests/runtimes.sh tests/concurrency.sh tests/arch/arm64.sh}
TIMEOUT=${TIMEOUT:-5400}
die() { echo "FAIL: arch-runtimes: $*"; exit 1; }
secs() { local ms=$(( ($(date +%s%N) - $1) / 1000000 )); echo "$((ms / 1000)).$((ms % 1000 / 100)) s"; }

command -v "$cc" >/dev/null && command -v qemu-system-aarch64 >/dev/null && command -v cpio >/dev/null ||
	die "$cc, qemu-system-aarch64 or cpio missing (scripts/install-deps --arch-runtimes installs them)"
[ "$(id -u)" = 0 ] || die "needs root (the userland is built with debootstrap and chroot)"
kernel=$(scripts/fetch-kernel arm64) || die "no arm64 kernel (see above)"
t0=$(date +%s%N)
ucpio=$(scripts/userland-arm64 cpio) || die "no arm64 userland (see above)"
[ "$(secs "$t0")" = "0.0 s" ] || echo "arch-runtimes: userland ready ($(secs "$t0"))"
ready=$(dirname "$ucpio")/bookworm-arm64/.vforkshim-ready

# The key: every input's content, then the userland's package versions,
# the kernel and the compiler.
key=$( {
	find shim asm/$A.S tests/*.sh tests/progs tests/embed tests/plugins tests/reliability tests/arch/runtimes.sh \
		tests/arch/arm64.sh tests/arch/pac_probe.c tests/userland/runtimes.sh tests/arch/preload_check.c \
		tests/tests.mk Makefile scripts/userland-arm64 -type f ! -name '*.pyc' |
		LC_ALL=C sort | xargs sha256sum
	sed 1d "$ready"
	sha256sum < "$kernel"
	"$cc" --version | head -n 1
	echo "$SUITES"
} | sha256sum | cut -c 1-16)
stamp=$cachedir/passed-$key
if [ -z "${FORCE:-}" ] && [ -e "$stamp" ]; then
	echo "arch-runtimes: skipped: passed with these inputs on $(sed -n 1p "$stamp") ($key); FORCE=1 runs it again"
	exit 0
fi

# The library, the test programs, and what tests/concurrency.sh loads
# beyond them (its plugins, the torture program), cross-built.
t0=$(date +%s%N)
mkdir -p "$W"
if ! { make -s cross ARCH=$A &&
	make -s ARCH=$A CC=$cc B=$B $B/tests/plugins/libwaiter.so $B/tests/plugins/libreload_a.so \
		$B/tests/plugins/libreload_b.so $B/tests/plugins/libatfork.so $B/tests/plugins/libusersite.so \
		$B/tests/plugins/libsecond.so $B/tests/reliability/torture &&
	rm -rf $B-bti &&
	make -s ARCH=$A CC=$cc B=$B-bti CFLAGS="-O2 -g -mbranch-protection=standard" $B-bti/libvforkshim.so \
		$B-bti/libvforkshim-engine.so $B-bti/tests/progs/fork_regs $B-bti/tests/progs/uv_shapes \
		$B-bti/tests/plugins/libuv_shape0.so &&
	$cc -O2 -mbranch-protection=standard -o $B-bti/pac_probe tests/arch/pac_probe.c; } > "$W/cross.log" 2>&1; then
	tail -n 20 "$W/cross.log"
	die "the cross build failed ($W/cross.log)"
fi
echo "arch-runtimes: cross-built $B and $B-bti ($(secs "$t0"))"

# This run's archive: /init and the tree at /srv/vforkshim (as
# scripts/userland copies it: no build output, caches or history),
# with the cross build and no objects; readable by all.
t0=$(date +%s%N)
rm -rf "$W/root" && mkdir -p "$W/root/srv/vforkshim"
tar -C "$top" --exclude=./build --exclude=./.cache --exclude=./.git -cf - . | tar -C "$W/root/srv/vforkshim" -xf -
mkdir -p "$W/root/srv/vforkshim/build"
tar -C "$top" --exclude='*.o' --exclude='*.d' --exclude=./$B/tests/logs -cf - ./$B ./$B-bti | tar -C "$W/root/srv/vforkshim" -xf -
cat > "$W/root/init" <<'EOF'
#!/bin/bash
# The guest's first process: the filesystems, the suites as root,
# a verdict per suite, then power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
# what udev would add to /dev: bash's process substitutions (read < <(...))
# open /dev/fd/N
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
exec > /dev/console 2>&1 < /dev/null
# the loopback interface up (no iproute2 in the guest)
python3 -c 'import socket, fcntl, struct
s = socket.socket()
f = struct.unpack("16sh22x", fcntl.ioctl(s, 0x8913, struct.pack("16sh22x", b"lo", 0)))[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sh22x", b"lo", f | 1))' || echo "vforkshim-guest: lo not up"
hostname vforkshim-arm64 2>/dev/null
cd /srv/vforkshim
export B=build/cross-aarch64 VFORKSHIM_TEST_SLOW=10
echo "vforkshim-guest: $(uname -srm), $(nproc) CPUs, $(grep -m 1 -o 'paca\|pacg' /proc/cpuinfo | head -n 1 || echo no) pac, $(grep -c -m 1 ' bti' /proc/cpuinfo) bti; ruby $(ruby -e 'print RUBY_VERSION'), perl $(perl -e 'printf "%vd", $^V'), python $(python3 -c 'import platform; print(platform.python_version())'), node $(node --version) (libuv $(node -p process.versions.uv))"
for s in @SUITES@; do
	echo "== $s"
	start=$(date +%s)
	# after a FAIL line, the last stats line of the run it judged, when
	# the suite has not started the next run yet (most labels carry
	# their counts; some do not): for the reader, never judged
	bash $s 2>&1 | while IFS= read -r l; do
		echo "$l"
		case $l in FAIL:*)
			st=$(grep '^vforkshim: stats ' "$B/tests/logs/err" 2>/dev/null | tail -n 1)
			[ -z "$st" ] || echo "    (the last stats line then: ${st#vforkshim: stats })" ;;
		esac
	done
	echo "vforkshim-guest: $s exit ${PIPESTATUS[0]} in $(( $(date +%s) - start )) s"
done
# docs/COMPATIBILITY.md's rows (times under emulation: not figures)
LIB=$PWD/$B/libvforkshim.so MIB=256 tests/userland/runtimes.sh "bookworm arm64" 0 3 2>/dev/null | sed 's/^/vforkshim-row: /'
echo "vforkshim-guest: done"
sync
echo o > /proc/sysrq-trigger
sleep 10
EOF
sed -i "s|@SUITES@|$SUITES|" "$W/root/init"
chmod 755 "$W/root/init" "$W/root" "$W/root/srv" "$W/root/srv/vforkshim"
(cd "$W/root" && find . | cpio -o -H newc --quiet -R 0:0) > "$W/tree.cpio"
cat "$ucpio" "$W/tree.cpio" > "$W/initrd.cpio"
echo "arch-runtimes: initramfs of $(( $(stat -c %s "$W/initrd.cpio") / 1048576 )) MiB ($(secs "$t0"))"

# The boot: -no-reboot and panic=-1 end qemu if /init dies; the
# sysrq power-off ends it otherwise; timeout ends a hung guest.
echo "arch-runtimes: booting $(basename "$kernel") in qemu-system-aarch64 (TCG, -cpu max, 2 CPUs): $SUITES"
t0=$(date +%s%N)
timeout "$TIMEOUT" qemu-system-aarch64 -M virt -cpu max -smp 2 -m 4096 -nographic -no-reboot -nic none \
	-kernel "$kernel" -initrd "$W/initrd.cpio" \
	-append "console=ttyAMA0 panic=-1 quiet rdinit=/init" < /dev/null > "$W/console.log" 2>&1
qrc=$?
took=$(secs "$t0")
rm -f "$W/initrd.cpio"
tr -d '\r' < "$W/console.log" > "$W/console.txt"

# The console: every test's line, then a verdict per suite.
fails=0
grep -E '^(== |vforkshim-guest: |ok: |FAIL: |skip: |    \(the last stats line)' "$W/console.txt" | grep -v '^vforkshim-guest: done$' | sed 's/^/  /'
for path in $SUITES; do
	s=$(basename "$path" .sh)
	line=$(grep -E "^$s: [0-9]+ passed, [0-9]+ failed$" "$W/console.txt" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL: arch-runtimes: $path gave no verdict (console: $W/console.log)"
		fails=$((fails + 1))
	else
		echo "$A $line"
		[[ $line == *" 0 failed" ]] || fails=$((fails + 1))
	fi
done
if ! grep -qx 'vforkshim-guest: done' "$W/console.txt"; then
	[ $qrc = 124 ] && echo "FAIL: arch-runtimes: the guest did not finish within $TIMEOUT s" ||
		echo "FAIL: arch-runtimes: the guest stopped before the end (qemu exit $qrc)"
	tail -n 15 "$W/console.txt" | sed 's/^/  | /'
	fails=$((fails + 1))
fi
n_ok=$(grep -c '^ok: ' "$W/console.txt") n_fail=$(grep -c '^FAIL: ' "$W/console.txt")
echo "arch-runtimes: $n_ok ok, $n_fail FAIL on $(basename "$kernel") (booted and ran in $took; console: $W/console.log)"
# the rows: a runtime whose output differed, or whose forks stayed real
# for no reason given, fails the run as in make check-userlands
rows=$(sed -n 's/^vforkshim-row: //p' "$W/console.txt")
if [ -z "$rows" ] || grep -qE 'OUTPUT DIFFERS|NOT REROUTED' <<<"$rows"; then
	echo "FAIL: arch-runtimes: the runtimes' rows: ${rows:-none}"
	fails=$((fails + 1))
else
	sed 's/^/  /' <<<"$rows"
fi
[ $fails = 0 ] || exit 1
if [ -e docs/COMPATIBILITY.md ]; then
	{ echo "Last run: $(date -u +%Y-%m-%d), qemu-system-aarch64 (TCG, -cpu max, 2 CPUs) on $(uname -m), kernel $(basename "$kernel" | sed 's/^vmlinu[xz]-//'), \`make check-arch-runtimes\` (256 MiB; times under emulation are no figure of merit)."
	  echo
	  echo "| userland | runtime | version | what the shim did | ms per spawn at 256 MiB (TCG), without / with |"
	  echo "|---|---|---|---|---|"
	  echo "$rows"; } > "$W/block.md"
	scripts/doc-block docs/COMPATIBILITY.md "<!-- arm64:begin -->" "<!-- arm64:end -->" "$W/block.md"
fi
mkdir -p "$cachedir"
{ date -u '+%Y-%m-%d %H:%M UTC'; echo "$n_ok ok in $took"; } > "$stamp"
echo "arch-runtimes: passed; recorded as $key"
exit 0
}
