# healthwallet: the README's verbs are the targets.
#
#   make run      open the desktop app (cgo build)
#   make test     every test: headless Fyne tests without cgo, then one real cgo build
#   make bench    benchmarks, reported as ratios against baselines from the same run
#   make lint     gofmt, go vet, staticcheck
#   make package  Linux desktop package with fyne's packager

GO       ?= go
BIN      := bin/healthwallet
# fyne's locale lookup rejects "C"; give the headless tests a real locale.
TESTENV  := LANG=en_US.UTF-8 LC_ALL= LC_MESSAGES=

# Opens the desktop app, with a local devnet and revocation relay started
# beside it on free ports (scripts/run.sh), unless the devnet file's chain is
# running or HW_CHAIN_RPC/HW_REGISTRY and HW_RELAY name others; what it
# started stops when the app closes.
.PHONY: run
run: $(BIN)
	./scripts/run.sh ./$(BIN) $(ARGS)

.PHONY: build
build: $(BIN)

.PHONY: $(BIN)
$(BIN):
	CGO_ENABLED=1 $(GO) build -o $(BIN) .

# CI=1: a test whose tool (Helia, solc, anvil, Vault, zbarimg, age) is
# missing fails instead of skipping.
.PHONY: test
test: export CI = 1
test:
	$(TESTENV) CGO_ENABLED=0 $(GO) test -tags ci -count=1 -timeout 30m ./...
	$(TESTENV) CGO_ENABLED=0 $(GO) test -tags "ci mobile" -count=1 -timeout 30m ./app/
	$(MAKE) test-clock-shift
	$(MAKE) build
	./scripts/cli-smoke.sh ./$(BIN)
	./scripts/demo.sh ./$(BIN)
	./scripts/readme-walkthrough.sh
	./scripts/reach-demo.sh ./$(BIN)

# The README's walkthrough, pasted as one block into a fresh shell, must
# end with the revoked refusal (scripts/readme-walkthrough.sh).
.PHONY: walkthrough
walkthrough: $(BIN)
	./scripts/readme-walkthrough.sh

# The end-to-end scenario (patient, specialist, family over loopback libp2p
# and a local chain) with a transcript; fails if any step misbehaves.
.PHONY: demo
demo: $(BIN)
	./scripts/demo.sh ./$(BIN)

# Issue 13's reach scenario on a real network (scripts/netlab.sh: network
# namespaces, nftables firewalls; needs root): the chain (anvil), relay,
# keeper and a Kubo replica on a public host, patient and specialist behind
# firewalls. A binary without the keeper commands fails it, unless the
# caller sets HW_REACH_ALLOW_MISSING=1 (this Makefile never does).
.PHONY: reach-demo
reach-demo: $(BIN)
	./scripts/reach-demo.sh ./$(BIN)

# The app and wallet tests once more with their clock a year ahead
# (internal/testclock): proof that none of them depends on today's date.
.PHONY: test-clock-shift
test-clock-shift:
	HW_TEST_CLOCK_SHIFT=8760h $(TESTENV) CGO_ENABLED=0 $(GO) test -tags ci -count=1 -timeout 30m ./app/... ./wallet/...

.PHONY: test-race
test-race:
	$(TESTENV) CGO_ENABLED=1 $(GO) test -race -tags ci -count=1 ./...

.PHONY: bench
bench:
	./scripts/bench.sh

.PHONY: fuzz
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# Recompile the registry with the pinned solc (npm) and regenerate its
# abigen v2 bindings; TestArtifactsUpToDate fails when they are stale.
.PHONY: contracts
contracts:
	./scripts/contracts.sh

# A real Vault server (built once from the Go module proxy and cached
# outside the repo; about 11 minutes cold) for vault/'s integration tests,
# and a dev server on 127.0.0.1:8200 to try Vault custody by hand.
.PHONY: vault-build
vault-build:
	./scripts/vault-dev.sh build

.PHONY: vault-dev
vault-dev: vault-build
	./scripts/vault-dev.sh start

# Screenshots of the main screens, desktop and phone layout, from the real
# cgo binary under Xvfb (needs xvfb, imagemagick, xdotool), into docs/.
.PHONY: screenshots
screenshots:
	./scripts/screenshots.sh docs

.PHONY: lint
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	CGO_ENABLED=0 $(GO) vet -tags ci ./...
	CGO_ENABLED=0 $(GO) tool staticcheck -tags ci ./...

# fyne's packager rewrites FyneApp.toml (and bumps Build); the copy keeps
# the committed file as it is. Its desktop entry has no MimeType line: the
# package carries assets/healthwallet.desktop instead, which makes the app
# the handler of healthwallet: and shlink: links (README, "Opening links").
.PHONY: package
package:
	cp FyneApp.toml .FyneApp.toml.keep
	CGO_ENABLED=1 $(GO) tool fyne package -os linux -release; status=$$?; mv -f .FyneApp.toml.keep FyneApp.toml; exit $$status
	rm -rf dist/pkg && mkdir -p dist/pkg && tar -xJf "Health Wallet.tar.xz" -C dist/pkg
	find dist/pkg -name '*.desktop' -exec cp assets/healthwallet.desktop {} \;
	tar -cJf "dist/Health Wallet.tar.xz" -C dist/pkg . && rm -rf dist/pkg "Health Wallet.tar.xz"
