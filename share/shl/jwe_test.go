package shl

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func testKey(t testing.TB) []byte {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Payload{Key: k}.KeyBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func protectedHeader(t *testing.T, jwe string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(jwe, ".")
	js, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEncryptRoundTrip(t *testing.T) {
	key := testKey(t)
	small := []byte(`{"resourceType":"Bundle"}`)
	big := bytes.Repeat([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"glucose"}},`), 2000)
	raw := make([]byte, 2_400_000)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(raw) // fixed seed: the same bytes every run
	if useZip([]byte(hex.EncodeToString(raw))) {  // 4.8 MB of hex deflates ~2×, but common readers refuse to inflate it
		t.Error("a 4.8 MB file is deflated beyond the readers' default inflate limit")
	}
	if n := len(base64.RawURLEncoding.EncodeToString(make([]byte, MaxPlain))) + 1024; n > MaxJWE {
		t.Errorf("a file of MaxPlain bytes is a JWE of %d bytes uncompressed, above MaxJWE", n)
	}
	if useZip(bytes.Repeat([]byte("0"), 4_000_000)) { // 4 MB deflating ~1000×: a bomb to go-jose
		t.Error("a file beyond go-jose's 10× inflate bound is deflated")
	}
	for _, tc := range []struct {
		name    string
		plain   []byte
		wantZip bool
	}{
		{"small stays uncompressed", small, false},
		{"compressible JSON within 250 kB is deflated", big, true},
		// 1.4 MB: above the readers' default 250 kB, and it fits in MaxJWE
		// uncompressed.
		{"above 250 kB stays uncompressed", bytes.Repeat(big, 10), false},
	} {
		jwe, err := Encrypt(key, "application/fhir+json", tc.plain)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		h := protectedHeader(t, jwe)
		if h["alg"] != "dir" || h["enc"] != "A256GCM" || h["cty"] != "application/fhir+json" {
			t.Errorf("%s: header %v", tc.name, h)
		}
		_, zipped := h["zip"]
		if zipped != tc.wantZip {
			t.Errorf("%s: zip header present=%v, want %v", tc.name, zipped, tc.wantZip)
		}
		cty, plain, err := Decrypt(key, jwe)
		if err != nil || cty != "application/fhir+json" || !bytes.Equal(plain, tc.plain) {
			t.Errorf("%s: round trip: cty %q, equal %v, %v", tc.name, cty, bytes.Equal(plain, tc.plain), err)
		}
	}
}

// Text that deflates between 1× and 10× is sent with zip DEF.
func TestEncryptDeflates(t *testing.T) {
	key := testKey(t)
	var b strings.Builder
	for i := range 4000 {
		// Varied digits keep the ratio modest (about 3-5×).
		b.WriteString(`{"id":"`)
		b.WriteString(base64.RawURLEncoding.EncodeToString([]byte{byte(i), byte(i >> 8), byte(i * 7), byte(i * 13)}))
		b.WriteString(`","value":` + strings.Repeat("1", i%7+1) + `},`)
	}
	plain := []byte(b.String())
	jwe, err := Encrypt(key, "application/fhir+json", plain)
	if err != nil {
		t.Fatal(err)
	}
	if h := protectedHeader(t, jwe); h["zip"] != "DEF" {
		t.Fatalf("header %v, want zip DEF", h)
	}
	if len(jwe) >= len(plain) {
		t.Errorf("deflated JWE is %d bytes for %d bytes of text", len(jwe), len(plain))
	}
	_, got, err := Decrypt(key, jwe)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("round trip: %v", err)
	}
}

// A JWE whose deflated plaintext inflates past the limits.
func zipBomb(t *testing.T, key []byte) string {
	t.Helper()
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: key},
		&jose.EncrypterOptions{Compression: jose.DEFLATE})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := enc.Encrypt(make([]byte, MaxPlain+1<<20))
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	if len(s) > MaxJWE {
		t.Fatalf("bomb is %d bytes, above MaxJWE", len(s))
	}
	return s
}

func TestDecryptBadInput(t *testing.T) {
	key := testKey(t)
	good, err := Encrypt(key, "application/fhir+json", []byte(`{"resourceType":"Bundle","id":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	tampered := strings.Join([]string{parts[0], parts[1], parts[2], "A" + parts[3][1:], parts[4]}, ".")
	for _, tc := range []struct {
		name string
		key  []byte
		jwe  string
		want error
	}{
		{"short key", key[:31], good, ErrKey},
		{"wrong key", testKey(t), good, ErrKey},
		{"tampered ciphertext", key, tampered, ErrKey},
		{"oversize JWE", key, strings.Repeat("a", MaxJWE+1), ErrTooLarge},
		{"zip bomb", key, zipBomb(t, key), ErrTooLarge},
		{"four parts", key, strings.Join(parts[:4], "."), ErrMalformed},
		{"truncated base64", key, good[:len(good)-3], ErrKey},
		{"not base64", key, parts[0] + "..!!.??.xx", ErrMalformed},
		{"empty", key, "", ErrMalformed},
		{"alg A256KW", key, "eyJhbGciOiJBMjU2S1ciLCJlbmMiOiJBMjU2R0NNIn0." + strings.Join(parts[1:], "."), ErrMalformed},
	} {
		_, _, err := Decrypt(tc.key, tc.jwe)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "\n") || len(err.Error()) > 200 {
			t.Errorf("%s: error is not one short line: %q", tc.name, err)
		}
	}
	if _, err := Encrypt(key[:16], "x/y", nil); !errors.Is(err, ErrKey) {
		t.Errorf("Encrypt with a 16-byte key: %v", err)
	}
	if _, err := Encrypt(key, "x/y", make([]byte, MaxPlain+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Encrypt above MaxPlain: %v", err)
	}
}
