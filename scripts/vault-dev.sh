#!/usr/bin/env bash
# Builds, locates and runs a stock HashiCorp Vault server for development and
# for the integration tests of package vault/.
#
#   scripts/vault-dev.sh build   build the server once and cache it (outside the repo)
#   scripts/vault-dev.sh path    print the cached binary's path
#   scripts/vault-dev.sh start   run 'vault server -dev' on 127.0.0.1 (foreground), set up
#                                for healthwallet, and print its address and root token
#
# The server is built from the Go module proxy: Vault's own module is
# downloaded, its replace directives for the in-tree api/sdk modules are
# dropped in favour of the published ones, and it is built with -mod=mod.
# Only this version is known to build that way here. A cold build takes about
# 10 minutes on 2 cores and ~4.5 GB of memory; the binary is ~360 MB.
#
# Environment:
#   HW_VAULT_VERSION   Vault version (default 1.21.1)
#   HW_VAULT_SDK       published sdk version to build against (default v0.20.0)
#   HW_VAULT_BIN       use this binary instead of the cache (path/start)
#   HW_VAULT_PORT      start: listen port (default 8200; PORT+1 is bound too)
#   HW_VAULT_TOKEN     start: root token (default: generated)
set -euo pipefail

VERSION=${HW_VAULT_VERSION:-1.21.1}
SDK=${HW_VAULT_SDK:-v0.20.0}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/healthwallet/vault/$VERSION
BIN=${HW_VAULT_BIN:-$CACHE/vault}

usage() {
	echo "usage: $0 build|path|start" >&2
	exit 2
}

build() {
	if [ -x "$CACHE/vault" ]; then
		echo "vault $VERSION already built: $CACHE/vault"
		return 0
	fi
	command -v go >/dev/null || { echo "go is required to build vault" >&2; exit 1; }
	mkdir -p "$CACHE"
	local start=$SECONDS
	echo "downloading github.com/hashicorp/vault@v$VERSION from the Go module proxy..."
	local dir
	dir=$(cd "$CACHE" && GOFLAGS= go mod download -json "github.com/hashicorp/vault@v$VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$dir" ] && [ -d "$dir" ] || { echo "could not download vault v$VERSION" >&2; exit 1; }

	local src=$CACHE/src
	rm -rf "$src"
	cp -r "$dir" "$src"
	chmod -R u+w "$src"
	(
		cd "$src"
		go mod edit \
			-dropreplace=github.com/hashicorp/vault/api \
			-dropreplace=github.com/hashicorp/vault/sdk \
			-dropreplace=github.com/hashicorp/vault/api/auth/approle \
			-dropreplace=github.com/hashicorp/vault/api/auth/kubernetes \
			-dropreplace=github.com/hashicorp/vault/api/auth/userpass \
			"-require=github.com/hashicorp/vault/sdk@$SDK"
		echo "building vault $VERSION (about 10 minutes cold)..."
		CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' -o "$CACHE/vault.tmp" .
	)
	mv "$CACHE/vault.tmp" "$CACHE/vault"
	rm -rf "$src"
	echo "built $CACHE/vault in $((SECONDS - start))s ($(du -h "$CACHE/vault" | cut -f1))"
}

start() {
	if [ ! -x "$BIN" ]; then
		echo "no vault binary at $BIN: run '$0 build' first" >&2
		exit 1
	fi
	local port=${HW_VAULT_PORT:-8200}
	local token=${HW_VAULT_TOKEN:-hw-dev-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}
	export VAULT_ADDR=http://127.0.0.1:$port VAULT_TOKEN=$token
	"$BIN" server -dev \
		-dev-root-token-id="$token" \
		-dev-listen-address="127.0.0.1:$port" \
		-dev-no-store-token &
	local pid=$!
	trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 0' INT TERM
	trap 'kill "$pid" 2>/dev/null' EXIT
	local i
	for i in $(seq 100); do
		"$BIN" status >/dev/null 2>&1 && break
		kill -0 "$pid" 2>/dev/null || { echo "vault server exited" >&2; exit 1; }
		sleep 0.1
	done
	# What the wallet expects: KV v2 at secret/ (the dev default), Transit
	# with the healthwallet key, AppRole and userpass.
	"$BIN" secrets enable transit >/dev/null
	"$BIN" write -f transit/keys/healthwallet >/dev/null
	"$BIN" auth enable approle >/dev/null
	"$BIN" auth enable userpass >/dev/null
	echo
	echo "healthwallet vault dev server (in memory, TLS off; Ctrl-C stops it):"
	echo "  VAULT_ADDR=$VAULT_ADDR"
	echo "  VAULT_TOKEN=$VAULT_TOKEN"
	echo "  KV v2 at secret/, transit/keys/healthwallet, auth approle/ and userpass/"
	wait "$pid"
}

case "${1:-}" in
build) build ;;
path) echo "$BIN" ;;
start) start ;;
*) usage ;;
esac
