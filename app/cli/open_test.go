package cli

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/healthwallet/healthwallet/app/handoff"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/shl"
)

// testSHL is a well-formed SMART Health Link, behind viewer unless "".
func testSHL(t *testing.T, viewer string) string {
	t.Helper()
	p := shl.Payload{URL: "https://keeper.example.org/shl/manifest-abcdefgh", Key: base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)), Label: "Labs for Dr Okafor"}
	link, err := p.Link(viewer)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// openApp is an Env whose app records the home and link it was opened
// with.
func openApp(got *[2]string) (Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" },
		OpenAppWithLink: func(home, link string) error { got[0], got[1] = home, link; return nil }}, &out, &errOut
}

// TestOpenHandsLinkToApp: `open LINK` and `LINK` (the desktop's URL
// handler) put the link in the redeem screen of the app open on the
// wallet; the app is not started again.
func TestOpenHandsLinkToApp(t *testing.T) {
	home := t.TempDir()
	delivered := make(chan string, 4)
	l, err := handoff.Listen(home, func(link string) { delivered <- link })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	bare := testSHL(t, "")
	bundle := grant.BundlePrefix + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte("sealed pointer "), 8))
	for _, args := range [][]string{
		{"--home", home, "open", bundle},
		{"--home", home, bare},
		{"--home", home, testSHL(t, "https://viewer.example.org/view")},
		{"open", "--home", home, bare},
	} {
		var started [2]string
		env, out, errOut := openApp(&started)
		if code := Main(args, env); code != 0 || errOut.Len() != 0 || !strings.Contains(out.String(), "is open in Health Wallet") {
			t.Fatalf("%q: exit %d, %q %q", args[2], code, out, errOut)
		}
		want := args[len(args)-1]
		if strings.Contains(want, "#") {
			want = bare
		}
		if got := <-delivered; got != want || started[1] != "" {
			t.Fatalf("delivered %.40q (want %.40q); app started with %.40q", got, want, started[1])
		}
	}
}

// TestOpenStartsApp: with no app open on the wallet, `open` starts one
// with the link.
func TestOpenStartsApp(t *testing.T) {
	home := filepath.Join(t.TempDir(), "w")
	bare := testSHL(t, "")
	var started [2]string
	env, _, errOut := openApp(&started)
	if code := Main([]string{"--home", home, "https://viewer.example.org/view#" + bare[:8] + "\n" + bare[8:]}, env); code != 0 || started != [2]string{home, bare} {
		t.Fatalf("exit %d (%s): app opened with %q", code, errOut, started)
	}
	// A build without the app says what to run instead.
	r := run(t, "", nil, "--home", home, "open", bare)
	if r.code != ExitError || r.stderr != "healthwallet: this build has no app; open the link with 'healthwallet shl open LINK'\n" {
		t.Fatalf("no app: %+v", r)
	}
}

// TestOpenRefuses: what is no link, or is cut off, fails with one line
// and opens nothing.
func TestOpenRefuses(t *testing.T) {
	home := t.TempDir()
	bare := testSHL(t, "")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"open", "https://example.org/menu-of-the-day"}, ExitError, "not a Health Wallet grant link or SMART Health Link"},
		{[]string{"open", bare[:len(bare)-30]}, ExitError, "the link looks cut off or damaged"},
		{[]string{"healthwallet:handover/AAAAAAAAAAAA"}, ExitError, "not a Health Wallet grant link"},
		{[]string{"open"}, ExitUsage, "give one link; usage: healthwallet [--home DIR] open LINK"},
		{[]string{"open", bare, bare}, ExitUsage, "give one link"},
	} {
		var started [2]string
		env, _, errOut := openApp(&started)
		code := Main(append([]string{"--home", home}, c.args...), env)
		if code != c.code || !strings.HasPrefix(errOut.String(), "healthwallet: ") || !strings.Contains(errOut.String(), c.want) || strings.Count(errOut.String(), "\n") != 1 || started[1] != "" {
			t.Errorf("%.50q: exit %d, %q, app opened with %.30q", c.args, code, errOut, started[1])
		}
	}
}

// TestDesktopEntry: the desktop entry `make package` ships makes the app
// the handler of healthwallet: and shlink: links, and what it runs for a
// link (Exec, %u replaced by the link) hands the link on; without a link
// it opens the app.
func TestDesktopEntry(t *testing.T) {
	b, err := os.ReadFile("../../assets/healthwallet.desktop")
	if err != nil {
		t.Fatal(err)
	}
	entry := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			entry[k] = v
		}
	}
	mime := strings.Split(strings.TrimSuffix(entry["MimeType"], ";"), ";")
	if !slices.Contains(mime, "x-scheme-handler/healthwallet") || !slices.Contains(mime, "x-scheme-handler/shlink") {
		t.Fatalf("MimeType=%s", entry["MimeType"])
	}
	exec := strings.Fields(entry["Exec"])
	if len(exec) != 2 || exec[0] != "healthwallet" || exec[1] != "%u" || entry["Type"] != "Application" || entry["Name"] != "Health Wallet" {
		t.Fatalf("entry %q", entry)
	}
	home := t.TempDir()
	bare := testSHL(t, "")
	for _, arg := range []string{bare, ""} {
		var started [2]string
		env, _, errOut := openApp(&started)
		var opened string
		env.OpenApp = func(h string) error { opened = h; return nil }
		env.Getenv = func(k string) string { return map[string]string{"HW_HOME": home}[k] }
		args := strings.Fields(strings.Replace(entry["Exec"], "%u", arg, 1))[1:]
		if code := Main(args, env); code != 0 {
			t.Fatalf("%q: exit %d, %s", args, code, errOut)
		}
		if arg != "" && started != [2]string{home, bare} || arg == "" && opened != home {
			t.Fatalf("%q: app opened on %q, with %.30q", args, opened, started)
		}
	}
}
