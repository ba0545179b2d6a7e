package grant

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
)

// fixedKey returns a deterministic test key.
func fixedKey(b byte) *secp256k1.PrivateKey {
	return secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{b}, 32))
}

// fixedGrant is a fully populated grant with fixed values, signed by
// fixedKey(1) for fixedKey(2).
func fixedGrant(t testing.TB) *Grant {
	g := &Grant{
		Domain:        Domain{ChainID: 1337, Registry: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")},
		GranteeKey:    fixedKey(2).PubKey().SerializeCompressed(),
		Packages:      [][]byte{{0x01, 0x70, 0x12, 0x20, 0xaa, 0xbb}, {0x01, 0x55, 0x12, 0x20, 0xcc}},
		Providers:     [][]byte{{0x04, 127, 0, 0, 1, 0x06, 0x10, 0x05}},
		ResourceTypes: []string{"Observation", "MedicationRequest"},
		Categories:    []string{"labs", "medications"},
		Sensitive:     []string{},
		Operations:    Read | Export | Delegate,
		Depth:         1,
		NotBefore:     1795000000,
		ExpiresAt:     1795003600,
		RevocationID:  [32]byte{0xde, 0xad, 0xbe, 0xef},
		Nonce:         42,
		WrappedKey:    []byte{0x02, 0x03, 0x04},
	}
	if err := g.Sign(fixedKey(1)); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestDumpFixedGrant writes the fixed grant's typed data for the ethers
// cross-check (run with HW_DUMP_GRANT=path).
func TestDumpFixedGrant(t *testing.T) {
	path := os.Getenv("HW_DUMP_GRANT")
	if path == "" {
		t.Skip("set HW_DUMP_GRANT to regenerate testdata/ethers-grant.json's input")
	}
	g := fixedGrant(t)
	h, _ := g.Hash()
	out, _ := json.MarshalIndent(map[string]any{"typedData": g.TypedData(), "signature": "0x" + common.Bytes2Hex(g.Signature), "goHash": common.Bytes2Hex(h[:])}, "", " ")
	os.WriteFile(path, out, 0o644)
}
