#!/bin/bash
# The rule of fork.c, held by the build: nothing that runs in fork()
# before the decision, and nothing that runs in a rerouted child or the
# engine's child, may take a lock of libc's or the loader's, or
# allocate. The files that hold such code (LOCKFREE below) include
# shim/lockfree.h, which makes a direct call to the obvious offenders a
# compile error; this script checks what the compiler cannot see: every
# function their objects call must be one of ALLOW (system calls and
# lock-free libc functions), or defined in one of these objects.
# Usage: tests/rules.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/.."
B=${1:-${B:-build}}
LOCKFREE="fork walk sites site_list elf env import_calls audit_child guard guard_env guard_exec exec_path
	signals log decisions asan spawn_child spawn_actions $(cd shim && ls rt_*.c | sed 's/\.c$//')"

# Lock-free libc: system call wrappers, string and signal-set functions.
ALLOW="_exit chdir close dup2 execve fchdir fcntl fstat getauxval geteuid getgid getpgid getpid
	getrlimit getuid mmap munmap open prctl process_vm_readv read readlink sched_setparam
	sched_setscheduler setpgid setsid sigaction signal stat syscall sysconf tcsetpgrp waitpid write
	__errno_location memchr memcpy memmove mempcpy memset strchr strchrnul strcmp strlen strncmp strnlen
	strrchr strstr strtoull sigdelset sigfillset sigismember sigorset _GLOBAL_OFFSET_TABLE_
	__stack_chk_fail __xstat __fxstat __xstat64 __fxstat64"
# (__xstat and __fxstat: stat and fstat before glibc 2.33, system calls too)
# The loader's list lock, which dl_iterate_phdr holds for the length of
# the walk over the loaded objects and which no constructor or
# destructor runs under (glibc takes dl_load_lock for those).
ALLOW="$ALLOW dl_iterate_phdr"
# Our own rebuild lock of the site table (sites.c): a trylock, never a
# wait; unlocked by the thread that took it.
ALLOW="$ALLOW pthread_mutex_trylock pthread_mutex_unlock"
# Waiting for another thread's rebuild: a yield, and who this thread is.
ALLOW="$ALLOW sched_yield pthread_self"
# libgcc's unwinder, linked in (walk.c): no lock but the loader's list
# lock above (or none, with _dl_find_object), no allocation while no
# frame is registered with this private copy, which nothing does.
ALLOW="$ALLOW _Unwind_Backtrace _Unwind_FindEnclosingFunction _Unwind_GetCFA _Unwind_GetIPInfo
	_Unwind_GetRegionStart _Unwind_VRS_Get"
# ASan's hooks, weak: only in a sanitized build (asan.c).
ALLOW="$ALLOW __asan_get_shadow_mapping __asan_handle_vfork __asan_unpoison_memory_region"
# Start-up only: REAL() calls shim_init when a next definition is still
# unresolved, which cannot be the case once a fork has been rerouted;
# cfg and real are read-only after it; the runtimes' section bounds.
ALLOW="$ALLOW shim_init shim_next_getenv cfg real stats __start_shim_rt __stop_shim_rt"
# Audit mode (VFORKSHIM_AUDIT, audit.c) reroutes nothing: its fork is
# libc's, before which it may record (mmap, clock_gettime, a trylock).
ALLOW="$ALLOW shim_audit_fork"
# Data: the environment pointer itself.
ALLOW="$ALLOW environ __environ"

objs=()
for f in $LOCKFREE; do
	o=$B/shim/$f.o
	[ -e "$o" ] || { echo "FAIL: rules: $o not built"; exit 1; }
	grep -q '#include "lockfree.h"' "shim/$f.c" || { echo "FAIL: rules: shim/$f.c does not include lockfree.h"; exit 1; }
	objs+=("$o")
done
for s in $B/asm/*.o; do objs+=("$s"); done
defined=$(nm --defined-only "${objs[@]}" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u)
bad=0
for o in "${objs[@]}"; do
	for sym in $(nm -u "$o" | awk '{print $2}' | sed 's/@.*//'); do
		case " $(echo $ALLOW) " in *" $sym "*) continue ;; esac
		grep -qx -- "$sym" <<<"$defined" && continue
		echo "FAIL: rules: $(basename "$o" .o) calls $sym, which may lock or allocate (tests/rules.sh)"
		bad=1
	done
done
[ $bad = 0 ] && echo "ok: rules: the fork path and the children's code call only lock-free functions (${#objs[@]} objects)"
exit $bad
