package live

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeEnvelope: any input decodes to one clear error or to an
// envelope that encodes back to the same bytes.
func FuzzDecodeEnvelope(f *testing.F) {
	e := Envelope{Grant: grantHash, Seq: 1, Root: root, Wrapped: []byte("wrapped"), Issued: issued.Unix()}
	f.Add(e.Encode())
	if err := e.Sign(key(1)); err == nil {
		f.Add(e.Encode())
	}
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEnvelope(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || bytes.ContainsRune([]byte(err.Error()), '\n') {
				t.Fatalf("error %q", err)
			}
			return
		}
		if !bytes.Equal(e.Encode(), b) {
			t.Fatalf("%x decodes to %+v which encodes to %x", b, e, e.Encode())
		}
		e.Verify(address(key(1)), grantHash) // must not panic
	})
}

// FuzzSplitLink: any input splits, or gives one clear error; a split link
// joins back to an equal one.
func FuzzSplitLink(f *testing.F) {
	_, name, _ := NameKey(bytes.Repeat([]byte{7}, 32))
	f.Add(Link("healthwallet:grant/AAECAwQ", name))
	f.Add("healthwallet:grant/AAECAwQ")
	f.Add("healthwallet:grant/AAECAwQ#live=12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
	f.Add("x#live=#live=")
	f.Fuzz(func(t *testing.T, s string) {
		g, n, ok, err := SplitLink(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || bytes.ContainsRune([]byte(err.Error()), '\n') {
				t.Fatalf("error %q", err)
			}
			return
		}
		if !ok {
			return
		}
		g2, n2, ok2, err := SplitLink(Link(g, n))
		if err != nil || !ok2 || g2 != g || !n2.Equal(n) {
			t.Fatalf("%q: rejoined %q %s %v %v", s, g2, n2, ok2, err)
		}
	})
}
