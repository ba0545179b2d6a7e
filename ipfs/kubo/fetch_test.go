package kubo

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"

	"github.com/healthwallet/healthwallet/ipfs"
)

// secrets are the plaintext needles of testDoc.
var secrets = []string{"Hemoglobin A1c", "Amoxicillin 500 mg", "Jane Q. Example", "HIV-1 RNA viral load"}

// testDoc is recognisable health text of about 2.9 MB: its object is a
// dag-pb root over several 1 MiB ciphertext leaves.
func testDoc() []byte {
	return []byte(strings.Repeat(strings.Join(secrets, " | ")+"\n", 50000))
}

func openStore(t testing.TB) *ipfs.Store {
	t.Helper()
	s, err := ipfs.OpenStore(t.TempDir(), ipfs.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// importDoc stores testDoc encrypted and returns its reference.
func importDoc(t testing.TB, s *ipfs.Store) (ipfs.ObjectRef, []byte) {
	t.Helper()
	doc := testDoc()
	ref, err := s.Import(context.Background(), bytes.NewReader(doc), int64(len(doc)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return ref, doc
}

// exportObject decrypts ref from s.
func exportObject(t testing.TB, s *ipfs.Store, ref ipfs.ObjectRef) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	err := s.Export(context.Background(), ref, &buf, nil)
	return buf.Bytes(), err
}

// block is one block of a CAR.
type block struct {
	cid  cid.Cid
	data []byte
}

// carOf exports the DAG under root and returns the CAR and its blocks in
// order.
func carOf(t testing.TB, s *ipfs.Store, root cid.Cid) ([]byte, []block) {
	t.Helper()
	var car bytes.Buffer
	if err := s.ExportCAR(context.Background(), &car, root); err != nil {
		t.Fatal(err)
	}
	br, err := carv2.NewBlockReader(bytes.NewReader(car.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []block
	for {
		b, err := br.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, block{b.Cid(), b.RawData()})
	}
	return car.Bytes(), blocks
}

// section is a CARv1 section: varint length, CID, data.
func section(c cid.Cid, data []byte) []byte {
	out := binary.AppendUvarint(nil, uint64(len(c.Bytes())+len(data)))
	return append(append(out, c.Bytes()...), data...)
}

// fakeGateway serves raw blocks from blocks and the whole DAG as car, the
// way a trustless gateway does, whatever they contain.
func fakeGateway(t *testing.T, car []byte, blocks []block) string {
	t.Helper()
	byCID := map[string][]byte{}
	for _, b := range blocks {
		byCID[b.cid.String()] = b.data
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := strings.CutPrefix(r.URL.Path, "/ipfs/")
		switch {
		case !ok:
			http.NotFound(w, r)
		case r.URL.Query().Get("format") == "car":
			w.Header().Set("Content-Type", "application/vnd.ipld.car; version=1")
			w.Write(car)
		case r.URL.Query().Get("format") == "raw" && byCID[c] != nil:
			w.Header().Set("Content-Type", "application/vnd.ipld.raw")
			w.Write(byCID[c])
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// fetchFrom fetches ref from the gateway at url into a fresh store in mode
// and decrypts it.
func fetchFrom(t *testing.T, url string, mode Mode, ref ipfs.ObjectRef) ([]byte, *ipfs.Store, error) {
	t.Helper()
	f, err := NewFetcher(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Mode = mode
	into := openStore(t)
	if err := f.Fetch(context.Background(), ref.Root, into); err != nil {
		return nil, into, err
	}
	got, err := exportObject(t, into, ref)
	return got, into, err
}

var modes = map[string]Mode{"car": ModeCAR, "blocks": ModeBlocks}

// TestFetchFromHonestGateway: the fake gateway's honest answers fetch and
// decrypt, so the refusals below are down to the damage alone.
func TestFetchFromHonestGateway(t *testing.T) {
	s := openStore(t)
	ref, doc := importDoc(t, s)
	car, blocks := carOf(t, s, ref.Root)
	if len(blocks) < 4 || blocks[0].cid != ref.Root {
		t.Fatalf("%d blocks, want the root first and three or more leaves", len(blocks))
	}
	url := fakeGateway(t, car, blocks)
	for name, mode := range modes {
		got, _, err := fetchFrom(t, url, mode, ref)
		if err != nil || !bytes.Equal(got, doc) {
			t.Fatalf("%s: %v (%d bytes, want %d)", name, err, len(got), len(doc))
		}
	}
}

// TestFetchRefusesWrongBlocks: a replica that serves a damaged block, a
// block foreign to the DAG, or a DAG with a block missing is refused with
// ErrBadBlock or ErrIncomplete, and the object does not land in the store.
func TestFetchRefusesWrongBlocks(t *testing.T) {
	s := openStore(t)
	ref, _ := importDoc(t, s)
	car, blocks := carOf(t, s, ref.Root)
	leaf := blocks[2]
	flipped := bytes.Clone(leaf.data)
	flipped[len(flipped)/2] ^= 0x01

	// Another object's block: hashes right, belongs elsewhere.
	otherRef, _ := importDoc(t, s)
	_, other := carOf(t, s, otherRef.Root)
	foreign := other[1]

	at := bytes.Index(car, leaf.data)
	if at < 0 {
		t.Fatal("leaf not found in the CAR")
	}
	damagedCAR := bytes.Clone(car)
	damagedCAR[at+len(leaf.data)/2] ^= 0x01

	last := blocks[len(blocks)-1]
	truncatedCAR := car[:len(car)-len(section(last.cid, last.data))]
	if !bytes.HasSuffix(car, section(last.cid, last.data)) {
		t.Fatal("the CAR does not end with its last block")
	}

	// The root, then a foreign block where the first leaf should be.
	foreignCAR := bytes.Clone(car[:bytes.Index(car, blocks[0].data)+len(blocks[0].data)])
	foreignCAR = append(foreignCAR, section(foreign.cid, foreign.data)...)

	swap := func(replace block) []block {
		out := make([]block, len(blocks))
		for i, b := range blocks {
			out[i] = b
			if b.cid == replace.cid {
				out[i] = replace
			}
		}
		return out
	}
	withoutLast := blocks[:len(blocks)-1]

	cases := []struct {
		name   string
		mode   Mode
		car    []byte
		blocks []block
		want   error
	}{
		{"car: flipped byte in a leaf", ModeCAR, damagedCAR, blocks, ErrBadBlock},
		{"car: foreign block", ModeCAR, foreignCAR, blocks, ErrBadBlock},
		{"car: last block missing", ModeCAR, truncatedCAR, blocks, ErrIncomplete},
		{"car: cut inside a block", ModeCAR, car[:at+100], blocks, ErrIncomplete},
		{"blocks: flipped byte in a leaf", ModeBlocks, car, swap(block{leaf.cid, flipped}), ErrBadBlock},
		{"blocks: leaf missing", ModeBlocks, car, withoutLast, ipfs.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := fakeGateway(t, tc.car, tc.blocks)
			_, into, err := fetchFrom(t, url, tc.mode, ref)
			if !errors.Is(err, tc.want) {
				t.Fatalf("fetch: %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), url) {
				t.Fatalf("error does not name the gateway %s: %v", url, err)
			}
			if ok, _ := into.Has(context.Background(), ref.Root); ok {
				t.Fatal("the refused DAG is in the store")
			}
			if _, err := exportObject(t, into, ref); !errors.Is(err, ipfs.ErrNotFound) {
				t.Fatalf("export after a refused fetch: %v, want ErrNotFound", err)
			}
		})
	}
}

// TestBlockVerifies: Block returns a block only if it hashes to its CID.
func TestBlockVerifies(t *testing.T) {
	s := openStore(t)
	ref, _ := importDoc(t, s)
	car, blocks := carOf(t, s, ref.Root)
	leaf := blocks[1]
	f, _ := NewFetcher(fakeGateway(t, car, blocks), nil)
	got, err := f.Block(context.Background(), leaf.cid)
	if err != nil || !bytes.Equal(got, leaf.data) {
		t.Fatalf("honest block: %v", err)
	}
	wrong := []block{{leaf.cid, blocks[2].data}}
	f, _ = NewFetcher(fakeGateway(t, car, wrong), nil)
	if _, err := f.Block(context.Background(), leaf.cid); !errors.Is(err, ErrBadBlock) {
		t.Fatalf("another block's bytes: %v, want ErrBadBlock", err)
	}
}

func TestBadURLs(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:5001", "ftp://host/", "http://", "http://h/?x=1", "/ip4/127.0.0.1/tcp/5001"} {
		if _, err := NewClient(u, nil); !errors.Is(err, ErrBadURL) {
			t.Errorf("NewClient(%q): %v, want ErrBadURL", u, err)
		}
		if _, err := NewFetcher(u, nil); !errors.Is(err, ErrBadURL) {
			t.Errorf("NewFetcher(%q): %v, want ErrBadURL", u, err)
		}
	}
	c, err := NewClient("http://127.0.0.1:5001/", nil)
	if err != nil || c.URL() != "http://127.0.0.1:5001" {
		t.Fatalf("NewClient: %v %v", c, err)
	}
}
