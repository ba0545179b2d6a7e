package ipfs

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// patternReader streams n bytes of pattern() without holding them.
type patternReader struct{ off, n int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n-r.off {
		p = p[:r.n-r.off]
	}
	for i := range p {
		p[i] = byte((r.off + int64(i)) % 251)
	}
	r.off += int64(len(p))
	return len(p), nil
}

// peakRSS returns the process's peak resident set (VmHWM) in bytes.
func peakRSS() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}

// rssResult is what a child prints.
type rssResult struct {
	Ref    json.RawMessage `json:"ref,omitempty"`
	SHA256 string          `json:"sha256,omitempty"`
	Peak   int64           `json:"peak"`
}

// TestRSSChild is the child half of measureRSS: HW_RSS_MODE=import|export.
func TestRSSChild(t *testing.T) {
	mode, dir := os.Getenv("HW_RSS_MODE"), os.Getenv("HW_RSS_DIR")
	if mode == "" {
		t.Skip("child process of TestStreamingMemory and BenchmarkPeakRSS")
	}
	s, err := OpenStore(dir, StoreOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var res rssResult
	switch mode {
	case "import":
		n, _ := strconv.ParseInt(os.Getenv("HW_RSS_SIZE"), 10, 64)
		ref, err := s.Import(ctx, &patternReader{n: n}, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Ref, _ = json.Marshal(ref)
	case "import-plain":
		n, _ := strconv.ParseInt(os.Getenv("HW_RSS_SIZE"), 10, 64)
		if _, err := s.ImportPlain(ctx, &patternReader{n: n}, nil); err != nil {
			t.Fatal(err)
		}
	case "export":
		var ref ObjectRef
		if err := json.Unmarshal([]byte(os.Getenv("HW_RSS_REF")), &ref); err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if err := s.Export(ctx, ref, h, nil); err != nil {
			t.Fatal(err)
		}
		res.SHA256 = hex.EncodeToString(h.Sum(nil))
	}
	res.Peak = peakRSS()
	if os.Getenv("HW_RSS_DEBUG") != "" {
		b, _ := os.ReadFile("/proc/self/status")
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "Rss") || strings.HasPrefix(l, "VmHWM") {
				fmt.Fprintln(os.Stderr, l)
			}
		}
	}
	b, _ := json.Marshal(res)
	fmt.Printf("RSS-RESULT %s\n", b)
}

// rssChild runs TestRSSChild with env over the store in dir.
func rssChild(t testing.TB, dir string, env ...string) rssResult {
	{
		cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), append(env, "HW_RSS_DIR="+dir)...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var res rssResult
		found := false
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "RSS-RESULT "); ok {
				json.Unmarshal([]byte(rest), &res)
				found = true
			}
		}
		if err := cmd.Wait(); err != nil || !found {
			t.Fatalf("child %v: %v %s", env, err, stderr.String())
		}
		return res
	}
}

// measureRSS runs import then export of size bytes in fresh child processes
// and returns their peak RSS, checking the exported bytes.
func measureRSS(t testing.TB, size int64) (importPeak, exportPeak int64) {
	dir := t.TempDir()
	imp := rssChild(t, dir, "HW_RSS_MODE=import", fmt.Sprintf("HW_RSS_SIZE=%d", size))
	exp := rssChild(t, dir, "HW_RSS_MODE=export", "HW_RSS_REF="+string(imp.Ref))
	h := sha256.New()
	io.Copy(h, &patternReader{n: size})
	if want := hex.EncodeToString(h.Sum(nil)); exp.SHA256 != want {
		t.Fatalf("exported sha256 %s, want %s", exp.SHA256, want)
	}
	return imp.Peak, exp.Peak
}

// TestStreamingMemory imports and exports 1 GiB in child processes and
// checks both stay within 64 MiB of peak RSS. HW_RSS_SIZE_MIB overrides the
// size (e.g. for a quick local run).
func TestStreamingMemory(t *testing.T) {
	if os.Getenv("HW_RSS_MODE") != "" {
		t.Skip("inside the child")
	}
	size := int64(1 << 30)
	if s := os.Getenv("HW_RSS_SIZE_MIB"); s != "" {
		mib, _ := strconv.ParseInt(s, 10, 64)
		size = mib << 20
	}
	imp, exp := measureRSS(t, size)
	t.Logf("%d MiB: peak RSS import %.1f MiB, export %.1f MiB", size>>20, float64(imp)/(1<<20), float64(exp)/(1<<20))
	const limit = 64 << 20
	if imp > limit || exp > limit {
		t.Fatalf("peak RSS import %d, export %d bytes: over the 64 MiB budget", imp, exp)
	}
}
