#!/bin/bash
# make check-arch [ARCH=...]: the stub-level checks (tests/arch/stub_check.c)
# of each architecture's asm/<arch>.S on a real kernel: a Debian kernel
# booted in qemu-system (TCG) with the static check program as /init,
# its verdict read from the serial console (qemu exits 0 whatever
# happens). i386 boots the amd64 kernel and runs 32-bit, as a 32-bit
# program runs on any x86_64 machine (this one's kernel refuses i386
# binaries). qemu-user is never used: it runs a vfork clone as a plain
# fork, which proves nothing.
#   tests/arch/run.sh [ARCH...]     (default: every architecture with a stub)
# STUB=FILE uses FILE instead of asm/<arch>.S (to show a broken stub fails).
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
W=$B/arch
mkdir -p "$W"
archs=("$@")
[ ${#archs[@]} = 0 ] && archs=(i386 aarch64 arm riscv64 ppc64le s390x)
total_fail=0

for a in "${archs[@]}"; do
	case $a in
	i386)    cc=i686-linux-gnu-gcc   deb=amd64 qemu=(qemu-system-x86_64 -m 256) console=ttyS0 ;;
	x86_64)  cc=gcc                  deb=amd64 qemu=(qemu-system-x86_64 -m 256) console=ttyS0 ;;
	aarch64) cc=aarch64-linux-gnu-gcc deb=arm64 qemu=(qemu-system-aarch64 -M virt -cpu cortex-a57 -m 256) console=ttyAMA0 ;;
	arm)     cc=arm-linux-gnueabihf-gcc deb=armhf qemu=(qemu-system-arm -M virt -cpu cortex-a15 -m 256) console=ttyAMA0 ;;
	riscv64) cc=riscv64-linux-gnu-gcc deb=riscv64 qemu=(qemu-system-riscv64 -M virt -bios default -m 256) console=ttyS0 ;;
	ppc64le) cc=powerpc64le-linux-gnu-gcc deb=ppc64el qemu=(qemu-system-ppc64 -M pseries,x-vof=on -m 512) console=hvc0 ;;
	s390x)   cc=s390x-linux-gnu-gcc deb=s390x qemu=(qemu-system-s390x -M s390-ccw-virtio -m 256) console=ttysclp0 ;;
	*) echo "FAIL: $a: no stub or no recipe for it here"; total_fail=$((total_fail + 1)); continue ;;
	esac
	if ! command -v "$cc" >/dev/null || ! command -v "${qemu[0]}" >/dev/null; then
		echo "FAIL: $a: $cc or ${qemu[0]} missing (scripts/install-deps --arch installs them)"
		total_fail=$((total_fail + 1)); continue
	fi
	kernel=$(scripts/fetch-kernel "$deb") || { echo "FAIL: $a: no kernel (see above)"; total_fail=$((total_fail + 1)); continue; }
	d=$W/$a
	rm -rf "$d" && mkdir -p "$d/root"
	if ! "$cc" -O2 -static -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -DARCH_NAME="\"$a\"" \
		-o "$d/root/init" tests/arch/stub_check.c "${STUB:-asm/$a.S}" 2> "$d/cc.log"; then
		echo "FAIL: $a: the check does not build"; cat "$d/cc.log"; total_fail=$((total_fail + 1)); continue
	fi
	# the library's checks: the cross-built library, a dynamic program,
	# and the cross ld.so, libc and libgcc_s (the shim's unwinder) in /lib
	sysroot=/usr/$("$cc" -dumpmachine)/lib
	# from clean: objects built while the arch had no stub must not linger
	rm -rf "build/cross-$a"
	if make -s cross ARCH="$a" > "$d/cross.log" 2>&1 &&
		"$cc" -O2 -funwind-tables -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -DARCH_NAME="\"$a\"" \
			-o "$d/root/preload_check" tests/arch/preload_check.c 2>> "$d/cross.log"; then
		mkdir -p "$d/root/lib"
		ln -s lib "$d/root/lib64" # ppc64le and s390x look for ld.so in /lib64
		cp "build/cross-$a/libvforkshim.so" "build/cross-$a/libvforkshim-engine.so" "$d/root/lib/"
		for l in "$sysroot"/ld-linux*.so* "$sysroot"/ld64.so* "$sysroot"/libc.so.6 "$sysroot"/libgcc_s.so.1; do
			[ -e "$l" ] || continue
			cp -L "$l" "$d/root/lib/"
		done
	else
		echo "FAIL: $a: the library or its check does not build ($d/cross.log)"
		total_fail=$((total_fail + 1))
	fi
	# aarch64: the child of a SITE_SWAP_ENV fork resumes in the site's
	# frame with the d8-d15 of the moment (shim_resume restores x19-x29
	# only), right because no engine function live between the site and
	# the clone uses them. Only libgcc's unwinder (returned before the
	# clone) and the audit's spawn path may.
	if [ "$a" = aarch64 ] && [ -e "build/cross-$a/libvforkshim-engine.so" ]; then
		users=$(aarch64-linux-gnu-objdump -d --no-show-raw-insn "build/cross-$a/libvforkshim-engine.so" |
			awk '/^[0-9a-f]+ <.*>:$/ { fn = $2 } /[ \t,\[](d|q|v|s|b)(8|9|1[0-5])([,. \]]|$)/ { print fn }' |
			sort -u | grep -vE '^<(_Unwind_|shim_audit_)' | tr '\n' ' ')
		if [ -z "$users" ]; then
			echo "  $a ok: d8-d15 unused by the engine's fork path (shim_resume need not restore them)"
		else
			echo "  $a FAIL: d8-d15 used by $users: shim_resume would hand the site other values"
			total_fail=$((total_fail + 1))
		fi
	fi
	(cd "$d/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$d/initrd.gz"
	start=$(date +%s%N)
	timeout 300 "${qemu[@]}" -nographic -no-reboot -nic none -kernel "$kernel" -initrd "$d/initrd.gz" \
		-append "console=$console panic=-1 quiet rdinit=/init" < /dev/null > "$d/console.log" 2>&1
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	tr -d '\r' < "$d/console.log" | grep -oE '(ok|FAIL): .*' | sed "s/^/  $a /"
	verdict=$(tr -d '\r' < "$d/console.log" | grep -E "^stub-check $a: [0-9]+ passed, [0-9]+ failed$" | tail -n 1)
	pre=$(tr -d '\r' < "$d/console.log" | grep -oE "preload-check $a: [0-9]+ of 20 .*" | tail -n 1)
	stats=$(tr -d '\r' < "$d/console.log" | grep -oE 'vforkshim: stats .*' | tail -n 1)
	rerouted=$(tr ' ' '\n' <<<"$stats" | sed -n 's/^fork_rerouted=//p')
	if [ -e "$d/root/preload_check" ]; then
		if [[ $pre == *": 20 of 20 "* ]] && [ "${rerouted:-0}" = 20 ]; then
			echo "  $a ok: $pre; the stats line: fork_rerouted=20"
			verdict=${verdict/ passed,/ passed + 1 preloaded,}
		else
			echo "  $a FAIL: preloaded: ${pre:-no line} (${stats:-no stats line})"
			verdict="stub-check $a: library check failed"
		fi
	fi
	if [ -n "$verdict" ] && [[ $verdict == *", 0 failed" ]]; then
		echo "$verdict (real kernel: $(basename "$kernel"), booted and ran in $((ms / 1000)).$((ms % 1000 / 100)) s)"
	else
		echo "FAIL: $a: ${verdict:-no verdict on the console} (console: $d/console.log)"
		tail -n 5 "$d/console.log"
		total_fail=$((total_fail + 1))
	fi
done
[ $total_fail = 0 ]
