package shl

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLinkRoundTrip(t *testing.T) {
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 43 {
		t.Errorf("NewKey gave %d characters, want 43", len(key))
	}
	p := Payload{URL: "https://keeper.example.org/shl/abc", Key: key, Exp: 1767225600, Flag: "LP", Label: "Für Dr. Ø", V: 1}
	bare, err := p.Link("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(bare, "shlink:/eyJ") || strings.ContainsAny(bare[len(Prefix):], "=+/") {
		t.Errorf("bare link %q", bare)
	}
	viewer, err := p.Link("https://viewer.example.org/open")
	if err != nil {
		t.Fatal(err)
	}
	if viewer != "https://viewer.example.org/open#"+bare {
		t.Errorf("viewer link %q", viewer)
	}
	for _, s := range []string{bare, viewer, "  \n" + bare + "\r\n"} {
		got, err := ParseLink(s)
		if err != nil || got != p {
			t.Errorf("ParseLink(%.40q) = %+v, %v", s, got, err)
		}
	}
	if _, err := p.Link("https://viewer.example.org/#x"); !errors.Is(err, ErrMalformed) {
		t.Errorf("viewer with fragment: %v", err)
	}
}

func TestPayloadFlagsAndExpiry(t *testing.T) {
	p := Payload{Flag: "LP", Exp: 1767225600}
	if !p.Has('L') || !p.Has('P') || p.Has('U') {
		t.Errorf("Has on %q wrong", p.Flag)
	}
	at := time.Unix(1767225600, 0)
	if p.Expired(at.Add(-time.Second)) || !p.Expired(at) {
		t.Error("Expired is wrong at the boundary")
	}
	if (Payload{}).Expired(at) {
		t.Error("a payload without exp expired")
	}
}

func encodeLink(js string) string {
	return Prefix + base64.RawURLEncoding.EncodeToString([]byte(js))
}

func TestPayloadBadInput(t *testing.T) {
	const key = "rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q"
	const url = `"url":"https://ehr.example.org/qr/Y9xw/m"`
	good := encodeLink(`{` + url + `,"key":"` + key + `","flag":"LP"}`)
	if _, err := ParseLink(good); err != nil {
		t.Fatalf("good link: %v", err)
	}
	for _, tc := range []struct {
		name string
		link string
		want error
	}{
		{"key 31 bytes", encodeLink(`{` + url + `,"key":"` + key[:41] + `"}`), ErrKey},
		{"key 33 bytes", encodeLink(`{` + url + `,"key":"` + key + `AA"}`), ErrKey},
		{"key not base64url", encodeLink(`{` + url + `,"key":"` + key[:42] + `+"}`), ErrKey},
		{"unknown flag", encodeLink(`{` + url + `,"key":"` + key + `","flag":"LX"}`), ErrFlag},
		{"repeated flag", encodeLink(`{` + url + `,"key":"` + key + `","flag":"LL"}`), ErrFlag},
		{"P and U", encodeLink(`{` + url + `,"key":"` + key + `","flag":"PU"}`), ErrFlag},
		{"label 81 characters", encodeLink(`{` + url + `,"key":"` + key + `","label":"` + strings.Repeat("é", 81) + `"}`), ErrMalformed},
		{"version 2", encodeLink(`{` + url + `,"key":"` + key + `","v":2}`), ErrMalformed},
		{"exp not a number", encodeLink(`{` + url + `,"key":"` + key + `","exp":"soon"}`), ErrMalformed},
		{"http to a public host", encodeLink(`{"url":"http://ehr.example.org/m","key":"` + key + `"}`), ErrMalformed},
		{"ftp url", encodeLink(`{"url":"ftp://ehr.example.org/m","key":"` + key + `"}`), ErrMalformed},
		{"relative url", encodeLink(`{"url":"/m","key":"` + key + `"}`), ErrMalformed},
		{"no key", encodeLink(`{` + url + `}`), ErrMalformed},
		{"not JSON", encodeLink(`[1,2]`), ErrMalformed},
		{"truncated base64", good[:len(good)-len(good)%4-3], ErrMalformed},
		{"bad base64", "shlink:/eyJ!!", ErrMalformed},
		{"empty payload", "shlink:/", ErrMalformed},
		{"no shlink", "https://example.org/#x", ErrMalformed},
		{"oversize", Prefix + strings.Repeat("A", MaxLink), ErrTooLarge},
	} {
		_, err := ParseLink(tc.link)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || len(msg) > 200 || !strings.HasPrefix(msg, "shl: ") {
			t.Errorf("%s: error is not one short line: %q", tc.name, msg)
		}
	}
	// An exp in the past parses (the link is still readable) but the client
	// refuses it before any request.
	past := Payload{URL: "https://ehr.example.org/m", Key: key, Exp: 1704096000}
	if _, err := new(Client).Open(t.Context(), past, ""); !errors.Is(err, ErrExpired) {
		t.Errorf("expired payload: %v", err)
	}
}

func TestPasscodeHash(t *testing.T) {
	h, err := HashPasscode("1234-abcd")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q", h)
	}
	if !CheckPasscode(h, "1234-abcd") || CheckPasscode(h, "1234-abce") || CheckPasscode(h, "") {
		t.Error("CheckPasscode gives the wrong answer")
	}
	h2, _ := HashPasscode("1234-abcd")
	if h2 == h {
		t.Error("two hashes of one passcode are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"} {
		if CheckPasscode(bad, "x") {
			t.Errorf("malformed hash %q matched", bad)
		}
	}
	if _, err := HashPasscode(""); !errors.Is(err, ErrPasscode) {
		t.Errorf("empty passcode: %v", err)
	}
}

// TestNewIDReadsAsArgument: ids are 44 characters of 33 random bytes and
// never start with '-' (a command line would read it as a flag). Without
// that rule, 2,000 ids would hold one starting with '-' all but surely
// (1 - (63/64)^2000 > 0.9999999999999).
func TestNewIDReadsAsArgument(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		id, err := NewID()
		if err != nil {
			t.Fatal(err)
		}
		b, err := b64.DecodeString(id)
		if len(id) != 44 || id[0] == '-' || err != nil || len(b) != 33 || seen[id] {
			t.Fatalf("id %q: %d bytes, %v (seen before: %v)", id, len(b), err, seen[id])
		}
		seen[id] = true
	}
}
