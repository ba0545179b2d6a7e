package handoff

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/shl"
)

// grantLink is a real sealed grant link, from fixed keys.
func grantLink(t testing.TB) string {
	t.Helper()
	key := func(b byte) *secp256k1.PrivateKey { return secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{b}, 32)) }
	patient, specialist := key(1), key(3)
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	g := &grant.Grant{
		Domain:       grant.Domain{ChainID: 1337, Registry: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")},
		GranteeKey:   specialist.PubKey().SerializeCompressed(),
		Packages:     [][]byte{[]byte("cid of the labs package")},
		Categories:   []string{"labs"},
		Operations:   grant.Read,
		NotBefore:    uint64(start.Unix()),
		ExpiresAt:    uint64(start.Add(time.Hour).Unix()),
		RevocationID: [32]byte{1},
		Nonce:        1,
	}
	if err := g.Sign(patient); err != nil {
		t.Fatal(err)
	}
	link, err := grant.Chain{g}.Link(patient.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// healthLink is a SMART Health Link behind viewer ("" for a bare link).
func healthLink(t testing.TB, viewer string) string {
	t.Helper()
	p := shl.Payload{URL: "https://keeper.example.org/shl/manifest-abcdefgh", Key: base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)), Flag: "P", Label: "Labs for Dr Okafor"}
	link, err := p.Link(viewer)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

var bundleLink = grant.BundlePrefix + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte("sealed pointer "), 8))

func TestNormalize(t *testing.T) {
	g := grantLink(t)
	bare := healthLink(t, "")
	viewed := healthLink(t, "https://viewer.example.org/view")
	for _, c := range []struct {
		name, in, want string
		kind           Kind
	}{
		{"grant", g, g, Grant},
		{"grant broken by a mail client", " " + g[:40] + "\r\n" + g[40:90] + "\n  " + g[90:] + "\n", g, Grant},
		{"key bundle", bundleLink, bundleLink, Grant},
		{"shlink", bare, bare, Health},
		{"shlink behind a viewer", viewed, bare, Health},
	} {
		got, kind, err := Normalize(c.in)
		if err != nil || got != c.want || kind != c.kind {
			t.Errorf("%s: Normalize = %.50q, %v, %v; want %.50q, %v", c.name, got, kind, err, c.want, c.kind)
		}
	}
	if viewed == bare || !strings.Contains(viewed, "#shlink:/") {
		t.Fatalf("the viewer link %q is not one", viewed)
	}

	for _, c := range []struct {
		name, in string
		want     []error
	}{
		{"grant cut off", g[:60], []error{ErrDamaged, grant.ErrMalformed}},
		{"shlink cut off", bare[:len(bare)-20], []error{ErrDamaged, shl.ErrMalformed}},
		{"bundle not base64", grant.BundlePrefix + "not*base64", []error{ErrDamaged}},
		{"empty bundle", grant.BundlePrefix, []error{ErrDamaged}},
		{"a web page", "https://example.org/menu-of-the-day", []error{ErrNotALink}},
		{"a Vault handover", "healthwallet:handover/AAAAAAAAAAAA", []error{ErrNotALink}},
		{"shlink inside a word", "xshlink:/" + bare[len(shl.Prefix):], []error{ErrNotALink}},
		{"nothing", "  \n", []error{ErrNotALink}},
		{"too long", grant.LinkPrefix + strings.Repeat("A", MaxLink), []error{ErrNotALink}},
		{"far too long", strings.Repeat(" ", 5*MaxLink), []error{ErrNotALink}},
	} {
		_, _, err := Normalize(c.in)
		for _, want := range c.want {
			if !errors.Is(err, want) {
				t.Errorf("%s: err = %v, want %v", c.name, err, want)
			}
		}
	}
}

func TestLooksLikeLink(t *testing.T) {
	for s, want := range map[string]bool{
		grantLink(t): true, "healthwallet:bundle/x": true, "shlink:/abc": true,
		"https://viewer.example.org/#shlink:/abc": true, "open": false, "records": false, "https://example.org/": false,
	} {
		if LooksLikeLink(s) != want {
			t.Errorf("LooksLikeLink(%.40q) = %v", s, !want)
		}
	}
}

// listen starts a listener in a new home that records what it delivers.
func listen(t *testing.T) (home string, got chan string, l *Listener) {
	t.Helper()
	home = t.TempDir()
	got = make(chan string, 4)
	l, err := Listen(home, func(link string) { got <- link })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return home, got, l
}

// TestHandoff: a link sent to the running app reaches it exactly and
// once; a second app on the same home is refused; once the app closes,
// its socket is gone and Send says no app is open.
func TestHandoff(t *testing.T) {
	home, got, l := listen(t)
	fi, err := os.Stat(filepath.Join(home, SocketName))
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v, %v", fi.Mode(), err)
	}
	g := grantLink(t)
	for _, in := range []string{g, healthLink(t, "https://viewer.example.org/view")} {
		if err := Send(t.Context(), home, in); err != nil {
			t.Fatal(err)
		}
		want, _, _ := Normalize(in)
		if link := <-got; link != want {
			t.Fatalf("delivered %.50q, want %.50q", link, want)
		}
	}
	if _, err := Listen(home, func(string) {}); !errors.Is(err, ErrListening) {
		t.Fatalf("a second listener: %v", err)
	}
	// A link that does not check is refused before it is sent.
	if err := Send(t.Context(), home, g[:60]); !errors.Is(err, ErrDamaged) {
		t.Fatalf("a cut link: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(home, SocketName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket outlives the app: %v", err)
	}
	if err := Send(t.Context(), home, g); !errors.Is(err, ErrNoApp) {
		t.Fatalf("Send with no app: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("%d links delivered more", len(got))
	}
}

// TestStaleSocket: the socket of an app that crashed is replaced.
func TestStaleSocket(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, SocketName)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if err := Send(t.Context(), home, grantLink(t)); !errors.Is(err, ErrNoApp) {
		t.Fatalf("Send to a dead socket: %v", err)
	}
	got := make(chan string, 1)
	l, err := Listen(home, func(link string) { got <- link })
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer l.Close()
	if err := Send(t.Context(), home, bundleLink); err != nil || <-got != bundleLink {
		t.Fatalf("Send: %v", err)
	}

	// A file that is no socket is left alone.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, SocketName), []byte("patient notes, not a socket"), 0o600)
	if _, err := Listen(other, func(string) {}); err == nil || !strings.Contains(err.Error(), "not the app's socket") {
		t.Fatalf("Listen over a file: %v", err)
	}
}

// exchange writes raw bytes to the app and returns its reply.
func exchange(t *testing.T, home string, req []byte) string {
	t.Helper()
	c, err := net.Dial("unix", filepath.Join(home, SocketName))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		c.Write(req)
		c.(*net.UnixConn).CloseWrite()
	}()
	reply, _ := io.ReadAll(c)
	return string(reply)
}

// TestBadRequests: what is not a request gets one error line, and nothing
// reaches the app; an endless line is cut at MaxRequest.
func TestBadRequests(t *testing.T) {
	home, got, _ := listen(t)
	g := grantLink(t)
	for name, req := range map[string][]byte{
		"no verb":       []byte(g + "\n"),
		"other verb":    []byte("redeem " + g + "\n"),
		"no newline":    []byte("open " + g),
		"control byte":  []byte("open " + g[:30] + "\x1b" + g[30:] + "\n"),
		"space in link": []byte("open " + g[:30] + " " + g[30:] + "\n"),
		"cut link":      []byte("open " + g[:60] + "\n"),
		"not a link":    []byte("open https://example.org/menu\n"),
		"endless":       bytes.Repeat([]byte("A"), 2*MaxRequest),
	} {
		reply := exchange(t, home, req)
		if !strings.HasPrefix(reply, "error ") || !strings.HasSuffix(reply, "\n") || strings.Count(reply, "\n") != 1 || len(reply) > maxReply {
			t.Errorf("%s: reply %q", name, reply)
		}
	}
	if reply := exchange(t, home, EncodeRequest(g)); reply != "ok\n" {
		t.Fatalf("a good request after bad ones: %q", reply)
	}
	if link := <-got; link != g || len(got) != 0 {
		t.Fatalf("delivered %.50q and %d more", link, len(got))
	}
}

func TestPathTooLong(t *testing.T) {
	home := filepath.Join(t.TempDir(), strings.Repeat("h", 120))
	if _, err := Listen(home, func(string) {}); !errors.Is(err, ErrPathTooLong) {
		t.Fatalf("Listen: %v", err)
	}
	if err := Send(t.Context(), home, bundleLink); !errors.Is(err, ErrPathTooLong) {
		t.Fatalf("Send: %v", err)
	}
}

// FuzzDecodeRequest: no line makes DecodeRequest panic; a link it accepts
// is normalized, fits the bound and survives a round trip.
func FuzzDecodeRequest(f *testing.F) {
	f.Add(EncodeRequest(grantLink(f)))
	f.Add(EncodeRequest(healthLink(f, "https://viewer.example.org/view")))
	f.Add(EncodeRequest(bundleLink))
	f.Add([]byte("open \n"))
	f.Add([]byte("open healthwallet:grant/\n"))
	f.Fuzz(func(t *testing.T, line []byte) {
		link, err := DecodeRequest(line)
		if err != nil {
			return
		}
		if n, _, err := Normalize(link); err != nil || n != link || len(link) > MaxLink {
			t.Fatalf("accepted %.50q: normalized %.50q, %v", link, n, err)
		}
		if again, err := DecodeRequest(EncodeRequest(link)); err != nil || again != link {
			t.Fatalf("round trip: %.50q, %v", again, err)
		}
	})
}
