#!/usr/bin/env bash
# Runs the benchmarks and prints one table: each figure beside the baseline
# measured in the same run, and their ratio. Raw `go test -bench` output is
# kept in bench.out for benchstat.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-bench.out}
export LANG=en_US.UTF-8 LC_ALL= LC_MESSAGES=
{
	CGO_ENABLED=0 go test -tags ci -run '^$' -bench 'Unlock' -benchtime 3x ./wallet/keystore
	CGO_ENABLED=0 go test -tags ci -run '^$' -bench 'Import$' -benchtime 4x -timeout 30m ./ipfs
	CGO_ENABLED=0 go test -tags ci -run '^$' -bench '^BenchmarkFetch$' -benchtime 2x -timeout 30m ./ipfs
	CGO_ENABLED=0 go test -tags ci -run '^$' -bench '^BenchmarkRelayFetch$' -benchtime 4x -timeout 30m ./ipfs
	CGO_ENABLED=0 go test -tags ci -run '^$' -bench 'PeakRSS' -benchtime 1x -timeout 30m ./ipfs
	CGO_ENABLED=0 go test -tags ci -count=1 -v -run '^TestGas$' ./share/registry
	CGO_ENABLED=0 go test -tags ci -run '^$' -bench '^BenchmarkVerifyChain$' -benchtime 20x ./share/grant
	CGO_ENABLED=0 go test -tags ci -run '^$' -bench '^BenchmarkRevocationCheck$' -benchtime 1x -timeout 30m ./share/revocation
	CGO_ENABLED=0 go test -tags ci -run '^$' -bench '^BenchmarkOpen$' -benchtime 9x -timeout 30m ./wallet
	CGO_ENABLED=0 go test -tags ci -run '^$' -bench '^BenchmarkRedeemKeeperVsDirect$' -benchtime 4x -timeout 30m ./wallet
	CGO_ENABLED=0 go test -tags ci -run '^$' -bench '^BenchmarkKeeperUnderLoad$' -benchtime 1x -timeout 30m ./wallet
	CGO_ENABLED=0 go test -tags ci -run '^$' -bench '^BenchmarkNodeUnderLoad$' -benchtime 1x -timeout 30m ./wallet
} | tee "$out" | grep -E '^(Benchmark|ok|FAIL|---)|gas \(goal' >&2

awk -v mib="${HW_BENCH_MIB:-256}" '
function metric(line, unit,   i, n, f) {
	n = split(line, f, /[ \t]+/)
	for (i = 2; i <= n; i++) if (f[i] == unit) return f[i-1]
	return ""
}
/^BenchmarkUnlock/  { unlock = metric($0, "ns/op") / 1e9 }
/^BenchmarkImport/  { ie = metric($0, "encrypted-MB/s"); ip = metric($0, "plain-MB/s"); ir = metric($0, "ratio") }
/^BenchmarkFetch/   { fe = metric($0, "fetch+decrypt-MB/s"); fg = metric($0, "FetchGraph-MB/s"); fr = metric($0, "ratio"); fh = metric($0, "helia-MB/s"); fhr = metric($0, "helia-ratio") }
/^BenchmarkRelayFetch/ { xd = metric($0, "direct-MB/s"); xr = metric($0, "relay-MB/s"); xx = metric($0, "ratio") }
/^BenchmarkRedeemKeeperVsDirect/ { kvd = metric($0, "direct-ms"); kvk = metric($0, "keeper-ms"); kvr = metric($0, "ratio") }
/^BenchmarkKeeperUnderLoad/ {
	kls = metric($0, "successes"); kll = metric($0, "lone-ms"); klp = metric($0, "p99-ms"); klr = metric($0, "ratio")
	klm = metric($0, "keeper-RSS-MiB"); klb = metric($0, "stranger-blocks"); klw = metric($0, "load-wall-ms"); klsr = metric($0, "serial-ratio")
}
/^BenchmarkNodeUnderLoad/ {
	nls = metric($0, "successes"); nlc = metric($0, "node-cpu-lone-ms"); nll = metric($0, "node-cpu-load-ms"); nlr = metric($0, "cpu-ratio")
	nlp = metric($0, "node-peak-MiB"); nli = metric($0, "node-idle-MiB"); nlu = metric($0, "node-life-peak-MiB"); nlb = metric($0, "stranger-blocks")
}
/^BenchmarkPeakRSS/ { ri = metric($0, "import-MiB"); re = metric($0, "export-MiB"); rp = metric($0, "plain-import-MiB"); rr = metric($0, "ratio") }
/^BenchmarkVerifyChain/ { vv = metric($0, "verify-us"); ve = metric($0, "ecrecover3-us"); vr = metric($0, "ratio") }
/^BenchmarkRevocationCheck/ {
	gp50 = metric($0, "registry-p50-us"); gp99 = metric($0, "registry-p99-us")
	mp50 = metric($0, "mirror-p50-us"); mp99 = metric($0, "mirror-p99-us"); mr = metric($0, "ratio")
	lp50 = metric($0, "lookup-p50-us"); lp99 = metric($0, "lookup-p99-us"); lr = metric($0, "lookup-ratio")
	rb = metric($0, "mirror-1000-ms"); rg = metric($0, "registry-1000-ms"); rbr = metric($0, "batch-ratio")
}
/^BenchmarkOpen/ { kd = metric($0, "kdf-ms"); oo = metric($0, "open-ms"); ol = metric($0, "list-ms"); oa = metric($0, "open+list-ms") }
/revoke, 1 fresh secret:/ { for (i = 1; i <= NF; i++) if ($i == "gas") { g1 = $(i-1); break } }
/revokeBatch, 10 fresh secrets:/ { for (i = 1; i <= NF; i++) if ($i == "per") { g10 = $(i-1); break } }
END {
	fmt = "| %-40s | %-18s | %-30s | %-7s | %-9s |\n"
	printf fmt, "figure", "ours", "baseline (same run)", "ratio", "goal"
	printf fmt, "----", "----", "----", "----", "----"
	printf fmt, "keystore unlock, scrypt log2 N = 17", sprintf("%.2f s", unlock), "design band 0.25–1 s", "-", "in band"
	printf fmt, "encrypted import, " mib " MiB", ie " MB/s", "plain boxo import " ip " MB/s", sprintf("%.2f", ir), ">= 0.9"
	printf fmt, "fetch + decrypt, " mib " MiB, loopback", fe " MB/s", "boxo FetchGraph " fg " MB/s", sprintf("%.2f", fr), ">= 0.8"
	if (fh != "") printf fmt, "fetch + decrypt vs Helia 7 fetch", fe " MB/s", "Helia cat " fh " MB/s", sprintf("%.2f", fhr), "-"
	printf fmt, "fetch through a keeper relay, 16 MiB", xr " MB/s", "direct from the patient " xd " MB/s", sprintf("%.2f", xx), ">= 0.5"
	printf fmt, "redeem through a keeper, 8 MiB", sprintf("%.0f ms", kvk), sprintf("direct from the patient %.0f ms", kvd), sprintf("%.2f", kvr), "<= 1.3"
	printf fmt, "keeper, 50 grantees at once, 16 MiB", sprintf("%d of 50 ok, p99 %.0f ms", kls, klp), sprintf("one grantee alone %.0f ms", kll), sprintf("%.2f", klr), "all ok, <= 5"
	printf fmt, "keeper load, wall vs 50 one by one", sprintf("%.0f ms", klw), sprintf("50 x alone %.0f ms", 50 * kll), sprintf("%.2f", klsr), "-"
	printf fmt, "keeper peak RSS under that load", klm " MiB", "budget 256 MiB", sprintf("%.2f", klm / 256), "<= 256 MiB"
	printf fmt, "blocks to 10 peers without a grant", klb, "goal 0", "-", "0"
	printf fmt, "node, 50 grantees at once, 8 MiB", sprintf("%d of 50 ok", nls), "goal all 50", "-", "all ok"
	printf fmt, "node CPU per redeem under that load", sprintf("%.0f ms", nll), sprintf("one grantee alone %.0f ms", nlc), sprintf("%.2f", nlr), "-"
	printf fmt, "node peak RSS under that load", nlp " MiB", sprintf("idle %s MiB (unlock peak %s)", nli, nlu), sprintf("%.2f", nlp / 128), "<= 128 MiB"
	printf fmt, "node: blocks to 10 peers without a grant", nlb, "goal 0", "-", "0"
	printf fmt, "peak RSS, import 1 GiB", ri " MiB", "plain boxo import " rp " MiB", sprintf("%.2f", rr), "<= 64 MiB"
	printf fmt, "peak RSS, export 1 GiB", re " MiB", "budget 64 MiB", sprintf("%.2f", re / 64), "<= 64 MiB"
	printf fmt, "revoke, 1 secret (mainnet rules)", g1 " gas", "goal 46,000 gas", sprintf("%.3f", g1 / 46000), "<= 1"
	printf fmt, "revokeBatch of 10, per secret", g10 " gas", "goal 27,000 gas", sprintf("%.3f", g10 / 27000), "<= 1"
	printf fmt, "grant.Verify, 3-link chain", sprintf("%.0f µs", vv), sprintf("go-ethereum Ecrecover x3 %.0f µs", ve), sprintf("%.2f", vr), ">= 0.8"
	printf fmt, "revocation check of 1,000, one mirror call", sprintf("%.1f ms", rb), sprintf("1,000 revokedAt RPCs %.0f ms", rg), sprintf("%.0f", rbr), ">= 100"
	printf fmt, "revocation check, mirror (sync + lookup)", sprintf("p99 %.0f µs, p50 %.0f", mp99, mp50), sprintf("revokedAt RPC p99 %.0f µs, p50 %.0f", gp99, gp50), sprintf("%.2f", mr), ">= 100, p99 <= 1 ms"
	printf fmt, "revocation check, mirror lookup alone", sprintf("p99 %.0f µs, p50 %.0f", lp99, lp50), sprintf("revokedAt RPC p99 %.0f µs, p50 %.0f", gp99, gp50), sprintf("%.2f", lr), ">= 100, p99 <= 1 ms"
	printf fmt, "wallet open, 10,000 records, no KDF", sprintf("%.1f ms", oo), sprintf("budget 300 ms (KDF %.1f ms)", kd), sprintf("%.2f", oo / 300), "<= 300 ms"
	printf fmt, "wallet open + list of 10,000 records", sprintf("%.0f ms", oa), "budget 300 ms", sprintf("%.2f", oa / 300), "<= 300 ms"
}' "$out"
