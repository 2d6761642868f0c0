#!/bin/bash
# The rule of fork.c, held by the build: nothing that runs in fork()
# before the decision, and nothing that runs in a rerouted child or the
# engine's child, may take a lock of libc's or the loader's, or
# allocate. The files that hold such code (LOCKFREE below) include
# shim/common/lockfree.h, which makes a direct call to the obvious offenders a
# compile error; this script checks what the compiler cannot see: every
# function their objects call must be one of ALLOW (system calls and
# lock-free libc functions), or defined in one of these objects.
# Usage: tests/rules.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/.."
B=${1:-${B:-build}}
LOCKFREE="fork walk sites site_list elf dynsym unwind env import_calls code_x86_64 code_aarch64 env_load child audit_child guard guard_env guard_exec exec_path
	signals log decisions proc loader asan spawn_child spawn_actions $(cd shim/engine/runtimes && ls rt_*.c | sed 's/\.c$//')"

# Lock-free libc: system call wrappers, string and signal-set functions.
ALLOW="_exit chdir close dup2 execve fchdir fcntl fstat getauxval geteuid getgid getpgid getpid
	getrlimit getuid mmap munmap open prctl process_vm_readv read readlink sched_setparam
	sched_setscheduler setpgid setsid sigaction signal stat syscall sysconf tcsetpgrp waitpid write
	__errno_location memchr memcmp memcpy memmove mempcpy memset strchr strchrnul strcmp strlen strncmp strnlen
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
	_Unwind_GetRegionStart _Unwind_VRS_Get _Unwind_GetGR"
# ASan's hooks, weak: only in a sanitized build (asan.c).
ALLOW="$ALLOW __asan_get_shadow_mapping __asan_handle_vfork __asan_unpoison_memory_region"
# Start-up only: cfg and real are written at attach, before any call
# reaches the engine, and read-only after; the bounds of the runtimes'
# section and of the renewals' (proc.c).
ALLOW="$ALLOW cfg real stats __start_shim_rt __stop_shim_rt __start_shim_copy __stop_shim_copy"
# The front's code, which the walk steps over: set at attach, read-only after.
ALLOW="$ALLOW shim_front_code_start shim_front_code_end"
# Audit mode (VFORKSHIM_AUDIT, audit.c) reroutes nothing: its fork is
# libc's, before which it may record (mmap, clock_gettime, a trylock).
ALLOW="$ALLOW shim_audit_fork"
# The renewal of a copy (proc.c) in files that are not lock-free
# otherwise: plain stores to their own variables, nothing called.
ALLOW="$ALLOW shim_system_forget shim_popen_forget shim_audit_forget madvise nanosleep"
# A copy's inherited popen streams: one store (guard_env.c). The parent of
# a rerouted child, once the child is gone, in its own context: frees
# what the child's popen left (fork.c).
ALLOW="$ALLOW shim_guard_drop_streams shim_guard_adopted"
# Data: the environment pointer itself.
ALLOW="$ALLOW environ __environ"

objs=()
for f in $LOCKFREE; do
	src=$(find shim -name "$f.c")
	o=$B/${src%.c}.o
	[ -n "$src" ] && [ -e "$o" ] || { echo "FAIL: rules: $f.o not built"; exit 1; }
	grep -q 'lockfree\.h"' "$src" || { echo "FAIL: rules: $src does not include lockfree.h"; exit 1; }
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

# The second rule (shim/engine/core/proc.c, issue 21): every piece of per-process
# state is right in the child of any fork. Every writable variable of
# the library is named here with what a copy does with it; a variable
# added without a line here fails the check until someone has decided.
#   renewed:HOW   made right in a copy by HOW (proc.c calls it)
#   kept:WHY      the same in a copy, for the reason given
STATE="
audit:busy renewed:shim_audit_forget
audit:table renewed:claim(),by-pid
audit:ring renewed:claim(),by-pid
audit:next_slot renewed:claim(),by-pid
audit:started_ns renewed:claim(),by-pid
audit:kind_name kept:constant
audit_child:shim_audit_child renewed:shim_audit_forget
parse:names kept:constant
decisions:shim_decisions renewed:shim_decisions_forget
env:gate renewed:shim_env_forget,a-generation-of-its-own
env:writers renewed:shim_env_forget
env:in_setenv kept:the-forking-thread's-own,TLS
fork:refused kept:the-kernel's-answer,seccomp-is-inherited
guard_env:shim_guard renewed:shim_guard_forget,TLS-of-the-forking-thread
guard:program_main kept:set-at-start-up
guard_env:dropped kept:the-copy's-own
loader:owner kept:the-lock's-address-is-the-copy's-too
loader:candidate renewed:shim_loader_forget
proc:shim_loader_stuck renewed:shim_loader_forget
loader:ref kept:start-up
loader:have_ref kept:start-up
log:shim_live renewed:shim_stats_claim,by-shim_proc_pid;configuration-words-kept
log:shim_reason_name kept:constant
popen:chain_lock renewed:shim_popen_forget
popen:chain kept:the-streams-are-the-copy's-too,as-glibc's-list
streams:shim_guard_adopted kept:the-streams-are-the-copy's-too
popen:used kept:monotonic
popen:atfork_once kept:glibc's-pthread_once-knows-forks
proc:always_one kept:constant
proc:fallback kept:the-kernel's-answer
proc:shim_proc_marker kept:the-page's-address;its-word-is-the-renewal
proc:shim_proc_pid renewed:shim_proc_renew
proc:shim_proc_gen renewed:shim_proc_renew
log:stats_gen renewed:shim_stats_claim
real:real kept:start-up,read-only-after
real:cfg kept:start-up,read-only-after
attach:init_once kept:start-up
attach:printed kept:set-at-exit
attach:calls kept:constant
attach:why_loaded kept:start-up,read-only-after
real:shim_front_code_start kept:start-up,read-only-after
real:shim_front_code_end kept:start-up,read-only-after
decide:markers kept:constant
decide:names kept:constant
decide:loaders kept:constant
decide:glibc_own kept:constant
engine:shim_front_engine kept:start-up,read-only-after:the-engine-stays-mapped-in-a-copy
engine:shim_front_live kept:start-up,read-only-after:the-copy's-engine-is-its-parent's
next:self kept:start-up:objects-loaded-at-start-stay
walk:fork_entry kept:start-up,read-only-after
next:total kept:start-up:objects-loaded-at-start-stay
next:self_at kept:start-up:objects-loaded-at-start-stay
next:known kept:the-same-objects-in-a-copy
next:cache kept:start-up:objects-loaded-at-start-stay
next:state kept:start-up:objects-loaded-at-start-stay
next:shim_front_next kept:next-definitions-are-the-same-in-a-copy
env_load:seen kept:only-during-a-rebuild
env_load:todo kept:only-during-a-rebuild
env_load:access kept:only-during-a-rebuild
env_load:ends kept:only-during-a-rebuild
env_load:shape_refs kept:only-during-a-rebuild
env_load:todo_callee kept:only-during-a-rebuild
env_load:dead_seen kept:only-during-a-rebuild
env_load:ndead_seen kept:only-during-a-rebuild
env_load:noreturn_names kept:constant
rt_libuv:seen renewed:forget-hook,if-a-rebuild-was-torn
rt_libuv:next_slot renewed:forget-hook
rt_cpython:seen renewed:forget-hook,if-a-rebuild-was-torn
rt_cpython:next_slot renewed:forget-hook
rt_cpython:after kept:only-during-a-rebuild,rebuilt-in-a-copy
rt_ruby:seen renewed:forget-hook,if-a-rebuild-was-torn
rt_ruby:next_slot renewed:forget-hook
site_list:user kept:parsed-at-start-up;writes_environ-is-learned-of-the-code
site_list:nuser kept:start-up
sites:table renewed:shim_sites_forget,rebuilt-if-torn
sites:rebuild_lock renewed:shim_sites_forget
sites:rebuilder renewed:shim_sites_forget
sites:scanning_atfork kept:only-during-a-rebuild
sites:program kept:start-up
sites:fork_all_writes_environ kept:learned-of-the-code
sites:swap_wrote_environ kept:learned-of-the-code
sites:unread_logged kept:told-once-for-the-program
sites:overflow_logged kept:told-once-for-the-program
spawn:refused kept:the-kernel's-answer,seccomp-is-inherited
spawn:internal_ignored kept:libc's-answer
spawn:signals_once kept:glibc's-pthread_once-knows-forks
spawn_layout:layout_ok kept:libc's-layout
spawn_layout:layout_once kept:glibc's-pthread_once-knows-forks
system:lock renewed:shim_system_forget
system:users renewed:shim_system_forget
system:saved_intr kept:written-again-by-the-next-first-user
system:saved_quit kept:written-again-by-the-next-first-user
system:atfork_once kept:glibc's-pthread_once-knows-forks
"
state_bad=0 nstate=0
found=$(for o in $(find $B/shim -name "*.o"); do
	s=${o#"$B"/}
	[ -e "${s%.o}.c" ] || continue # a file since moved or removed: its object lingers
	nm "$o" | awk -v f="$(basename "$o" .o)" '$2 ~ /^[bBdD]$/ {sub(/\..*/, "", $3); print f ":" $3}'
done | sort -u)
for v in $found; do
	nstate=$((nstate + 1))
	case "$v" in rt_*:rt_*|rt_*:sites|rt_*:markers|*:*_on_copy) continue ;; esac # each runtime's description: constant
	grep -q "^$v " <<<"$STATE" && continue
	echo "FAIL: state: $v is not classified: renewed in the child of a fork, or kept, and why (tests/rules.sh, STATE)"
	state_bad=1
done
for v in $(awk 'NF {print $1}' <<<"$STATE"); do
	grep -qx -- "$v" <<<"$found" || { echo "FAIL: state: $v is classified but no longer exists (tests/rules.sh, STATE)"; state_bad=1; }
done
[ $state_bad = 0 ] && echo "ok: state: each of the library's $nstate writable variables is renewed in a copy or kept for a reason"
[ $bad = 0 ] && [ $state_bad = 0 ]
