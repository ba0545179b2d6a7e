package shl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sentinels lists every error a decoder may end in.
var sentinels = []error{ErrMalformed, ErrKey, ErrFlag, ErrTooLarge, ErrExpired}

func checkDecodeErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	ok := false
	for _, s := range sentinels {
		ok = ok || errors.Is(err, s)
	}
	if !ok {
		t.Fatalf("error without a sentinel: %v", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("multi-line error: %q", err)
	}
}

func seedFiles(f *testing.F, glob string, add func([]byte)) {
	names, _ := filepath.Glob(filepath.Join(specDir, glob))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

func FuzzParseLink(f *testing.F) {
	seedFiles(f, "dev-tools-testdata/shlink-link*.txt", func(b []byte) { f.Add(string(b)) })
	f.Add("shlink:/")
	f.Add("https://viewer.example.org#shlink:/eyJ1cmwiOiJodHRwczovL2EuYi9jIiwia2V5IjoiIn0")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseLink(s)
		checkDecodeErr(t, err)
		if err != nil {
			return
		}
		// Whatever parses re-encodes to a link that parses to the same payload.
		link, err := p.Link("")
		if err != nil {
			t.Fatalf("Link of a parsed payload: %v", err)
		}
		q, err := ParseLink(link)
		if err != nil || q != p {
			t.Fatalf("round trip: %+v → %+v, %v", p, q, err)
		}
	})
}

func FuzzParsePayload(f *testing.F) {
	seedFiles(f, "dev-tools-testdata/shlink-payload*.txt", func(b []byte) { f.Add(b) })
	seedFiles(f, "hl7-ig/shl-payload-*.json", func(b []byte) { f.Add(b) })
	f.Add([]byte(`{"url":"https://a.b/c","key":"rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q","exp":1.5e9,"flag":"LPU","v":"1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePayload(b)
		checkDecodeErr(t, err)
		if err == nil {
			if err := p.Check(); err != nil {
				t.Fatalf("parsed payload fails Check: %v", err)
			}
		}
	})
}

func FuzzDecrypt(f *testing.F) {
	key := make([]byte, KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	for _, plain := range []string{"", `{"resourceType":"Bundle"}`, strings.Repeat(`{"a":1},`, 2000)} {
		jwe, err := Encrypt(key, "application/fhir+json", []byte(plain))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(jwe)
	}
	f.Add("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwiemlwIjoiREVGIn0....")
	f.Fuzz(func(t *testing.T, jwe string) {
		_, plain, err := Decrypt(key, jwe)
		checkDecodeErr(t, err)
		if len(plain) > MaxPlain {
			t.Fatalf("%d bytes of plaintext", len(plain))
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	seedFiles(f, "dev-tools-testdata/shlink-manifest.txt", func(b []byte) { f.Add(b) })
	seedFiles(f, "hl7-ig/shl-manifest-1.json", func(b []byte) { f.Add(b) })
	f.Add([]byte(`{"files":[{"contentType":"a/b","embedded":"x","location":"https://a.b/"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		checkDecodeErr(t, err)
		for _, mf := range m.Files {
			if mf.ContentType == "" || (mf.Embedded == "") == (mf.Location == "") {
				t.Fatalf("accepted file %+v", mf)
			}
		}
	})
}
