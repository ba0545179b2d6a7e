#!/usr/bin/env bash
# Regenerates the revocation registry's committed artifacts from
# share/registry/RevocationRegistry.sol:
#
#   share/registry/RevocationRegistry.abi   ABI (JSON)
#   share/registry/RevocationRegistry.bin   creation bytecode (hex)
#   share/registry/bindings.go              Go bindings, abigen v2, package registry
#
# The compiler is solcjs 0.8.37 from npm, pinned by share/registry/solc's
# package-lock.json and installed here with `npm ci` when missing. It runs
# through its standard-JSON interface with fixed settings (optimizer on,
# 1,000,000 runs, evmVersion cancun), all kept in
# share/registry/internal/contractgen so that the staleness test
# (go test ./share/registry -run Artifacts) compiles exactly the same way.
# The output is deterministic: running this twice changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

solc_dir=share/registry/solc
want=$(node -p 'require("./'"$solc_dir"'/package.json").dependencies.solc')
have=$(node -p 'try { require("./'"$solc_dir"'/node_modules/solc/package.json").version } catch (e) { "" }')
if [ "$have" != "$want" ]; then
	npm ci --prefix "$solc_dir" --no-audit --no-fund
fi

go run ./share/registry/internal/gen -dir share/registry
