package keep

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// shlStore adds SMART Health Links and live records to memStore.
type shlStore struct {
	*memStore
	url   string
	smu   sync.Mutex
	shls  map[string]SHLEntry
	lives map[string]LiveRecord
}

func (s *shlStore) SHLURL() string { return s.url }
func (s *shlStore) PutSHL(ctx context.Context, p common.Address, e SHLEntry) error {
	held, _ := s.Held(ctx, p)
	for _, f := range e.Files {
		found := false
		for _, it := range held {
			found = found || it.Root == f.Root
		}
		if !found {
			return errors.New("root not held")
		}
	}
	s.smu.Lock()
	s.shls[e.ID] = e
	s.smu.Unlock()
	return nil
}
func (s *shlStore) PutLive(_ context.Context, _ common.Address, r LiveRecord) error {
	s.smu.Lock()
	s.lives[r.Grant] = r
	s.smu.Unlock()
	return nil
}

var (
	testSHLID = strings.Repeat("A", 43)
	testRevID = "0x" + strings.Repeat("ab", 32)
)

func testEntry(root string) SHLEntry {
	return SHLEntry{ID: testSHLID, Flags: "LP", Expires: 1700000000, RevocationID: testRevID, PasscodeHash: "$argon2id$x",
		Files: []SHLFile{{ContentType: "application/fhir+json", Root: root, LastUpdated: 1699999999}}}
}

func testLive() LiveRecord {
	return LiveRecord{Grant: testRevID, Name: "k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8", Record: []byte("record"), Envelope: []byte("envelope")}
}

// TestSHLAndLive: a keeper whose store serves SHLs takes an entry whose
// roots it holds, and reports its URL in status; one whose store does not
// says so with ErrUnsupported.
func TestSHLAndLive(t *testing.T) {
	ctx := context.Background()
	keeper, patientNode := node(t, 1), node(t, 2)
	ms := &memStore{store: keeper.Store(), peers: map[peer.ID]common.Address{}, held: map[common.Address][]Item{}, accessed: map[common.Address][]AccessRecord{}}
	ss := &shlStore{memStore: ms, url: "https://keeper.example", shls: map[string]SHLEntry{}, lives: map[string]LiveRecord{}}
	NewServer(keeper.Host(), ss)
	pc := &Client{Host: patientNode.Host(), Keeper: peer.AddrInfo{ID: keeper.ID(), Addrs: keeper.Host().Addrs()}}
	e, _ := NewEnrolment(key(9), patientNode.ID(), keeper.ID(), 1700000000)
	if err := pc.Enrol(ctx, e); err != nil {
		t.Fatal(err)
	}
	jwe := "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..stand-in.ciphertext.tag"
	ref, err := patientNode.Store().Import(ctx, strings.NewReader(jwe), int64(len(jwe)), nil)
	if err != nil {
		t.Fatal(err)
	}
	entry := testEntry(ref.Root.String())
	if err := pc.PutSHL(ctx, entry); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "not held") {
		t.Fatalf("SHL before its root: %v", err)
	}
	items := []Item{{Root: ref.Root.String(), Expires: time.Now().Add(time.Hour).Unix()}}
	if err := pc.Put(ctx, items, func(w io.Writer) error { return patientNode.Store().ExportCAR(ctx, w, ref.Root) }); err != nil {
		t.Fatal(err)
	}
	if err := pc.PutSHL(ctx, entry); err != nil {
		t.Fatal(err)
	}
	if got := ss.shls[testSHLID]; got.Files[0].Root != ref.Root.String() || got.PasscodeHash != entry.PasscodeHash || got.Flags != "LP" {
		t.Fatalf("stored entry %+v", got)
	}
	if err := pc.PutLive(ctx, testLive()); err != nil {
		t.Fatal(err)
	}
	if got := ss.lives[testRevID]; string(got.Record) != "record" || string(got.Envelope) != "envelope" {
		t.Fatalf("stored live record %+v", got)
	}
	st, err := pc.Status(ctx)
	if err != nil || st.SHLURL != "https://keeper.example" {
		t.Fatalf("status %+v %v", st, err)
	}
	// A keeper without an SHL URL, or whose store keeps no live records.
	ss.url = ""
	if err := pc.PutSHL(ctx, entry); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("SHL on a keeper serving none: %v", err)
	}
	NewServer(keeper.Host(), ms)
	if err := pc.PutLive(ctx, testLive()); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("live on a keeper keeping none: %v", err)
	}
	if st, err := pc.Status(ctx); err != nil || st.SHLURL != "" {
		t.Fatalf("status %+v %v", st, err)
	}
}

// TestSHLBounds: each broken bound of an shl or live request is one
// ErrMalformed line.
func TestSHLBounds(t *testing.T) {
	cases := map[string]Request{
		"no entry":       {Verb: VerbSHL},
		"short id":       {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.ID = "abc" })},
		"long id":        {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.ID = strings.Repeat("a", 129) })},
		"id not b64url":  {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.ID = strings.Repeat("a/", 22) })},
		"unknown flag":   {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.Flags = "LX" })},
		"repeated flag":  {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.Flags = "LLP" })},
		"P and U":        {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.Flags = "PU" })},
		"P no hash":      {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.PasscodeHash = "" })},
		"hash no P":      {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.Flags = "L" })},
		"revocation id":  {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.RevocationID = "0x1234" })},
		"no files":       {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.Files = nil })},
		"17 files":       {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.Files = make([]SHLFile, 17) })},
		"U two files":    {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.Flags, e.PasscodeHash, e.Files = "U", "", append(e.Files, e.Files[0]) })},
		"bad root":       {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.Files[0].Root = "nope" })},
		"no type":        {Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.Files[0].ContentType = "" })},
		"no live":        {Verb: VerbLive},
		"grant hash":     {Verb: VerbLive, Live: withLive(func(r *LiveRecord) { r.Grant = "ab" })},
		"no name":        {Verb: VerbLive, Live: withLive(func(r *LiveRecord) { r.Name = "" })},
		"big record":     {Verb: VerbLive, Live: withLive(func(r *LiveRecord) { r.Record = make([]byte, MaxLiveRec+1) })},
		"no record":      {Verb: VerbLive, Live: withLive(func(r *LiveRecord) { r.Record = nil })},
		"big envelope":   {Verb: VerbLive, Live: withLive(func(r *LiveRecord) { r.Envelope = make([]byte, MaxEnvelope+1) })},
		"empty envelope": {Verb: VerbLive, Live: withLive(func(r *LiveRecord) { r.Envelope = nil })},
	}
	for name, req := range cases {
		var buf bytes.Buffer
		writeFrame(&buf, req)
		_, err := ReadRequest(bufio.NewReader(&buf))
		if !errors.Is(err, ErrMalformed) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, req := range []Request{{Verb: VerbSHL, SHL: with(func(*SHLEntry) {})}, {Verb: VerbLive, Live: withLive(func(*LiveRecord) {})},
		{Verb: VerbSHL, SHL: with(func(e *SHLEntry) { e.Flags, e.PasscodeHash = "U", "" })}} {
		var buf bytes.Buffer
		writeFrame(&buf, req)
		if _, err := ReadRequest(bufio.NewReader(&buf)); err != nil {
			t.Errorf("%+v: %v", req, err)
		}
	}
}

func with(f func(*SHLEntry)) *SHLEntry {
	e := testEntry("bafkqaaa")
	f(&e)
	return &e
}

func withLive(f func(*LiveRecord)) *LiveRecord {
	r := testLive()
	f(&r)
	return &r
}
