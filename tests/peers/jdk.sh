# OpenJDK 17's jtreg tests of processes (java/lang/ProcessBuilder with
# Basic.java in every launch mechanism, java/lang/Process,
# java/lang/ProcessHandle, java/lang/RuntimeTests/exec) from Debian's
# openjdk-17 source (only those folders, test/lib and jtreg-ext are
# unpacked), run by Debian's jtreg7 on the installed JDK. The shim goes
# to the test JVMs only (-e:LD_PRELOAD=...), not to jtreg's own.
# Claims: FORK-mode spawns reach the shim at forkAndExec and are declined
# there (fallback_threads: the child may assign environ, a JVM always has
# other threads; docs/sites.md); POSIX_SPAWN mode (jspawnhelper) goes to
# libc in sites mode and to the engine in always.
jdk_all=yes
jdk_home=/usr/lib/jvm/java-17-openjdk-amd64

jdk_prepare() {
	if ! command -v jtreg >/dev/null; then
		[ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jtreg7 >/dev/null
		command -v jtreg >/dev/null || { echo "jdk: jtreg is not installed (Debian: jtreg7)"; return 1; }
	fi
	[ -x "$jdk_home/bin/java" ] || { echo "jdk: no JDK 17 at $jdk_home"; return 1; }
	local dsc orig
	dsc=$(scripts/fetch-source --download openjdk-17) || return 1
	orig=$(ls "$(dirname "$dsc")"/openjdk-17_*.orig.tar.xz | head -n 1)
	jdk_dir=$PEERS/jdk/$(basename "$orig" .orig.tar.xz)
	[ -e "$jdk_dir/ready" ] && return 0
	rm -rf "$jdk_dir"
	mkdir -p "$jdk_dir/native"
	tar -xJf "$orig" -C "$jdk_dir" --strip-components=1 --wildcards '*/test/jdk/java/lang/ProcessBuilder/*' \
		'*/test/jdk/java/lang/Process/*' '*/test/jdk/java/lang/ProcessHandle/*' \
		'*/test/jdk/java/lang/RuntimeTests/exec/*' '*/test/lib/*' '*/test/jtreg-ext/*' \
		'*/test/jdk/TEST.ROOT' || return 1
	# the real one names groups of the whole test tree, which is not here
	echo "# emptied by vforkshim: only the process tests are unpacked" > "$jdk_dir/test/jdk/TEST.groups"
	local c
	for c in $(find "$jdk_dir/test/jdk/java/lang" -name 'exe*.c'); do
		gcc -O2 -o "$jdk_dir/native/$(basename "$c" .c | sed 's/^exe//')" "$c" || return 1
	done
	touch "$jdk_dir/ready"
}

jdk_run() {
	local out=$1 e envs=()
	for e in $PEER_ENV; do envs+=("-e:$e"); done
	[ "$PEER_MODE" = base ] || envs+=(-e:VFORKSHIM_STATS=1 "-e:VFORKSHIM_LOG_FILE=$out/stats.log")
	# jtreg itself runs without the shim
	(
		unset LD_PRELOAD VFORKSHIM VFORKSHIM_SPAWN VFORKSHIM_FORK VFORKSHIM_STATS VFORKSHIM_LOG_FILE
		cd "$jdk_dir/test/jdk" && timeout 1800 jtreg -jdk:"$jdk_home" -nativepath:"$jdk_dir/native" \
			-w:"$out/work" -r:"$out/report" -conc:2 -a -timeoutFactor:4 "${envs[@]}" \
			java/lang/ProcessBuilder java/lang/Process java/lang/ProcessHandle java/lang/RuntimeTests/exec
	) > "$out/jtreg.log" 2>&1
	awk '$2 == "Passed." { print $1, "pass" } $2 == "Failed." || $2 == "Error." { print $1, "fail" }' \
		"$out/report/text/summary.txt" >> "$out/results" 2>/dev/null
	grep -o 'did not meet platform requirements: [0-9]*' "$out/jtreg.log" |
		awk '{ for (i = 0; i < $NF; i++) print "not-run-" i, "skip" }' >> "$out/results"
}

jdk_claim() {
	local r e l t
	r=$(stats_sum "$2" fork_rerouted)
	e=$(stats_sum "$2" spawn_engine)
	l=$(stats_sum "$2" spawn_libc)
	t=$(stats_sum "$2" fallback_threads)
	if [ "$r" != 0 ] || [ "$t" = 0 ]; then
		echo "FAIL: jdk $1: $r FORK-mode spawns rerouted (want 0), $t declined for threads (want > 0)"
		return 1
	fi
	if [ "$1" = sites ] && [ "$e" != 0 ]; then
		echo "FAIL: jdk sites: $e posix_spawn calls on the engine (want 0: auto passes them to glibc 2.36)"
		return 1
	fi
	if [ "$1" = always ] && [ "$e" = 0 ]; then
		echo "FAIL: jdk always: no posix_spawn on the engine"
		return 1
	fi
	echo "ok: jdk $1: $t FORK-mode spawns declined at forkAndExec (fallback_threads), none rerouted; posix_spawn: $e on the engine, $l to libc"
}
