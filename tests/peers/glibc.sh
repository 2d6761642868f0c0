# glibc 2.36's own tests of posix_spawn, system, popen, fork, vfork, the
# exec family, wait*, atfork and fork under malloc load, from Debian's
# glibc-source (the installed glibc's), built standalone against the
# system glibc with glibc's support/ library. Static tests ignore
# LD_PRELOAD and are left out; tests that need glibc's build tree and
# cannot be built standalone are listed in the allow-list as failing.
# Claims: with spawn=always, libc's conformance tests for posix_spawn,
# system and popen run on the engine.
glibc_all=yes
glibc_tests="posix/tst-spawn posix/tst-spawn2 posix/tst-spawn3 posix/tst-spawn4 posix/tst-spawn4-compat
 posix/tst-spawn5 posix/tst-spawn6 posix/tst-spawn-chdir posix/tst-posix_spawn-fd posix/tst-posix_spawn-setsid
 stdlib/tst-system libio/tst-popen1 stdio-common/tst-popen stdio-common/tst-popen2 sysdeps/pthread/tst-pt-popen1
 posix/tst-fork posix/tst-vfork1 posix/tst-vfork2 posix/tst-vfork3
 posix/tst-exec posix/tst-execl1 posix/tst-execl2 posix/tst-execle1 posix/tst-execle2 posix/tst-execlp1
 posix/tst-execlp2 posix/tst-execv1 posix/tst-execv2 posix/tst-execve1 posix/tst-execve2 posix/tst-execveat
 posix/tst-execvp1 posix/tst-execvp2 posix/tst-execvp3 posix/tst-execvp4 posix/tst-execvpe1 posix/tst-execvpe2
 posix/tst-execvpe3 posix/tst-execvpe4 posix/tst-execvpe5 posix/tst-execvpe6
 posix/tst-wait3 posix/tst-wait4 posix/tst-waitid sysdeps/pthread/tst-atfork1
 malloc/tst-mallocfork malloc/tst-mallocfork2 malloc/tst-mallocfork3"

glibc_prepare() {
	local ver tarball
	ver=$(getconf GNU_LIBC_VERSION | awk '{ print $2 }')
	tarball=/usr/src/glibc/glibc-$ver.tar.xz
	if [ ! -e "$tarball" ]; then
		[ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq glibc-source >/dev/null
		[ -e "$tarball" ] || { echo "glibc: $tarball missing (Debian package glibc-source)"; return 1; }
	fi
	glibc_dir=$PEERS/glibc-$ver
	[ -e "$glibc_dir/ready" ] && return 0
	rm -rf "$glibc_dir"
	mkdir -p "$glibc_dir/inc" "$glibc_dir/obj" "$glibc_dir/bin"
	local src=$glibc_dir/glibc-$ver pats=() t
	for t in $glibc_tests; do pats+=("glibc-$ver/$t.c"); done
	tar -xJf "$tarball" -C "$glibc_dir" --wildcards "glibc-$ver/support/*" "glibc-$ver/malloc/dynarray*" \
		"glibc-$ver/posix/tst-wait-skeleton.c" "glibc-$ver/include/*" "glibc-$ver/test-skeleton.c" \
		"glibc-$ver/sysdeps/unix/sysv/linux/arch-fd_to_filename.h" "${pats[@]}" || return 1
	# A few of glibc's internal headers, the self-contained ones; the
	# rest of include/ wraps the public headers and must stay out. Our
	# stand-ins (tests/peers/glibc-inc) for config.h, stackinfo.h and
	# scratch_buffer.h come first.
	cp tests/peers/glibc-inc/*.h "$glibc_dir/inc/"
	for t in array_length.h intprops.h libc-pointer-arith.h libc-diag.h; do
		cp "$src/include/$t" "$glibc_dir/inc/"
	done
	cp "$src/sysdeps/unix/sysv/linux/arch-fd_to_filename.h" "$glibc_dir/inc/"
	mkdir -p "$glibc_dir/objpfx"
	local cflags="-O1 -g -D_GNU_SOURCE -DTIMEOUTFACTOR=1 -I$glibc_dir/inc -I$src -I$src/support -include limits.h"
	cflags="$cflags -DOBJPFX=\"$glibc_dir/objpfx/\""
	local d
	for d in SRCDIR OBJDIR INSTDIR LIBDIR BINDIR SBINDIR SLIBDIR ROOTSBINDIR; do
		cflags="$cflags -D${d}_PATH=\"$glibc_dir\""
	done
	cflags="$cflags -DOBJDIR_ELF_LDSO_PATH=\"/lib64/ld-linux-x86-64.so.2\" -DCOMPLOCALEDIR_PATH=\"/usr/lib/locale\""
	# support/: every file that builds outside glibc's tree
	local f n=0
	for f in "$src"/support/*.c; do
		# test-driver.c is included by each test; the *_main.c templates
		# by their users; test-container needs glibc's build tree
		case $f in */test-driver.c | */test-container.c | */support_quote_blob_main.c | \
			*/support_test_compare_string_main.c) continue ;; esac
		gcc $cflags -c -o "$glibc_dir/obj/$(basename "$f" .c).o" "$f" 2>> "$glibc_dir/support.err" && n=$((n + 1))
	done
	ar rcs "$glibc_dir/libsupport.a" "$glibc_dir"/obj/*.o || return 1
	echo "glibc: support/ built standalone: $n objects"
	for t in $glibc_tests; do
		gcc $cflags -o "$glibc_dir/bin/$(basename "$t")" "$src/$t.c" "$glibc_dir/libsupport.a" -lpthread -lrt \
			2>> "$glibc_dir/tests.err" || echo "glibc: $t does not build standalone (see $glibc_dir/tests.err)"
	done
	touch "$glibc_dir/ready"
}

glibc_run() {
	local out=$1 t b rc st args
	mkdir -p "$out/tmp"
	for t in $glibc_tests; do
		b=$glibc_dir/bin/$(basename "$t")
		if [ ! -x "$b" ]; then
			echo "$t fail" >> "$out/results"
			continue
		fi
		case $t in
		*/tst-spawn | */tst-spawn5 | */tst-spawn6 | */tst-exec | */tst-execvpe5) args=(-- "$b") ;;
		*/tst-vfork3 | */tst-execvp3) args=("--test-dir=$out/tmp") ;;
		*) args=() ;;
		esac
		(cd "$out/tmp" && TMPDIR=$out/tmp timeout 300 "$b" "${args[@]}") > "$out/one" 2>&1
		rc=$?
		case $rc in 0) st=pass ;; 77) st=skip ;; *) st=fail; { echo "== $t: $rc"; cat "$out/one"; } >> "$out/failures" ;; esac
		echo "$t $st" >> "$out/results"
	done
}

glibc_claim() {
	local e
	e=$(stats_sum "$2" spawn_engine)
	if [ "$1" = always ] && [ "$e" -lt 30 ]; then
		echo "FAIL: glibc always: only $e calls on the engine"
		return 1
	fi
	echo "ok: glibc $1: $e posix_spawn/system/popen calls on the engine, $(stats_sum "$2" spawn_libc) passed to libc"
}
