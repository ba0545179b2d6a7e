package identity

import (
	"errors"
	"testing"
)

// FuzzParsePhrase: any input either parses to a phrase that round-trips or
// fails with a *PhraseError; never a panic.
func FuzzParsePhrase(f *testing.F) {
	f.Add("legal winner thank year wave sausage worth useful legal winner thank yellow")
	f.Add("zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong")
	f.Add("abandon")
	f.Add("\x00 é  ZOO")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePhrase(s)
		if err != nil {
			var pe *PhraseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *PhraseError", err, err)
			}
			return
		}
		again, err := ParsePhrase(p.String())
		if err != nil || again.String() != p.String() {
			t.Fatalf("round trip of %q failed: %v", p, err)
		}
	})
}

func FuzzParseDIDKey(f *testing.F) {
	f.Add("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")
	f.Add("did:key:z")
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := ParseDIDKey(s)
		if err != nil {
			if !errors.Is(err, ErrBadDID) {
				t.Fatalf("error %v does not wrap ErrBadDID", err)
			}
			return
		}
		if _, err := ParseDIDKey(DIDKey(pub)); err != nil {
			t.Fatalf("re-encoded DID does not parse: %v", err)
		}
	})
}

func FuzzParseAddress(f *testing.F) {
	f.Add("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
	f.Add("0x")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			if !errors.Is(err, ErrBadAddress) {
				t.Fatalf("error %v does not wrap ErrBadAddress", err)
			}
			return
		}
		if b, err := ParseAddress(a.String()); err != nil || b != a {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}
