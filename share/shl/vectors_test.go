package shl

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const specDir = "testdata/spec"

func readSpec(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(specDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFixturesIntact(t *testing.T) {
	sums := readSpec(t, "SHA256SUMS")
	sc := bufio.NewScanner(bytes.NewReader(sums))
	n := 0
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("bad SHA256SUMS line %q", sc.Text())
		}
		h := sha256.Sum256(readSpec(t, name))
		if got := hex.EncodeToString(h[:]); got != want {
			t.Errorf("%s: sha256 %s, want %s", name, got, want)
		}
		n++
	}
	if n != 16 {
		t.Errorf("SHA256SUMS lists %d files, want 16", n)
	}
}

// The dev-tools sample payloads, as printed in their shlink-payload*.txt.
var (
	devPayloadP = Payload{URL: "http://localhost:8090/ERn18l4lL3_5yPXMSzx3ZejyMM_XIeWeseXa3DXsJD0", Flag: "P",
		Key: "v7SjEf2oC4nbbkrhJJ1VAsnp4QaAmrzwIVQtxGM7AIc", Label: "Sample Set 1", Exp: 1704096000}
	devPayloadU = Payload{URL: "http://localhost:8090/shl/jvb42XYZTjY2BTZ2mcL6nozbTFT8Vs5G2_I-_IuxCZo", Flag: "U",
		Key: "lQPSuLGFjSkce1i63hckW3L9u-F94ti1gE_QvqbJc_g", Label: "Sample Set 1", Exp: 1704096000}
	ipsPayload = Payload{URL: "https://raw.githubusercontent.com/seanno/shc-demo-data/main/ips/IPS_IG-bundle-01-enc.txt",
		Flag: "LU", Key: "rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q", Label: "Demo SHL for IPS_IG-bundle-01"}
	genPayload = Payload{URL: "https://ehr.example.org/qr/Y9xwkUdtmN9wwoJoN3ffJIhX2UGvCL1JnlPVNL3kDWM/m", Flag: "LP",
		Key: "rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q", Label: "Back-to-school immunizations for Oliver Brown"}
	carinPayload = Payload{URL: "https://joshuamandel.com/cgm/shl/120day_raw_obs_unguessable_shl_id0000000000", Flag: "LU",
		Key: "raw_obs_unguessable_random_key0000000000000", Label: "Josh's CGM Data"}
)

func TestSpecPayloads(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Payload
	}{
		{"dev-tools-testdata/shlink-payload.txt", devPayloadP},
		{"dev-tools-testdata/shlink-payload-direct.txt", devPayloadU},
		{"hl7-ig/shl-payload-2.json", ipsPayload},
		// exp is the string "1767225600000" upstream (milliseconds): 2026-01-01T00:00:00Z.
		{"hl7-ig/shl-payload-1.json", Payload{URL: genPayload.URL, Flag: "LP", Key: genPayload.Key, Exp: 1767225600, V: 1,
			Label: "Back-to-school immunizations for Oliver Brown"}},
	} {
		p, err := ParsePayload(readSpec(t, tc.file))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if p != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.file, p, tc.want)
		}
	}
}

func TestSpecLinks(t *testing.T) {
	devU := devPayloadU
	devU.V = 1 // the link carries "v":1, the printed payload does not
	type linkCase struct {
		name, link string
		want       Payload
	}
	links := []linkCase{
		{"shlink-link.txt", string(readSpec(t, "dev-tools-testdata/shlink-link.txt")), devPayloadP},
		{"shlink-link-with-viewer.txt", string(readSpec(t, "dev-tools-testdata/shlink-link-with-viewer.txt")), devPayloadP},
		{"shlink-link-direct.txt", string(readSpec(t, "dev-tools-testdata/shlink-link-direct.txt")), devU},
	}
	for _, f := range []struct {
		file string
		want Payload
	}{
		{"hl7-ig/IPS_IG-bundle-01-shl-details.json", ipsPayload},
		{"hl7-ig/carin-ins-card-shl-details.json", carinPayload},
		{"hl7-ig/spec-example-generation.json", genPayload},
	} {
		var d struct {
			Payload json.RawMessage `json:"shlinkJsonPayload"`
		}
		if err := json.Unmarshal(readSpec(t, f.file), &d); err != nil {
			t.Fatal(err)
		}
		p, err := ParsePayload(d.Payload)
		if err != nil || p != f.want {
			t.Errorf("%s payload: %+v, %v", f.file, p, err)
		}
		var raw map[string]string
		_ = json.Unmarshal(readSpec(t, f.file), &raw)
		links = append(links,
			linkCase{f.file + " shlinkBare", raw["shlinkBare"], f.want},
			linkCase{f.file + " shlink", raw["shlink"], f.want})
		if enc := raw["encodedPayload"]; enc != "" {
			links = append(links, linkCase{f.file + " encodedPayload", Prefix + enc, f.want})
		}
	}
	for _, tc := range links {
		if tc.link == "" {
			t.Fatalf("%s: empty fixture", tc.name)
		}
		p, err := ParseLink(tc.link)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if p != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, p, tc.want)
		}
	}
}

func TestSpecManifests(t *testing.T) {
	m, err := ParseManifest(readSpec(t, "dev-tools-testdata/shlink-manifest.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := Manifest{Files: []ManifestFile{
		{ContentType: "application/smart-health-card", Location: "http://localhost:8090/shl/05pHiEfsMU1kLb9-oTVknO4VUB9oP6Ot4ET46cjJFzU"},
		{ContentType: "application/smart-health-card", Location: "http://localhost:8090/shl/TqNMSQQ-QoiRJoVBJOFtn9UKARE4ceJbxHb7mdWYar4"},
	}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("shlink-manifest.txt: %+v", m)
	}

	one := readSpec(t, "dev-tools-testdata/shlink-manifest-file.txt")
	m, err = ParseManifest(append(append([]byte(`{"files":[`), one...), "]}"...))
	if err != nil || len(m.Files) != 1 || m.Files[0] != want.Files[1] {
		t.Errorf("shlink-manifest-file.txt: %+v, %v", m, err)
	}

	m, err = ParseManifest(readSpec(t, "hl7-ig/shl-manifest-1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 3 ||
		m.Files[0].Location != "https://bucket.cloud.example.org/file1?sas=MFXK6jL3oL3SI_lRfi_-cEfzIs5oHs6rRWmrsCAFzvk" ||
		!strings.HasPrefix(m.Files[1].Embedded, "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..8zH0NmUXGwMOqEya.") ||
		m.Files[2].ContentType != "application/fhir+json" || m.Files[2].LastUpdated != "2025-03-09T15:29:46Z" {
		t.Errorf("shl-manifest-1.json: %+v", m)
	}
}

// The dev-tools examples hold a link, its payload and the JWE files the
// link's manifest serves; each file is a SMART Health Card file.
func TestDevToolsExamples(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join(specDir, "dev-tools-testdata/shl-examples/*.json"))
	if len(names) != 2 {
		t.Fatalf("found %d examples, want 2", len(names))
	}
	files := 0
	for _, name := range names {
		var ex struct {
			Link     string   `json:"link"`
			Payload  Payload  `json:"payload"`
			JWEFiles []string `json:"jweFiles"`
		}
		b, _ := os.ReadFile(name)
		if err := json.Unmarshal(b, &ex); err != nil {
			t.Fatal(err)
		}
		p, err := ParseLink(ex.Link)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p != ex.Payload {
			t.Errorf("%s: link decodes to %+v, want %+v", filepath.Base(name), p, ex.Payload)
		}
		key, err := p.KeyBytes()
		if err != nil {
			t.Fatal(err)
		}
		for i, jwe := range ex.JWEFiles {
			cty, plain, err := Decrypt(key, jwe)
			if err != nil {
				t.Fatalf("%s file %d: %v", filepath.Base(name), i, err)
			}
			var card struct {
				VerifiableCredential []string `json:"verifiableCredential"`
			}
			if err := json.Unmarshal(plain, &card); err != nil || len(card.VerifiableCredential) != 1 ||
				strings.Count(card.VerifiableCredential[0], ".") != 2 {
				t.Errorf("%s file %d: not a SMART Health Card file: %.80q", filepath.Base(name), i, plain)
			}
			if cty != "" {
				t.Errorf("%s file %d: cty %q, the example sets none", filepath.Base(name), i, cty)
			}
			files++
		}
	}
	if files != 3 {
		t.Errorf("decrypted %d files, want 3", files)
	}
}

func TestSpecExampleEncryption(t *testing.T) {
	var ex struct {
		Key, JWE          string
		ExpectedPlaintext string `json:"expectedPlaintext"`
	}
	if err := json.Unmarshal(readSpec(t, "hl7-ig/spec-example-encryption.json"), &ex); err != nil {
		t.Fatal(err)
	}
	key, err := Payload{Key: ex.Key}.KeyBytes()
	if err != nil {
		t.Fatal(err)
	}
	cty, plain, err := Decrypt(key, ex.JWE)
	if err != nil {
		t.Fatal(err)
	}
	if cty != "application/smart-health-card" {
		t.Errorf("cty %q", cty)
	}
	if string(plain) != ex.ExpectedPlaintext {
		t.Errorf("plaintext differs:\n got %.120q\nwant %.120q", plain, ex.ExpectedPlaintext)
	}
}
