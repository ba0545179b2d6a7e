package keep

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/ipfs"
)

func key(b byte) *secp256k1.PrivateKey {
	return secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{b}, 32))
}

func node(t *testing.T, seed byte) *ipfs.Node {
	t.Helper()
	s, err := ipfs.OpenStore(t.TempDir(), ipfs.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ipfs.PeerKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	n, err := ipfs.StartNode(context.Background(), s, ipfs.NodeConfig{Key: k})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(); s.Close() })
	return n
}

// memStore is a keep.Store over an ipfs.Store with the rest in memory (the
// wallet's is over its catalog; this one tests the protocol alone).
type memStore struct {
	store    *ipfs.Store
	mu       sync.Mutex
	peers    map[peer.ID]common.Address
	held     map[common.Address][]Item
	accessed map[common.Address][]AccessRecord
}

func (m *memStore) Patient(p peer.ID) (common.Address, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.peers[p]
	return a, ok
}
func (m *memStore) Enrol(_ context.Context, e Enrolment) error {
	m.mu.Lock()
	m.peers[e.PatientPeer] = e.Patient
	m.mu.Unlock()
	return nil
}
func (m *memStore) Put(ctx context.Context, p common.Address, items []Item, car io.Reader) error {
	if _, err := m.store.ImportCAR(ctx, car); err != nil {
		return err
	}
	for _, it := range items {
		c, _ := it.CID()
		if ok, _ := m.store.Has(ctx, c); !ok {
			return errors.New("incomplete")
		}
	}
	m.mu.Lock()
	m.held[p] = append(m.held[p], items...)
	m.mu.Unlock()
	return nil
}
func (m *memStore) Held(_ context.Context, p common.Address) ([]Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.held[p], nil
}
func (m *memStore) Drop(_ context.Context, p common.Address, roots []cid.Cid) error { return nil }
func (m *memStore) Remove(_ context.Context, p common.Address) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.held, p)
	for q, a := range m.peers {
		if a == p {
			delete(m.peers, q)
		}
	}
	return nil
}
func (m *memStore) Access(_ context.Context, p common.Address, after uint64, max int) ([]AccessRecord, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []AccessRecord
	for _, r := range m.accessed[p] {
		if r.Seq > after {
			out = append(out, r)
		}
	}
	if len(out) > max {
		return out[:max], true, nil
	}
	return out, false, nil
}
func (m *memStore) LastSeq(_ context.Context, p common.Address) (uint64, error) {
	return uint64(len(m.accessed[p])), nil
}

// TestProtocol: enrolment is checked against the signer, the keeper and the
// authenticated peer; only an enrolled peer may put, and a put whose CAR
// does not hold the DAG it names is refused; access pages.
func TestProtocol(t *testing.T) {
	ctx := context.Background()
	keeper, patientNode, other := node(t, 1), node(t, 2), node(t, 3)
	ms := &memStore{store: keeper.Store(), peers: map[peer.ID]common.Address{}, held: map[common.Address][]Item{}, accessed: map[common.Address][]AccessRecord{}}
	NewServer(keeper.Host(), ms)
	ka := peer.AddrInfo{ID: keeper.ID(), Addrs: keeper.Host().Addrs()}
	pc := &Client{Host: patientNode.Host(), Keeper: ka}
	oc := &Client{Host: other.Host(), Keeper: ka}

	content := strings.Repeat("ciphertext stand-in ", 100000)
	ref, err := patientNode.Store().Import(ctx, strings.NewReader(content), int64(len(content)), nil)
	if err != nil {
		t.Fatal(err)
	}
	items := []Item{{Root: ref.Root.String(), Expires: time.Now().Add(time.Hour).Unix()}}
	car := func(w io.Writer) error { return patientNode.Store().ExportCAR(ctx, w, ref.Root) }

	if err := pc.Put(ctx, items, car); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("put before enrolling: %v", err)
	}
	e, err := NewEnrolment(key(9), patientNode.ID(), keeper.ID(), 1700000000)
	if err != nil {
		t.Fatal(err)
	}
	// Another peer presenting the patient's enrolment is refused.
	if err := oc.Enrol(ctx, e); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "came from") {
		t.Fatalf("replayed enrolment: %v", err)
	}
	// A forged signature (another patient's address) is refused.
	forged := e
	forged.Patient = common.HexToAddress("0x00000000000000000000000000000000000000aa")
	if err := pc.Enrol(ctx, forged); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "signed by") {
		t.Fatalf("forged enrolment: %v", err)
	}
	wrongKeeper, _ := NewEnrolment(key(9), patientNode.ID(), other.ID(), 1700000000)
	if err := pc.Enrol(ctx, wrongKeeper); !errors.Is(err, ErrRefused) {
		t.Fatalf("enrolment for another keeper: %v", err)
	}
	if err := pc.Enrol(ctx, e); err != nil {
		t.Fatal(err)
	}
	// A CAR missing blocks of the root it names is refused.
	bad := func(w io.Writer) error {
		var buf bytes.Buffer
		if err := car(&buf); err != nil {
			return err
		}
		_, err := w.Write(buf.Bytes()[:buf.Len()/2])
		return err
	}
	if err := pc.Put(ctx, items, bad); !errors.Is(err, ErrRefused) {
		t.Fatalf("truncated CAR: %v", err)
	}
	if err := pc.Put(ctx, items, car); err != nil {
		t.Fatal(err)
	}
	held, err := pc.Have(ctx)
	if err != nil || len(held) != 1 || held[0] != items[0] {
		t.Fatalf("have: %+v %v", held, err)
	}
	if _, err := oc.Have(ctx); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("stranger's have: %v", err)
	}
	// Access pages through more than one response.
	patient := e.Patient
	for i := range MaxRecords + 5 {
		ms.accessed[patient] = append(ms.accessed[patient], AccessRecord{Seq: uint64(i + 1), Entry: json.RawMessage(`{}`)})
	}
	recs, err := pc.Access(ctx, 3)
	if err != nil || len(recs) != MaxRecords+2 || recs[0].Seq != 4 {
		t.Fatalf("access: %d records, %v", len(recs), err)
	}
	st, err := pc.Status(ctx)
	if err != nil || st.Held != 1 || st.LastSeq != MaxRecords+5 || st.Patient != patient.Hex() {
		t.Fatalf("status %+v %v", st, err)
	}
	if err := pc.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Have(ctx); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("have after remove: %v", err)
	}
}

// FuzzReadRequest: no input panics the request decoder or gets past it
// breaking a bound.
func FuzzReadRequest(f *testing.F) {
	e, _ := NewEnrolment(key(9), "12D3KooWA", "12D3KooWB", 1)
	for _, req := range []Request{
		{Verb: VerbEnrol, Enrolment: &e},
		{Verb: VerbPut, Items: []Item{{Root: "bafkqaaa", Expires: 5}}},
		{Verb: VerbDrop, Roots: []string{"bafkqaaa"}},
		{Verb: VerbAccess, After: 7},
		{Verb: VerbStatus},
		{Verb: VerbSHL, SHL: with(func(*SHLEntry) {})},
		{Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.Flags, e.PasscodeHash = "U", "" })},
		{Verb: VerbLive, Live: withLive(func(*LiveRecord) {})},
	} {
		var buf bytes.Buffer
		writeFrame(&buf, req)
		f.Add(buf.Bytes())
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := ReadRequest(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if len(req.Items) > MaxItems || len(req.Roots) > MaxItems || (req.Verb == VerbEnrol && req.Enrolment == nil) {
			t.Fatalf("accepted %+v", req)
		}
		if req.Verb == VerbSHL {
			if req.SHL == nil || len(req.SHL.Files) > MaxSHLFiles || len(req.SHL.ID) > maxSHLID {
				t.Fatalf("accepted %+v", req)
			}
			if _, err := req.SHL.CIDs(); err != nil {
				t.Fatal(err)
			}
		}
		if req.Verb == VerbLive && (req.Live == nil || len(req.Live.Record) > MaxLiveRec || len(req.Live.Envelope) > MaxEnvelope) {
			t.Fatalf("accepted %+v", req)
		}
		for _, it := range req.Items {
			if _, err := it.CID(); err != nil {
				t.Fatal(err)
			}
		}
		if req.Enrolment != nil {
			req.Enrolment.Verify("x", "y") // must not panic
		}
	})
}

// FuzzReadResponse: no input panics the response decoder or gets past it
// breaking a bound.
func FuzzReadResponse(f *testing.F) {
	for _, resp := range []Response{
		{},
		{Code: codeNotEnrolled, Error: "no"},
		{Items: []Item{{Root: "bafkqaaa", Expires: 1}}},
		{Records: []AccessRecord{{Seq: 1, Entry: json.RawMessage(`{"granted":true}`)}}, More: true},
		{Status: &Status{Patient: "0x01", Held: 2, LastSeq: 3}},
		{Status: &Status{Patient: "0x01", SHLURL: "https://keeper.example"}},
		{Code: codeUnsupported, Error: "it serves no SMART Health Links"},
	} {
		var buf bytes.Buffer
		writeFrame(&buf, resp)
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, err := ReadResponse(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if len(resp.Items) > MaxItems || len(resp.Records) > MaxRecords || len(resp.Error) > maxText {
			t.Fatalf("accepted %d items, %d records", len(resp.Items), len(resp.Records))
		}
		for _, r := range resp.Records {
			if r.Seq == 0 || len(r.Entry) > MaxRecord || !json.Valid(r.Entry) {
				t.Fatalf("accepted record %+v", r)
			}
		}
		_ = resp.err()
	})
}
