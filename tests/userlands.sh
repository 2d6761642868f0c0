#!/bin/bash
# make check-userlands: the project in every Debian userland the archive
# serves, bullseye to sid (glibc 2.31 to 2.42, gcc 10 to 15). In each
# chroot (scripts/userland: minbase debootstraps cached outside the
# clone), as root: scripts/install-deps installs what the project needs
# from that release, then make, make check, and tests/userland/runtimes.sh,
# which says per runtime found what the shim did and what a spawn costs at
# 1 GiB without and with it. Prints the table and writes it into
# docs/COMPATIBILITY.md. Fails if a build or a make check fails, or a
# runtime's forks stay real where a site should have taken them.
#   tests/userlands.sh [RELEASE...]     default: all four
set -u
cd "$(dirname "$0")/.."
releases=${*:-bullseye bookworm trixie sid}
OUT=build/userlands
mkdir -p "$OUT"
status=0
rows=()
for r in $releases; do
	echo "== $r"
	t0=$(date +%s)
	if ! scripts/userland build "$r"; then
		rows+=("| $r | (chroot) | | could not be built | |")
		status=1
		continue
	fi
	scripts/userland run "$r" bash -c '
		set -o pipefail
		cd /srv/vforkshim
		{ echo "glibc $(getconf GNU_LIBC_VERSION | cut -d" " -f2), $(gcc --version | head -n 1)"; } > /root/versions
		scripts/install-deps > /root/deps.log 2>&1 || { tail -n 20 /root/deps.log; echo "install-deps failed"; exit 3; }
		make -j"$(nproc)" > /root/build.log 2>&1 || { tail -n 30 /root/build.log; echo "build failed"; exit 4; }
		make check > /root/check.log 2>&1; rc=$?
		grep -E "^(FAIL|skip)|passed|failed" /root/check.log
		tests/userland/runtimes.sh '"$r"' 1 10 > /root/runtimes.md
		exit $rc' > "$OUT/$r.log" 2>&1
	rc=$?
	cp "/var/cache/vforkshim/userlands/$r/root/check.log" "$OUT/$r.check.log" 2>/dev/null
	versions=$(cat "/var/cache/vforkshim/userlands/$r/root/versions" 2>/dev/null)
	grep -E "^FAIL|make check" "$OUT/$r.log" | sed 's/^/  /'
	echo "  $r ($versions): make check exit $rc, $(( $(date +%s) - t0 )) s"
	[ $rc = 0 ] || status=1
	while IFS= read -r line; do
		rows+=("$line")
		case $line in *"NOT REROUTED"* | *"OUTPUT DIFFERS"*) status=1 ;; esac
	done < "/var/cache/vforkshim/userlands/$r/root/runtimes.md"
	rows+=("| $r | make check | $versions | $([ $rc = 0 ] && echo "all passed" || echo "**FAILED** (exit $rc)") | |")
done

table=$OUT/table.md
{
	echo "| userland | runtime | version | what the shim did | ms per spawn at 1 GiB, without / with |"
	echo "|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} > "$table"
cat "$table"
if [ $# = 0 ] && [ -e docs/COMPATIBILITY.md ]; then
	{
		echo "Last run: $(date -u +%F), $(uname -m), $(nproc) cores, kernel $(uname -r), \`make check-userlands\`."
		echo
		cat "$table"
	} > "$OUT/block.md"
	scripts/doc-block docs/COMPATIBILITY.md "<!-- userlands:begin -->" "<!-- userlands:end -->" "$OUT/block.md"
fi
[ $status = 0 ] && echo "check-userlands: all passed" || echo "check-userlands: FAILED"
exit $status
