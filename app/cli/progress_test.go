package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/wallet"
)

// cancelOnProgress is a stderr that cancels the command's context at the
// first progress line, as Ctrl-C (or a dropped provider) would mid-way.
type cancelOnProgress struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cancel context.CancelFunc
}

func (w *cancelOnProgress) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bytes.Contains(p, []byte("%")) {
		w.cancel()
	}
	return w.buf.Write(p)
}

// TestProgressLineEndsBeforeError stops an import of a 3 MiB PDF after its
// first progress line: the error starts a line of its own instead of
// being written onto "report.pdf:  33% (…)".
func TestProgressLineEndsBeforeError(t *testing.T) {
	home := newHome(t)
	pdf := filepath.Join(t.TempDir(), "report.pdf")
	body := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("discharge letter, page 1\n"), 3<<20/25)...)
	if err := os.WriteFile(pdf, body, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelOnProgress{cancel: cancel}
	code := Main([]string{"--home", home, "import", pdf}, Env{
		Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: stderr, Context: ctx,
		Getenv:  func(k string) string { return passEnv[k] },
		Options: wallet.Options{WorkFactor: 10, Now: testclock.Now},
	})
	out := stderr.buf.String()
	if code != ExitError || !strings.Contains(out, "report.pdf: ") || !strings.Contains(out, "healthwallet: ") {
		t.Fatalf("import stopped mid-way: exit %d, stderr %q", code, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "%") && strings.Contains(l, "healthwallet:") {
			t.Fatalf("the error is printed on the progress line: %q", l)
		}
	}
}
