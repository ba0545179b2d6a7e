package vault

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestHandoverLinkRoundTrip(t *testing.T) {
	for _, c := range []struct{ addr, token, kind string }{
		{"https://vault.clinic.example:8200", "hvs.CAESIJ-abc_123", KindKeystore},
		{"http://127.0.0.1:8200", "s.abcdef", KindDelegation},
		{"https://[::1]:8200/", "hvs.x", "a"},
	} {
		link := HandoverLink(c.addr, c.token, c.kind)
		if !strings.HasPrefix(link, HandoverPrefix) || strings.ContainsAny(link, "=+ \n") {
			t.Errorf("link %q", link)
		}
		a, tok, k, err := ParseHandoverLink("  " + link + "\n")
		if err != nil || a != c.addr || tok != c.token || k != c.kind {
			t.Errorf("ParseHandoverLink(%q) = %q %q %q %v", link, a, tok, k, err)
		}
	}
}

func TestParseHandoverLinkRejects(t *testing.T) {
	enc := func(s string) string { return HandoverPrefix + base64.RawURLEncoding.EncodeToString([]byte(s)) }
	good := `{"addr":"https://v.example","token":"hvs.x","kind":"keystore"}`
	if _, _, _, err := ParseHandoverLink(enc(good)); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"empty":        "",
		"prefix":       "healthwallet:grant/" + enc(good)[len(HandoverPrefix):],
		"padding":      enc(good) + "==",
		"std base64":   HandoverPrefix + base64.StdEncoding.EncodeToString([]byte(good+"??")),
		"not json":     enc("hello"),
		"trailing":     enc(good + "x"),
		"array":        enc(`["https://v.example","hvs.x","keystore"]`),
		"no addr":      enc(`{"token":"hvs.x","kind":"keystore"}`),
		"ftp":          enc(`{"addr":"ftp://v.example","token":"hvs.x","kind":"keystore"}`),
		"userinfo":     enc(`{"addr":"https://u:p@v.example","token":"hvs.x","kind":"keystore"}`),
		"query":        enc(`{"addr":"https://v.example/?x=1","token":"hvs.x","kind":"keystore"}`),
		"path":         enc(`{"addr":"https://v.example/evil","token":"hvs.x","kind":"keystore"}`),
		"port":         enc(`{"addr":"https://v.example:99999","token":"hvs.x","kind":"keystore"}`),
		"no host":      enc(`{"addr":"https://:8200","token":"hvs.x","kind":"keystore"}`),
		"token space":  enc(`{"addr":"https://v.example","token":"hvs x","kind":"keystore"}`),
		"token ctl":    enc(`{"addr":"https://v.example","token":"hvs\u0000x","kind":"keystore"}`),
		"no token":     enc(`{"addr":"https://v.example","token":"","kind":"keystore"}`),
		"kind":         enc(`{"addr":"https://v.example","token":"hvs.x","kind":"Key Store"}`),
		"no kind":      enc(`{"addr":"https://v.example","token":"hvs.x"}`),
		"long":         enc(`{"addr":"https://v.example","token":"` + strings.Repeat("a", 2000) + `","kind":"keystore"}`),
		"unicode addr": enc(`{"addr":"https://vä.example","token":"hvs.x","kind":"keystore"}`),
	} {
		_, _, _, err := ParseHandoverLink(s)
		if !errors.Is(err, ErrInvalidLink) {
			t.Errorf("%s: ParseHandoverLink(%q) err = %v, want ErrInvalidLink", name, s, err)
		}
	}
}

// FuzzParseHandoverLink: the decoder never panics, accepts only what it
// validates, and what it accepts survives a round trip through HandoverLink.
// The seed corpus is committed under testdata/fuzz/FuzzParseHandoverLink.
func FuzzParseHandoverLink(f *testing.F) {
	f.Add(HandoverLink("https://vault.clinic.example:8200", "hvs.CAESIJ", KindKeystore))
	f.Add(HandoverLink("http://127.0.0.1:8200", "s.abc", KindDelegation))
	f.Add("healthwallet:handover/")
	f.Fuzz(func(t *testing.T, s string) {
		addr, token, kind, err := ParseHandoverLink(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidLink) {
				t.Fatalf("error %v does not unwrap to ErrInvalidLink", err)
			}
			if addr != "" || token != "" || kind != "" {
				t.Fatal("values returned with an error")
			}
			return
		}
		if checkAddr(addr) != nil || !validToken(token) || !kindRE.MatchString(kind) {
			t.Fatalf("accepted invalid fields %q %q %q", addr, token, kind)
		}
		a2, t2, k2, err := ParseHandoverLink(HandoverLink(addr, token, kind))
		if err != nil || a2 != addr || t2 != token || k2 != kind {
			t.Fatalf("round trip of %q %q %q = %q %q %q %v", addr, token, kind, a2, t2, k2, err)
		}
	})
}
