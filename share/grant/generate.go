package grant

// testdata/fixed-grant.json, the tests' fixed grant and the input of the
// ethers cross-check (testdata/ethers-grant.json), is written by a tool:
//
//go:generate go run ./internal/fixedgrant -out testdata/fixed-grant.json
