#!/usr/bin/env bash
# Builds and locates a stock Kubo (go-ipfs) daemon for the ciphertext-replica
# tests of package ipfs/kubo and for the reach demo.
#
#   scripts/kubo-build.sh build   build the daemon once and cache it (outside the repo)
#   scripts/kubo-build.sh path    print the cached binary's path
#
# Kubo is built from the Go module proxy. Its go.mod replaces go-libp2p with a
# fork the proxy does not serve, so the module is copied out of the module
# cache, that replace line is deleted, webtransport-go and quic-go are raised
# to the versions the published go-libp2p needs, and it is built with
# -mod=mod. Only this version is known to build that way here. A cold build
# takes 8 to 11 minutes on 2 cores; the binary is ~60 MB.
#
# Environment:
#   HW_KUBO_VERSION   Kubo version (default 0.43.1)
#   HW_KUBO_BIN       use this binary instead of the cache (path)
set -euo pipefail

VERSION=${HW_KUBO_VERSION:-0.43.1}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/healthwallet/kubo/$VERSION
BIN=${HW_KUBO_BIN:-$CACHE/ipfs}

usage() {
	echo "usage: $0 build|path" >&2
	exit 2
}

build() {
	if [ -x "$CACHE/ipfs" ]; then
		echo "kubo $VERSION already built: $CACHE/ipfs"
		return 0
	fi
	command -v go >/dev/null || { echo "go is required to build kubo" >&2; exit 1; }
	mkdir -p "$CACHE"
	local start=$SECONDS
	echo "downloading github.com/ipfs/kubo@v$VERSION from the Go module proxy..."
	local dir
	dir=$(cd "$CACHE" && GOFLAGS= go mod download -json "github.com/ipfs/kubo@v$VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$dir" ] && [ -d "$dir" ] || { echo "could not download kubo v$VERSION" >&2; exit 1; }

	local src=$CACHE/src
	rm -rf "$src"
	cp -r "$dir" "$src"
	chmod -R u+w "$src"
	(
		cd "$src"
		# The fork of go-libp2p named here is not on the proxy: build
		# against the published go-libp2p that go.mod requires.
		sed -i '/^replace github\.com\/libp2p\/go-libp2p =>/d' go.mod
		if grep -q '^replace github.com/libp2p/go-libp2p =>' go.mod; then
			echo "could not drop the go-libp2p replace from kubo's go.mod" >&2
			exit 1
		fi
		go mod edit \
			-require=github.com/quic-go/webtransport-go@v0.11.1 \
			-require=github.com/quic-go/quic-go@v0.60.0
		echo "building kubo $VERSION (about 8 minutes cold)..."
		CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' -o "$CACHE/ipfs.tmp" ./cmd/ipfs
	)
	mv "$CACHE/ipfs.tmp" "$CACHE/ipfs"
	rm -rf "$src"
	echo "built $CACHE/ipfs in $((SECONDS - start))s ($(du -h "$CACHE/ipfs" | cut -f1))"
}

case "${1:-}" in
build) build ;;
path) echo "$BIN" ;;
*) usage ;;
esac
