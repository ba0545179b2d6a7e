package grant

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// fixedKey returns a deterministic test key.
func fixedKey(b byte) *secp256k1.PrivateKey {
	return secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{b}, 32))
}

// fixedGrantFile is testdata/fixed-grant.json, written by go generate
// (internal/fixedgrant).
type fixedGrantFile struct {
	Encoded   hexutil.Bytes   `json:"encoded"`
	Hash      hexutil.Bytes   `json:"hash"`
	Signature hexutil.Bytes   `json:"signature"`
	TypedData json.RawMessage `json:"typedData"`
}

func readFixedGrantFile(t testing.TB) fixedGrantFile {
	t.Helper()
	b, err := os.ReadFile("testdata/fixed-grant.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixedGrantFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("testdata/fixed-grant.json: %v", err)
	}
	return f
}

// fixedGrant is a fully populated grant with fixed values, signed by
// fixedKey(1) for fixedKey(2): the one of testdata/fixed-grant.json.
func fixedGrant(t testing.TB) *Grant {
	t.Helper()
	c, err := DecodeChain(readFixedGrantFile(t).Encoded)
	if err != nil || len(c) != 1 {
		t.Fatalf("testdata/fixed-grant.json: %d grants, %v", len(c), err)
	}
	return c[0]
}

// TestFixedGrantFile: the generated file is what its grant says (typed
// data, hash, signature), the grant is signed by fixedKey(1) for
// fixedKey(2), and every field is set, so that the tests and the ethers
// cross-check cover all of them.
func TestFixedGrantFile(t *testing.T) {
	f := readFixedGrantFile(t)
	g := fixedGrant(t)
	h, err := g.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h[:], f.Hash) || !bytes.Equal(g.Signature, f.Signature) {
		t.Fatalf("file says hash %x signature %x; its grant has %x %x", f.Hash, f.Signature, h, g.Signature)
	}
	td, err := json.Marshal(g.TypedData())
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal(td, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(f.TypedData, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("file's typed data differs from its grant's:\n%s\n%s", f.TypedData, td)
	}
	signer, err := g.Signer()
	if issuer := crypto.PubkeyToAddress(*fixedKey(1).PubKey().ToECDSA()); err != nil || signer != issuer || g.Issuer != issuer {
		t.Fatalf("signer %s issuer %s (%v), want %s", signer, g.Issuer, err, issuer)
	}
	if !bytes.Equal(g.GranteeKey, fixedKey(2).PubKey().SerializeCompressed()) {
		t.Fatalf("grantee key %x", g.GranteeKey)
	}
	v := reflect.ValueOf(*g)
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if name == "Parent" || name == "Sensitive" { // a root grant; no sensitive category shared
			continue
		}
		if v.Field(i).IsZero() {
			t.Errorf("fixed grant's %s is not set", name)
		}
	}
}
