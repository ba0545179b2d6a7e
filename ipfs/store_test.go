package ipfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/healthwallet/healthwallet/internal/plaintext"
)

// pattern returns n deterministic bytes: byte i = i % 251.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func openTestStore(t testing.TB) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := OpenStore(dir, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func exportBytes(t testing.TB, s *Store, ref ObjectRef) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	err := s.Export(context.Background(), ref, &buf, nil)
	return buf.Bytes(), err
}

func TestImportExportRoundTrip(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	first := SegmentSize - headerLen - 16 - lengthPrefix // content that exactly fills segment 0
	for _, n := range []int{0, 1, 1000, first - 1, first, first + 1, ChunkSize, 3*ChunkSize + 7} {
		data := pattern(n)
		ref, err := s.Import(ctx, bytes.NewReader(data), int64(n), nil)
		if err != nil {
			t.Fatalf("import %d bytes: %v", n, err)
		}
		if ref.Root.Prefix().Version != 1 {
			t.Fatalf("CIDv%d, want v1", ref.Root.Prefix().Version)
		}
		got, err := exportBytes(t, s, ref)
		if err != nil {
			t.Fatalf("export %d bytes: %v", n, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: round trip differs (got %d bytes)", n, len(got))
		}
		var sealed bytes.Buffer
		if err := s.ExportPlain(ctx, ref.Root, &sealed); err != nil {
			t.Fatal(err)
		}
		if int64(sealed.Len()) != CiphertextSize(int64(n)) {
			t.Fatalf("%d bytes: ciphertext %d bytes, CiphertextSize says %d", n, sealed.Len(), CiphertextSize(int64(n)))
		}
		if ok, err := s.Has(ctx, ref.Root); !ok || err != nil {
			t.Fatalf("Has = %v, %v", ok, err)
		}
	}
}

func TestImportRefusesWrongSize(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	if _, err := s.Import(ctx, bytes.NewReader(pattern(10)), 11, nil); err == nil || !strings.Contains(err.Error(), "ended after 10 of 11") {
		t.Fatalf("short content: %v", err)
	}
	if _, err := s.Import(ctx, bytes.NewReader(pattern(12)), 11, nil); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("long content: %v", err)
	}
}

func TestPaddingHidesExactSize(t *testing.T) {
	// Sizes in one Padmé bucket give identical ciphertext sizes.
	if PaddedSize(0) != MinPadded || PaddedSize(900) != MinPadded {
		t.Fatalf("small objects: %d %d, want %d", PaddedSize(0), PaddedSize(900), MinPadded)
	}
	if PaddedSize(5000) != PaddedSize(5050) {
		t.Fatalf("5000 → %d, 5050 → %d: same bucket expected", PaddedSize(5000), PaddedSize(5050))
	}
	for _, n := range []int64{0, 1, 1016, 1017, 5000, 1 << 20, 10<<20 + 3, 1 << 30} {
		p := PaddedSize(n)
		if p < n+lengthPrefix {
			t.Fatalf("PaddedSize(%d) = %d < content", n, p)
		}
		if n > 4096 && float64(p) > 1.12*float64(n+lengthPrefix) {
			t.Fatalf("PaddedSize(%d) = %d: more than 12%% overhead", n, p)
		}
	}
}

// sealedStream returns the raw sealed bytes of data.
func sealedStream(t *testing.T, data []byte, id ObjectID, key []byte) []byte {
	t.Helper()
	r, err := sealReader(bytes.NewReader(data), int64(len(data)), id, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTamperingIsDetected stores manipulated ciphertexts under a valid
// reference's id and key: every manipulation fails with ErrTampered naming
// the object.
func TestTamperingIsDetected(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	data := pattern(3*ChunkSize + 100)
	id, key := NewKey()
	good := sealedStream(t, data, id, key)
	seg := func(i int) []byte { return good[i*SegmentSize : min((i+1)*SegmentSize, len(good))] }

	cases := map[string][]byte{
		"flipped byte":     func() []byte { b := bytes.Clone(good); b[SegmentSize+12345] ^= 0x40; return b }(),
		"flipped header":   func() []byte { b := bytes.Clone(good); b[5] ^= 1; return b }(),
		"reordered":        bytes.Join([][]byte{seg(0), seg(2), seg(1), seg(3)}, nil),
		"truncated":        good[:3*SegmentSize],
		"truncated inside": good[:len(good)-10],
		"segment dropped":  bytes.Join([][]byte{seg(0), seg(1), seg(3)}, nil),
		"extended":         append(bytes.Clone(good), seg(3)...),
	}
	for name, sealed := range cases {
		t.Run(name, func(t *testing.T) {
			root, err := s.importDAG(ctx, bytes.NewReader(sealed))
			if err != nil {
				t.Fatal(err)
			}
			ref := ObjectRef{Root: root, ID: id, Key: key, Size: int64(len(data))}
			_, err = exportBytes(t, s, ref)
			var oe *ObjectError
			if !errors.Is(err, ErrTampered) || !errors.As(err, &oe) {
				t.Fatalf("err = %v, want an ObjectError wrapping ErrTampered", err)
			}
			if !strings.Contains(err.Error(), root.String()) {
				t.Fatalf("error %q does not name the object", err)
			}
		})
	}

	// The genuine stream under another object's id does not open either.
	root, _ := s.importDAG(ctx, bytes.NewReader(good))
	otherID, _ := NewKey()
	if _, err := exportBytes(t, s, ObjectRef{Root: root, ID: otherID, Key: key, Size: int64(len(data))}); !errors.Is(err, ErrTampered) {
		t.Fatalf("wrong object id: %v", err)
	}
	if got, err := exportBytes(t, s, ObjectRef{Root: root, ID: id, Key: key, Size: int64(len(data))}); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("genuine stream: %v", err)
	}
}

// TestFlippedBlockOnDisk damages a block file in flatfs.
func TestFlippedBlockOnDisk(t *testing.T) {
	s, dir := openTestStore(t)
	ctx := context.Background()
	ref, err := s.Import(ctx, bytes.NewReader(pattern(2*ChunkSize)), 2*ChunkSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.WalkDir(filepath.Join(dir, "blocks"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".data") {
			if fi, _ := d.Info(); fi.Size() >= ChunkSize {
				files = append(files, p)
			}
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no leaf block files found")
	}
	b, _ := os.ReadFile(files[0])
	b[len(b)/2] ^= 1
	os.WriteFile(files[0], b, 0o600)
	if _, err := exportBytes(t, s, ref); !errors.Is(err, ErrTampered) {
		t.Fatalf("err = %v, want ErrTampered", err)
	}
}

func TestProgress(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	n := int64(5*ChunkSize + 3)
	var calls []int64
	ref, err := s.Import(ctx, bytes.NewReader(pattern(int(n))), n, func(done, total int64) {
		if total != n {
			t.Errorf("total %d, want %d", total, n)
		}
		calls = append(calls, done)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) < 5 || calls[len(calls)-1] != n {
		t.Fatalf("import progress %v: want ≥5 calls ending at %d", calls, n)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] <= calls[i-1] {
			t.Fatalf("progress not increasing: %v", calls)
		}
	}
	calls = nil
	if err := s.Export(ctx, ref, io.Discard, func(done, total int64) { calls = append(calls, done) }); err != nil {
		t.Fatal(err)
	}
	if len(calls) < 5 || calls[len(calls)-1] != n {
		t.Fatalf("export progress %v", calls)
	}
}

func TestCARRoundTrip(t *testing.T) {
	a, _ := openTestStore(t)
	b, _ := openTestStore(t)
	ctx := context.Background()
	r1, _ := a.Import(ctx, bytes.NewReader(pattern(2*ChunkSize+5)), 2*ChunkSize+5, nil)
	r2, _ := a.Import(ctx, bytes.NewReader([]byte("small")), 5, nil)
	var car bytes.Buffer
	if err := a.ExportCAR(ctx, &car, r1.Root, r2.Root); err != nil {
		t.Fatal(err)
	}
	roots, err := b.ImportCAR(ctx, bytes.NewReader(car.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) != 2 || roots[0] != r1.Root || roots[1] != r2.Root {
		t.Fatalf("roots %v", roots)
	}
	for _, ref := range []ObjectRef{r1, r2} {
		want, _ := exportBytes(t, a, ref)
		got, err := exportBytes(t, b, ref)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("object %s after CAR: %v", ref, err)
		}
	}

	c, _ := openTestStore(t)
	bad := bytes.Clone(car.Bytes())
	bad[len(bad)-3] ^= 1
	if _, err := c.ImportCAR(ctx, bytes.NewReader(bad)); !errors.Is(err, ErrBadCAR) {
		t.Fatalf("corrupted CAR: %v", err)
	}
	var partial bytes.Buffer
	a.ExportCAR(ctx, &partial, r1.Root)
	cut := partial.Bytes()[:partial.Len()-ChunkSize/2]
	if _, err := c.ImportCAR(ctx, bytes.NewReader(cut)); !errors.Is(err, ErrBadCAR) {
		t.Fatalf("truncated CAR: %v", err)
	}
	if _, err := c.ImportCAR(ctx, strings.NewReader("not a car")); !errors.Is(err, ErrBadCAR) {
		t.Fatalf("garbage: %v", err)
	}
}

func TestGC(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	keep, _ := s.Import(ctx, bytes.NewReader(pattern(2*ChunkSize)), 2*ChunkSize, nil)
	drop, _ := s.Import(ctx, bytes.NewReader(pattern(3*ChunkSize)), 3*ChunkSize, nil)
	shared1, _ := s.ImportPlain(ctx, bytes.NewReader(pattern(2*ChunkSize)), nil)
	shared2, _ := s.ImportPlain(ctx, bytes.NewReader(pattern(3*ChunkSize)), nil) // shares its first two leaves with shared1
	res, err := s.GC(ctx, []cid.Cid{keep.Root, shared1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Roots != 2 {
		t.Fatalf("dropped %d roots, want 2", res.Roots)
	}
	// drop: 4 leaves + 1 root; shared2: 1 own leaf + 1 root.
	if res.Blocks != 7 {
		t.Fatalf("deleted %d blocks, want 7", res.Blocks)
	}
	if ok, _ := s.Has(ctx, drop.Root); ok {
		t.Fatal("dropped object still stored")
	}
	if ok, _ := s.Has(ctx, shared2); ok {
		t.Fatal("dropped plain file still stored")
	}
	if _, err := exportBytes(t, s, keep); err != nil {
		t.Fatalf("kept object: %v", err)
	}
	var buf bytes.Buffer
	if err := s.ExportPlain(ctx, shared1, &buf); err != nil || !bytes.Equal(buf.Bytes(), pattern(2*ChunkSize)) {
		t.Fatalf("kept plain file damaged: %v", err)
	}
	if _, err := exportBytes(t, s, drop); !errors.Is(err, ErrNotFound) {
		t.Fatalf("export of collected object: %v, want ErrNotFound", err)
	}
}

// TestNoPlaintextInStore imports recognisable health text and scans every
// file under the store for it.
func TestNoPlaintextInStore(t *testing.T) {
	s, dir := openTestStore(t)
	ctx := context.Background()
	secrets := []string{"Hemoglobin A1c", "Amoxicillin 500 mg", "Jane Q. Example", "HIV-1 RNA viral load"}
	doc := strings.Repeat(strings.Join(secrets, " | ")+"\n", 50000) // ~2.9 MB, several segments
	if _, err := s.Import(ctx, strings.NewReader(doc), int64(len(doc)), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	hits, scanned, err := plaintext.ScanDir(dir, secrets...)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		t.Error(h)
	}
	if scanned < 4 {
		t.Fatalf("scanned only %d files", scanned)
	}
}

func TestObjectRefJSON(t *testing.T) {
	s, _ := openTestStore(t)
	ref, _ := s.Import(context.Background(), strings.NewReader("x"), 1, nil)
	b, err := ref.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back ObjectRef
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if back.Root != ref.Root || back.ID != ref.ID || !bytes.Equal(back.Key, ref.Key) || back.Size != ref.Size {
		t.Fatalf("round trip %+v vs %+v", back, ref)
	}
	if strings.Contains(ref.String(), string(ref.Key)) {
		t.Fatal("String() leaks the key")
	}
}

func FuzzObjectRefJSON(f *testing.F) {
	f.Add([]byte(`{"root":"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku","id":"00112233445566778899aabbccddeeff","key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","size":3}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r ObjectRef
		if err := r.UnmarshalJSON(b); err != nil {
			if !errors.Is(err, ErrBadRef) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if len(r.Key) != KeySize || !r.Root.Defined() {
			t.Fatalf("accepted invalid ref %+v", r)
		}
	})
}

// FuzzOpenSealed feeds arbitrary bytes to the decrypting reader.
func FuzzOpenSealed(f *testing.F) {
	id, key := NewKey()
	r, _ := sealReader(strings.NewReader("hello"), 5, id, key)
	good, _ := io.ReadAll(r)
	f.Add(good)
	f.Add(good[:50])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		content, _, err := openReader(bytes.NewReader(b), id, key)
		if err != nil {
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		out, err := io.ReadAll(content)
		if err == nil && !bytes.Equal(b, good) {
			t.Fatalf("forged stream opened: %q", out)
		}
	})
}

func TestImportBatch(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	var contents [][]byte
	for i := range 200 {
		contents = append(contents, []byte(strings.Repeat(string(rune('a'+i%26)), 100+i*7)))
	}
	contents = append(contents, pattern(3*ChunkSize+5), nil)
	refs, err := s.ImportBatch(ctx, contents)
	if err != nil {
		t.Fatal(err)
	}
	for i, ref := range refs {
		got, err := exportBytes(t, s, ref)
		if err != nil || !bytes.Equal(got, contents[i]) {
			t.Fatalf("object %d: %v", i, err)
		}
	}
	if n := len(s.Roots()); n != len(contents) {
		t.Fatalf("%d roots indexed, want %d", n, len(contents))
	}
	if _, err := s.ImportBatch(ctx, [][]byte{make([]byte, MaxBatchObject+1)}); err == nil {
		t.Fatal("oversized batch object accepted")
	}
}
