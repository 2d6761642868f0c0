# Node's own child_process tests (test/parallel/test-child-process-* and
# test/sequential/test-child-process-*, with test/common and
# test/fixtures) from Debian's nodejs source, bookworm's 18.x, run on the
# installed node; tests that fail at baseline for version reasons are in
# the allow-list. Each file is one test; flags from its "// Flags:" line,
# as Node's tools/test.py passes them.
# Claims: every libuv spawn reaches the shim at uv_spawn and is declined
# there (fallback_threads): its child assigns environ and a Node process
# always has other threads (docs/sites.md); none is rerouted, in any
# mode, fork=all included (the site decides first).
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
	local n t
	n=$(stats_sum "$2" fork_rerouted)
	t=$(stats_sum "$2" fallback_threads)
	if [ "$n" = 0 ] && [ "$t" -gt 100 ]; then
		echo "ok: node $1: $t libuv spawns declined at uv_spawn (fallback_threads), none rerouted"
	else
		echo "FAIL: node $1: $n forks rerouted (want 0), $t declined for threads (want > 100)"
		return 1
	fi
}
