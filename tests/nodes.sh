#!/bin/bash
# make check-nodes: Node as nodejs.org builds it (libuv linked into the
# node binary, its fork handlers beside V8's and OpenSSL's code), not
# only Debian's (libuv.so.1, in make check and the userland chroots):
# tests/node.sh, then the SHARE_ENV worker beside 40 spawns, on each of
# $NODE_VERSIONS (default: 20.20.2 and 22.23.5, the 20 and 22 lines),
# fetched once by scripts/fetch-node into a cache outside the clone.
. "$(dirname "$0")/lib.sh"
T=$LOGS/nodes
mkdir -p "$T"
path0=$PATH
for v in ${NODE_VERSIONS:-20.20.2 22.23.5}; do
	if ! bin=$(scripts/fetch-node "$v"); then
		bad "nodejs.org's Node $v: could not be fetched (scripts/fetch-node $v)"
		continue
	fi
	PATH=$(dirname "$bin"):$path0
	NODE_LABEL="node $v (nodejs.org, libuv $(node -p process.versions.uv))"
	echo "== $NODE_LABEL"
	. "$(dirname "$0")/node.sh"
	run_both node tests/embed/node_share_env.js 40
	check "$NODE_LABEL: a worker on SHARE_ENV sets and reads variables while main spawns with an env: same results" same
	check "    every spawn rerouted, environ never written ($(counts) rerouted/real, 40/0 expected)" \
		test "$(counts)/$(grep -c 'assigned environ' "$LOGS/err")" = 40/0/0
done
PATH=$path0
summary nodes
