# Node's own child_process tests (test/parallel/test-child-process-* and
# test/sequential/test-child-process-*, with test/common and
# test/fixtures) from Debian's nodejs source, bookworm's 18.x, run on the
# installed node; tests that fail at baseline for version reasons are in
# the allow-list. Each file is one test; flags from its "// Flags:" line,
# as Node's tools/test.py passes them.
# Claims: the libuv spawns reach the shim at uv_spawn and are rerouted,
# their children given options without env so that they never write
# environ (shim/engine/runtimes/rt_libuv.c); in any mode, fork=all included (the site
# decides first). None is left undecoded.
node_all=yes

node_prepare() {
	local dsc orig
	dsc=$(scripts/fetch-source --download nodejs) || return 1
	orig=$(ls "$(dirname "$dsc")"/nodejs_*.orig.tar.xz | head -n 1)
	node_dir=$PEERS/node/$(basename "$orig" .orig.tar.xz)
	[ -e "$node_dir/ready" ] && return 0
	rm -rf "$node_dir"
	mkdir -p "$node_dir"
	# only the test folders: the whole source is 10 times larger
	tar -xJf "$orig" -C "$node_dir" --strip-components=1 --wildcards '*/test/common/*' '*/test/fixtures/*' \
		'*/test/parallel/test-child-process-*' '*/test/sequential/test-child-process-*' || return 1
	touch "$node_dir/ready"
}

node_run() {
	local out=$1 f flags rc st
	cd "$node_dir" || return 1
	for f in test/parallel/test-child-process-* test/sequential/test-child-process-*; do
		flags=$(sed -n 's|^// Flags: ||p' "$f" | head -n 1)
		# shellcheck disable=SC2086
		timeout 120 node $flags "$f" > "$out/one" 2>&1
		rc=$?
		if grep -q '^1\.\.0 # Skipped' "$out/one"; then st=skip
		elif [ $rc = 0 ]; then st=pass
		else st=fail; { echo "== $f: $rc"; cat "$out/one"; } >> "$out/failures"; fi
		echo "$f $st" >> "$out/results"
	done
}

node_claim() {
	local n u
	n=$(stats_sum "$2" fork_rerouted)
	u=$(stats_sum "$2" fallback_undecoded)
	# 792 were rerouted before the concurrency work declined them all;
	# the ones left real have nine or more stdio entries, or fork in a
	# child of the suite's own
	if [ "$n" -gt 600 ] && [ "$u" = 0 ]; then
		echo "ok: node $1: $n libuv spawns rerouted at uv_spawn, none left undecoded"
	else
		echo "FAIL: node $1: $n forks rerouted (want > 600), $u undecoded (want 0)"
		return 1
	fi
}
