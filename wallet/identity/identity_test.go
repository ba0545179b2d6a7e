package identity

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestNewPhraseIs24ValidWords(t *testing.T) {
	a, err := NewPhrase()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPhrase()
	if len(a.Words()) != 24 {
		t.Fatalf("got %d words, want 24", len(a.Words()))
	}
	if a.String() == b.String() {
		t.Fatal("two new phrases are equal")
	}
	if _, err := ParsePhrase(a.String()); err != nil {
		t.Fatalf("new phrase does not parse: %v", err)
	}
}

func TestParsePhraseErrors(t *testing.T) {
	valid := "legal winner thank year wave sausage worth useful legal winner thank yellow"
	tests := []struct {
		name, in string
		want     error
		wantMsg  string
	}{
		{"unknown word named", strings.Replace(valid, "wave", "wavy", 1), ErrUnknownWord, `word 5 "wavy" is not in`},
		{"too few", "legal winner thank", ErrWordCount, "got 3 words"},
		{"13 words", valid + " zoo", ErrWordCount, "got 13 words"},
		{"swapped words", strings.Replace(valid, "legal winner", "winner legal", 1), ErrChecksum, "checksum"},
		{"empty", "", ErrWordCount, "got 0 words"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePhrase(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var pe *PhraseError
			if !errors.As(err, &pe) {
				t.Fatalf("err %T is not a *PhraseError", err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("message %q lacks %q", err, tc.wantMsg)
			}
		})
	}
	// Forgiving of case and whitespace.
	p, err := ParsePhrase("  LEGAL winner\nthank year wave sausage worth useful legal winner thank yellow\t")
	if err != nil || p.String() != valid {
		t.Fatalf("ParsePhrase normalised to %q, %v", p, err)
	}
}

func TestAllWordCountsRestore(t *testing.T) {
	for _, n := range []int{16, 20, 24, 28, 32} {
		p, err := PhraseFromEntropy(bytes.Repeat([]byte{0x5a}, n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParsePhrase(p.String()); err != nil {
			t.Errorf("%d words: %v", len(p.Words()), err)
		}
	}
}

func TestEIP55(t *testing.T) {
	// The four examples from EIP-55 itself.
	for _, s := range []string{
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
		"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
		"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
	} {
		a, err := ParseAddress(s)
		if err != nil {
			t.Fatalf("ParseAddress(%s): %v", s, err)
		}
		if a.String() != s {
			t.Errorf("String() = %s, want %s", a, s)
		}
	}
	if _, err := ParseAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"); !errors.Is(err, ErrBadAddress) {
		t.Errorf("bad checksum accepted: %v", err)
	}
	if _, err := ParseAddress("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"); err != nil {
		t.Errorf("lower-case address refused: %v", err)
	}
}

func TestPurposeSecrets(t *testing.T) {
	p, _ := ParsePhrase("legal winner thank year wave sausage worth useful legal winner thank yellow")
	k1, _ := FromPhrase(p)
	k2, _ := FromPhrase(p)
	if !bytes.Equal(k1.CatalogKey(), k2.CatalogKey()) {
		t.Fatal("catalog key is not deterministic")
	}
	if !bytes.Equal(k1.RevocationSecret(7), k2.RevocationSecret(7)) {
		t.Fatal("revocation secret is not deterministic")
	}
	seen := map[string]bool{string(k1.CatalogKey()): true}
	for i := uint64(0); i < 100; i++ {
		s := string(k1.RevocationSecret(i))
		if seen[s] {
			t.Fatalf("revocation secret %d repeats", i)
		}
		seen[s] = true
	}
	if len(k1.CatalogKey()) != 32 {
		t.Fatal("catalog key is not 32 bytes")
	}
	other, _ := ParsePhrase("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	k3, _ := FromPhrase(other)
	if bytes.Equal(k1.CatalogKey(), k3.CatalogKey()) {
		t.Fatal("different phrases give the same catalog key")
	}
	k1.Wipe()
	if k1.PrivateKey().Key.IsZero() == false {
		t.Fatal("Wipe left the private key")
	}
}

func TestParsePath(t *testing.T) {
	idx, err := ParsePath(IdentityPath)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint32{0x8000002c, 0x8000003c, 0x80000000, 0, 0}
	for i := range want {
		if idx[i] != want[i] {
			t.Fatalf("ParsePath = %x, want %x", idx, want)
		}
	}
	for _, bad := range []string{"", "44'/60'", "m//0", "m/x", "m/2147483648", "m/0/"} {
		if _, err := ParsePath(bad); !errors.Is(err, ErrBadPath) {
			t.Errorf("ParsePath(%q) = %v, want ErrBadPath", bad, err)
		}
	}
}

func TestParseDIDKeyRejects(t *testing.T) {
	for _, bad := range []string{
		"did:web:example.com",
		"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", // Ed25519
		"did:key:zQ3s0OIl",
		"did:key:z",
	} {
		if _, err := ParseDIDKey(bad); !errors.Is(err, ErrBadDID) {
			t.Errorf("ParseDIDKey(%q) = %v, want ErrBadDID", bad, err)
		}
	}
}
