# gdb commands for programs running with libvforkshim.so preloaded.
#   (gdb) source /usr/local/share/vforkshim/vforkshim.gdb
#
#   vforkshim-config          the configuration in force
#   vforkshim-stats           the live counters (what the stats line
#                             will say at exit)
#   vforkshim-last [N]        the last N fork decisions (default and at
#                             most 32): rerouted at which site, or the
#                             reason it stayed a real fork
#   vforkshim-break-fallback  stop whenever fork, system, popen or
#                             posix_spawn falls back to libc, with why
#
# Debugging a preloaded program without preloading gdb itself: leave
# LD_PRELOAD out of gdb's environment and give it to the program only,
#   (gdb) set exec-wrapper env LD_PRELOAD=/usr/local/lib/libvforkshim.so VFORKSHIM=1
#   (gdb) run
# (`set environment LD_PRELOAD ...` also works, but then every shell gdb
# starts to run the program gets the library too).
#
# Following a rerouted child: it shares the parent's memory until it
# execs, so breakpoints in that window hit in the child; the parent is
# suspended meanwhile.
#   (gdb) set follow-fork-mode child     stay with the child (into exec)
#   (gdb) set detach-on-fork off         keep both under gdb
# A rerouted fork is a clone(CLONE_VM|CLONE_VFORK) made by the stub, not
# a fork() syscall: `catch fork` does not stop there, `catch vfork`
# does.
#
# The commands read the library's variables by file ('config.c'::cfg
# ...) so that a program's own `cfg` or `stats` cannot shadow them; they
# need the library's debug information (built with -g, as make does).
# The counters and decisions are the engine's (libvforkshim-engine.so),
# which the front loads only where it can help: vforkshim-config says
# whether it did.

define vforkshim-config
  set $f = &'engine.c'::shim_front_live
  if $f->state == 2
    printf "engine             loaded: %s\n", $f->why
  else
    if $f->state == 1
      printf "engine             not loaded: nothing to gain in this process (VFORKSHIM on)\n"
    else
      if $f->state == 3
        printf "engine             could not be loaded (%s)\n", $f->why
      else
        printf "engine             not loaded: VFORKSHIM is not on\n"
      end
    end
    printf "(the front passes every call to libc; VFORKSHIM_STATS=1 or VFORKSHIM_LOG=debug load the engine)\n"
  end
  if $f->state == 2
    vforkshim-engine-config
  end
end
document vforkshim-config
The vforkshim configuration in force (read once at load), and whether
the front loaded the engine.
end

define vforkshim-engine-config
  set $c = &'config.c'::cfg
  printf "VFORKSHIM          %s\n", $c->enabled ? "on" : "off (inert)"
  printf "VFORKSHIM_FORK     %s\n", $c->fork == 0 ? "sites" : ($c->fork == 1 ? "all" : "off")
  printf "VFORKSHIM_SPAWN    %s\n", $c->spawn == 0 ? "auto" : ($c->spawn == 1 ? "always" : "off")
  printf "VFORKSHIM_SITES    %s\n", $c->sites ? $c->sites : "(builtin only)"
  printf "VFORKSHIM_MIN_RSS  %llu bytes\n", $c->min_rss
  printf "VFORKSHIM_LOG      %s\n", $c->log == 0 ? "off" : ($c->log == 1 ? "warn" : ($c->log == 2 ? "info" : "debug"))
  printf "VFORKSHIM_LOG_FILE %s\n", $c->log_file ? $c->log_file : "(stderr)"
  printf "VFORKSHIM_STATS    %s\n", $c->stats ? "on" : "off"
end
document vforkshim-engine-config
The engine's configuration (vforkshim-config calls it where the engine is loaded).
end

define vforkshim-stats
  set $s = &'log.c'::shim_live.stats
  printf "pid %d: fork_rerouted=%lu fork_real=%lu spawn_engine=%lu spawn_libc=%lu\n", $s->owner, $s->fork_rerouted, $s->fork_real, $s->spawn_engine, $s->spawn_libc
  set $i = 0
  while $i < sizeof($s->fallback) / sizeof($s->fallback[0])
    printf "  fallback_%s=%lu\n", shim_reason_name[$i], $s->fallback[$i]
    set $i = $i + 1
  end
end
document vforkshim-stats
The live vforkshim counters of this process (pid 0: nothing counted yet).
end

define vforkshim-last
  set $ring = &'decisions.c'::shim_decisions
  set $size = sizeof($ring->d) / sizeof($ring->d[0])
  set $n = $size
  if $argc == 1
    set $n = $arg0
  end
  if $n > $size
    set $n = $size
  end
  set $end = $ring->next
  set $i = $end > $n ? $end - $n : 0
  if $i == $end
    printf "no fork decided yet\n"
  end
  while $i < $end
    set $d = &$ring->d[$i % $size]
    printf "fork #%lu in pid %d: ", $d->seq, $d->pid
    if $d->reason == -1
      printf "rerouted at %s\n", $d->site
    else
      if $d->reason == -2
        printf "rerouted clone failed at %s, errno %d (as fork would)\n", $d->site, $d->err
      else
        printf "real fork, reason %s\n", shim_reason_name[$d->reason]
      end
    end
    set $i = $i + 1
  end
end
document vforkshim-last
vforkshim-last [N]: the last N fork decisions (at most 32), oldest first.
end

define vforkshim-break-fallback
  # in the engine, which the front loads at start: pending until then
  set breakpoint pending on
  break shim_count_fallback
  commands
    silent
    printf "vforkshim: %s falls back to libc, reason %s\n", is_fork ? "fork" : "spawn (system, popen or posix_spawn)", shim_reason_name[r]
    bt 6
  end
end
document vforkshim-break-fallback
Stop whenever the shim falls back to libc's fork or spawn, printing why.
end
