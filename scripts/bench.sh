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
	CGO_ENABLED=0 go test -tags ci -run '^$' -bench 'Fetch$' -benchtime 2x -timeout 30m ./ipfs
	CGO_ENABLED=0 go test -tags ci -run '^$' -bench 'PeakRSS' -benchtime 1x -timeout 30m ./ipfs
	CGO_ENABLED=0 go test -tags ci -count=1 -v -run '^TestGas$' ./share/registry
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
/^BenchmarkPeakRSS/ { ri = metric($0, "import-MiB"); re = metric($0, "export-MiB"); rp = metric($0, "plain-import-MiB"); rr = metric($0, "ratio") }
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
	printf fmt, "peak RSS, import 1 GiB", ri " MiB", "plain boxo import " rp " MiB", sprintf("%.2f", rr), "<= 64 MiB"
	printf fmt, "peak RSS, export 1 GiB", re " MiB", "budget 64 MiB", sprintf("%.2f", re / 64), "<= 64 MiB"
	printf fmt, "revoke, 1 secret (mainnet rules)", g1 " gas", "goal 46,000 gas", sprintf("%.3f", g1 / 46000), "<= 1"
	printf fmt, "revokeBatch of 10, per secret", g10 " gas", "goal 27,000 gas", sprintf("%.3f", g10 / 27000), "<= 1"
}' "$out"
