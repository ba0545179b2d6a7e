package shc

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestThumbprint(t *testing.T) {
	for _, f := range []string{"spec-examples/issuer-jwks.json", "spec-examples-2021/issuer-jwks.json",
		"dev-tools-testdata/valid_keys.json", "dev-tools-testdata/valid_key_with_x5c.json"} {
		for _, k := range mustKeys(t, f) {
			if got := k.Thumbprint(); got != k.Kid {
				t.Errorf("%s: thumbprint %s, kid %s", f, got, k.Kid)
			}
		}
	}
}

func TestLoadTrust(t *testing.T) {
	trust := specTrust(t)
	if got := trust.Issuers(); !slices.Equal(got, []string{spec2021ISS, specISS}) {
		t.Errorf("Issuers() = %v", got)
	}
	if (*Trust)(nil).Issuers() != nil {
		t.Error("nil Trust has issuers")
	}

	jwks := readFile(t, "spec-examples/issuer-jwks.json")
	crl := readFile(t, "spec-examples/issuer-crl/"+kid3Kfdg+".json")
	for _, tc := range []struct {
		name     string
		manifest string
		files    map[string][]byte
		wantErr  bool
	}{
		{"ok", `{"issuers":[{"iss":"` + specISS + `","jwks":"k/jwks.json","crl":"k/crl"}]}`,
			map[string][]byte{"k/jwks.json": jwks, "k/crl/" + kid3Kfdg + ".json": crl, "k/crl/README": []byte("x")}, false},
		{"empty manifest", `{"issuers":[]}`, nil, false},
		{"no manifest", "", nil, true},
		{"manifest not JSON", `issuers`, nil, true},
		{"no jwks entry", `{"issuers":[{"iss":"` + specISS + `"}]}`, nil, true},
		{"jwks missing", `{"issuers":[{"iss":"` + specISS + `","jwks":"jwks.json"}]}`, nil, true},
		{"jwks outside dir", `{"issuers":[{"iss":"` + specISS + `","jwks":"../jwks.json"}]}`, nil, true},
		{"jwks absolute", `{"issuers":[{"iss":"` + specISS + `","jwks":"/etc/passwd"}]}`, nil, true},
		{"jwks not a key set", `{"issuers":[{"iss":"` + specISS + `","jwks":"jwks.json"}]}`,
			map[string][]byte{"jwks.json": []byte(`{"kty":"EC"}`)}, true},
		{"crl dir missing", `{"issuers":[{"iss":"` + specISS + `","jwks":"jwks.json","crl":"crl"}]}`,
			map[string][]byte{"jwks.json": jwks}, true},
		{"crl filed under another kid", `{"issuers":[{"iss":"` + specISS + `","jwks":"jwks.json","crl":"crl"}]}`,
			map[string][]byte{"jwks.json": jwks, "crl/" + kidEBKOr + ".json": crl}, true},
		{"crl not JSON", `{"issuers":[{"iss":"` + specISS + `","jwks":"jwks.json","crl":"crl"}]}`,
			map[string][]byte{"jwks.json": jwks, "crl/" + kid3Kfdg + ".json": []byte("[")}, true},
		{"http issuer", `{"issuers":[{"iss":"http://spec.smarthealth.cards/examples/issuer","jwks":"jwks.json"}]}`,
			map[string][]byte{"jwks.json": jwks}, true},
		{"trailing slash", `{"issuers":[{"iss":"` + specISS + `/","jwks":"jwks.json"}]}`,
			map[string][]byte{"jwks.json": jwks}, true},
		{"duplicate issuer", `{"issuers":[{"iss":"` + specISS + `","jwks":"jwks.json"},{"iss":"` + specISS + `","jwks":"jwks.json"}]}`,
			map[string][]byte{"jwks.json": jwks}, true},
	} {
		dir := t.TempDir()
		if tc.manifest != "" {
			tc.files = mapWith(tc.files, ManifestFile, []byte(tc.manifest))
		}
		for name, data := range tc.files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		trust, err := LoadTrust(dir)
		if tc.wantErr {
			if !errors.Is(err, ErrTrustStore) {
				t.Errorf("%s: got %v, want ErrTrustStore", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tc.name == "ok" {
			_, err := Verify(string(readFile(t, "spec-examples/example-03-d-jws.txt")), trust, testNow)
			wantErr(t, "example 03 with loaded list", err, ErrRevoked)
		}
	}
}

func mapWith(m map[string][]byte, k string, v []byte) map[string][]byte {
	out := map[string][]byte{k: v}
	for kk, vv := range m {
		out[kk] = vv
	}
	return out
}

// TestKeyRules alters the real key of example 00 one rule at a time: the
// card must then be refused with ErrInvalidKey and the rule named.
func TestKeyRules(t *testing.T) {
	jws := string(readFile(t, "spec-examples/example-00-d-jws.txt"))
	var good JWK
	var withX5C JWK
	for _, k := range mustKeys(t, "spec-examples/issuer-jwks.json") {
		switch k.Kid {
		case kid3Kfdg:
			good = k
		case kidEBKOr:
			withX5C = k
		}
	}
	other := mustKeys(t, "spec-examples-2021/issuer-jwks.json")[1]
	for _, tc := range []struct {
		name   string
		edit   func(k *JWK)
		detail string
	}{
		{"alg", func(k *JWK) { k.Alg = "ES256K" }, `alg is "ES256K"`},
		{"no alg", func(k *JWK) { k.Alg = "" }, `alg is ""`},
		{"use", func(k *JWK) { k.Use = "enc" }, `use is "enc"`},
		{"kty", func(k *JWK) { k.Kty = "OKP" }, `kty is "OKP"`},
		{"crv", func(k *JWK) { k.Crv = "P-384" }, `crv is "P-384"`},
		{"private", func(k *JWK) { k.D = "AAAA" }, "private key"},
		{"kid", func(k *JWK) { k.Kid = "not-the-thumbprint" }, "thumbprint " + kid3Kfdg},
		{"x off curve", func(k *JWK) { k.X = other.X }, "not a point on P-256"},
		{"x short", func(k *JWK) { k.X = k.X[:40] }, "32-byte"},
		{"x padded", func(k *JWK) { k.X += "=" }, "32-byte"},
		{"negative crlVersion", func(k *JWK) { k.CRLVersion = -1 }, "negative"},
		{"x5c of another key", func(k *JWK) { k.X5C = withX5C.X5C }, "different public key"},
		{"x5c not base64", func(k *JWK) { k.X5C = []string{"%%%"} }, "not base64"},
		{"x5c not DER", func(k *JWK) { k.X5C = []string{"AAAA"} }, "does not parse"},
	} {
		k := good
		tc.edit(&k)
		trust, err := NewTrust(Issuer{ISS: specISS, Keys: []JWK{k}})
		if err != nil {
			t.Fatalf("%s: NewTrust: %v", tc.name, err)
		}
		_, err = Verify(jws, trust, testNow)
		wantErr(t, tc.name, err, ErrInvalidKey)
		if err != nil && !strings.Contains(err.Error(), tc.detail) {
			t.Errorf("%s: %v does not mention %q", tc.name, err, tc.detail)
		}
	}

	// The x5c key of example 01 under an issuer URL its certificate does
	// not name is refused; the card only needs to name the key.
	const otherISS = "https://other.example/issuer"
	trust, err := NewTrust(Issuer{ISS: otherISS, Keys: []JWK{withX5C}})
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSigner(t)
	card := s.sign(t, `{"zip":"DEF","alg":"ES256","kid":"`+kidEBKOr+`"}`, []byte(`{"iss":"`+otherISS+`"}`))
	_, err = Verify(card, trust, testNow)
	wantErr(t, "x5c SAN", err, ErrInvalidKey)
	if err != nil && !strings.Contains(err.Error(), "subject alternative name") {
		t.Errorf("x5c SAN: %v", err)
	}

	// A refused duplicate of a usable key does not hide it, in either order
	// (the spec allows entries that differ only in x5c).
	bad := good
	bad.X5C = withX5C.X5C
	for _, keys := range [][]JWK{{good, bad}, {bad, good}} {
		trust, err := NewTrust(Issuer{ISS: specISS, Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(jws, trust, testNow); err != nil {
			t.Errorf("duplicate entries: %v", err)
		}
	}
}

// TestRevocationListRules: a key that announces a list needs one, and the
// list must be well-formed; otherwise the card's revocation status is
// unknown and it is refused with ErrBadRevocationList.
func TestRevocationListRules(t *testing.T) {
	jws := string(readFile(t, "spec-examples/example-03-d-jws.txt"))
	l, err := ParseRevocationList(readFile(t, "spec-examples/issuer-crl/"+kid3Kfdg+".json"))
	if err != nil {
		t.Fatal(err)
	}
	keys := mustKeys(t, "spec-examples/issuer-jwks.json")
	withVersion := func(v int) []JWK {
		out := slices.Clone(keys)
		out[0].CRLVersion = v
		return out
	}
	for _, tc := range []struct {
		name  string
		keys  []JWK
		lists []RevocationList
		want  error
	}{
		{"list, no crlVersion", keys, []RevocationList{l}, ErrRevoked},
		{"list matching crlVersion", withVersion(1), []RevocationList{l}, ErrRevoked},
		{"crlVersion without list", withVersion(1), nil, ErrBadRevocationList},
		{"crlVersion ahead of list", withVersion(2), []RevocationList{l}, ErrBadRevocationList},
		{"method", keys, []RevocationList{{Kid: kid3Kfdg, Method: "hash", Ctr: 1}}, ErrBadRevocationList},
		{"ctr 0", keys, []RevocationList{{Kid: kid3Kfdg, Method: "rid"}}, ErrBadRevocationList},
		{"timestamp not a number", keys, []RevocationList{{Kid: kid3Kfdg, Method: "rid", Ctr: 1, RIDs: []string{"abc.tomorrow"}}}, ErrBadRevocationList},
		{"two dots", keys, []RevocationList{{Kid: kid3Kfdg, Method: "rid", Ctr: 1, RIDs: []string{"abc.1.2"}}}, ErrBadRevocationList},
		{"empty rid", keys, []RevocationList{{Kid: kid3Kfdg, Method: "rid", Ctr: 1, RIDs: []string{".1"}}}, ErrBadRevocationList},
		{"empty list", keys, []RevocationList{{Kid: kid3Kfdg, Method: "rid", Ctr: 1}}, nil},
		{"list for another kid only", keys, []RevocationList{{Kid: kidEBKOr, Method: "nonsense"}}, nil},
	} {
		trust, err := NewTrust(Issuer{ISS: specISS, Keys: tc.keys, RevocationLists: tc.lists})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, err = Verify(jws, trust, testNow)
		wantErr(t, tc.name, err, tc.want)
	}
	if _, err := NewTrust(Issuer{ISS: specISS, Keys: keys, RevocationLists: []RevocationList{l, l}}); !errors.Is(err, ErrTrustStore) {
		t.Errorf("two lists for one kid: %v", err)
	}
}
