package identity

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// vectorsDir holds the community vectors copied from ../shared/testdata (see
// testdata/vectors/README.md at the repository root for their origins).
var vectorsDir = filepath.Join("..", "..", "testdata", "vectors")

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestBIP39Vectors checks entropy → words, words → seed (passphrase "TREZOR")
// and seed → BIP-32 master key for all 24 trezor/python-mnemonic vectors.
func TestBIP39Vectors(t *testing.T) {
	var v struct{ English [][4]string }
	readJSON(t, filepath.Join(vectorsDir, "bip39", "vectors-english.json"), &v)
	if len(v.English) != 24 {
		t.Fatalf("got %d vectors, want 24", len(v.English))
	}
	for _, vec := range v.English {
		entropy, _ := hex.DecodeString(vec[0])
		p, err := PhraseFromEntropy(entropy)
		if err != nil {
			t.Fatal(err)
		}
		if p.String() != vec[1] {
			t.Errorf("entropy %s: phrase %q, want %q", vec[0], p, vec[1])
		}
		parsed, err := ParsePhrase(vec[1])
		if err != nil {
			t.Errorf("ParsePhrase(%q): %v", vec[1], err)
			continue
		}
		back, _ := parsed.Entropy()
		if hex.EncodeToString(back) != vec[0] {
			t.Errorf("entropy round trip %x, want %s", back, vec[0])
		}
		seed := parsed.Seed("TREZOR")
		if hex.EncodeToString(seed) != vec[2] {
			t.Errorf("%q: seed %x, want %s", vec[1], seed, vec[2])
		}
		master, err := DeriveExtended(seed, "m")
		if err != nil {
			t.Fatal(err)
		}
		if master.String() != vec[3] {
			t.Errorf("%q: xprv %s, want %s", vec[1], master, vec[3])
		}
	}
}

// TestBIP32Vectors re-derives every chain of BIP-32 test vectors 1–3.
func TestBIP32Vectors(t *testing.T) {
	var v struct {
		Vectors []struct {
			Name    string
			SeedHex string
			Chains  []struct{ Path, ExtPub, ExtPrv string }
		}
	}
	readJSON(t, filepath.Join(vectorsDir, "bip32", "bip32-test-vectors.json"), &v)
	n := 0
	for _, vec := range v.Vectors {
		seed, _ := hex.DecodeString(vec.SeedHex)
		for _, c := range vec.Chains {
			k, err := DeriveExtended(seed, c.Path)
			if err != nil {
				t.Fatalf("%s %s: %v", vec.Name, c.Path, err)
			}
			if k.String() != c.ExtPrv {
				t.Errorf("%s %s: xprv %s, want %s", vec.Name, c.Path, k, c.ExtPrv)
			}
			pub, _ := k.Neuter()
			if pub.String() != c.ExtPub {
				t.Errorf("%s %s: xpub %s, want %s", vec.Name, c.Path, pub, c.ExtPub)
			}
			n++
		}
	}
	if n != 14 {
		t.Fatalf("checked %d chains, want 14", n)
	}
}

// TestDIDKeyVectors checks the w3c-ccg did:key secp256k1 vectors both ways.
func TestDIDKeyVectors(t *testing.T) {
	var v map[string]struct {
		Seed string
	}
	readJSON(t, filepath.Join(vectorsDir, "did-key", "secp256k1.json"), &v)
	if len(v) < 5 {
		t.Fatalf("only %d did:key vectors", len(v))
	}
	for did, vec := range v {
		keyBytes, _ := hex.DecodeString(vec.Seed)
		pk := secp256k1.PrivKeyFromBytes(keyBytes)
		if got := DIDKey(pk.PubKey()); got != did {
			t.Errorf("DIDKey = %s, want %s", got, did)
		}
		pub, err := ParseDIDKey(did + "#" + strings.TrimPrefix(did, "did:key:"))
		if err != nil {
			t.Fatalf("ParseDIDKey(%s): %v", did, err)
		}
		if !pub.IsEqual(pk.PubKey()) {
			t.Errorf("ParseDIDKey(%s) returned another key", did)
		}
		if !strings.HasPrefix(did, "did:key:zQ3s") {
			t.Errorf("%s lacks the zQ3s prefix", did)
		}
	}
}

// TestAddressMatchesOtherWallets compares our m/44'/60'/0'/0/0 address with
// what ethers v6 derives for the same phrases.
func TestAddressMatchesOtherWallets(t *testing.T) {
	var v struct {
		Vectors []struct{ Phrase, Address, PublicKey string }
	}
	readJSON(t, filepath.Join("testdata", "ethers-addresses.json"), &v)
	for _, vec := range v.Vectors {
		p, err := ParsePhrase(vec.Phrase)
		if err != nil {
			t.Fatal(err)
		}
		k, err := FromPhrase(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.Address().String(); got != vec.Address {
			t.Errorf("%q: address %s, want %s", vec.Phrase, got, vec.Address)
		}
		if got := hex.EncodeToString(k.PublicKey().SerializeCompressed()); got != vec.PublicKey {
			t.Errorf("%q: public key %s, want %s", vec.Phrase, got, vec.PublicKey)
		}
		a, err := ParseAddress(vec.Address)
		if err != nil || a != k.Address() {
			t.Errorf("ParseAddress(%s) = %v, %v", vec.Address, a, err)
		}
	}
}
