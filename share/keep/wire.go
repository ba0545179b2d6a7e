// Package keep is the protocol between a patient's wallet and its keepers.
//
// A keeper is an always-on healthwallet node that holds a patient's
// encrypted share packages and serves them to grantees under the same rules
// as the patient's own node (package serve). The patient talks to it with
// protocol [ProtocolID]: one request per stream, patient → keeper,
//
//	patient → keeper: uvarint length ‖ JSON Request
//	[put only:
//	keeper → patient: uvarint length ‖ JSON Response {"ready": true} (or a refusal, and no more)
//	patient → keeper: a CARv1 of the items' DAGs, up to MaxPut bytes, then end of stream]
//	keeper → patient: uvarint length ‖ JSON Response
//
// The first request of a patient is "enrol", carrying an [Enrolment] signed
// with the patient's secp256k1 key. The keeper checks that the signature
// recovers the patient's address, that the enrolment names the keeper's own
// peer id, and that it names the stream's authenticated remote peer as the
// patient's node. From then on, requests from that peer act for that
// patient; a request from a peer no enrolment names is refused with
// [ErrNotEnrolled] ("this keeper does not keep for you").
//
// Verbs: enrol; put (items: roots with their expiry, and a CAR of their
// blocks: every block is checked against its CID and every root's DAG must
// be complete); have (the items held); drop (roots); remove (everything
// held for the patient, and the enrolment); access (the keeper's records of
// presentations of the patient's grants, after a sequence number); status;
// shl (store or replace one SMART Health Link entry, [SHLEntry], whose file
// roots the patient put first, as items); live (store the newest IPNS
// record of a live grant, [LiveRecord], whose envelope and package the
// patient put first). A keeper that serves no SMART Health Links (its store
// is no [SHLStore]) refuses shl; one whose store is no [LiveStore] refuses
// live.
//
// Every header is bounded (MaxRequest, MaxResponse, MaxItems, MaxRecords,
// MaxRecord): a decoder never allocates more than its bound, whatever a peer
// sends.
package keep

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"

	"github.com/healthwallet/healthwallet/share/live"
)

// ProtocolID is the libp2p protocol of the keep protocol.
const ProtocolID = "/healthwallet/keep/1.0.0"

// Bounds of the protocol.
const (
	MaxRequest  = 256 << 10          // a request header
	MaxResponse = 8 << 20            // a response header
	MaxItems    = 4096               // items or roots in one request or response
	MaxRecords  = 1000               // access records in one response
	MaxRecord   = 4 << 10            // one access record's entry
	MaxPut      = 1 << 30            // the CAR of one put
	MaxSHLFiles = 16                 // files of one SHL entry
	MaxLiveRec  = ipns.MaxRecordSize // a live grant's marshalled IPNS record
	MaxEnvelope = live.MaxEnvelope   // a live grant's envelope
	minSHLID    = 43                 // an SHL id: at least 256 bits, base64url
	maxSHLID    = 128
	maxField    = 256  // a content type, a passcode hash, an IPNS name
	maxText     = 1024 // an error text
)

// Timeouts of one exchange.
const (
	streamTimeout = 30 * time.Second
	putTimeout    = 10 * time.Minute
)

// Verbs.
const (
	VerbEnrol  = "enrol"
	VerbPut    = "put"
	VerbHave   = "have"
	VerbDrop   = "drop"
	VerbRemove = "remove"
	VerbAccess = "access"
	VerbStatus = "status"
	// VerbSHL stores or replaces one SMART Health Link entry (Request.SHL);
	// its file roots must already be held (put them first, as items).
	VerbSHL = "shl"
	// VerbLive stores the newest IPNS record of a live grant
	// (Request.Live); its envelope root and package root must be held.
	VerbLive = "live"
)

// Response codes.
const (
	codeOK          = ""
	codeNotEnrolled = "not-enrolled"
	codeRefused     = "refused"
	codeUnsupported = "unsupported"
)

// Errors of the protocol.
var (
	// ErrMalformed: a header does not decode, or breaks a bound.
	ErrMalformed = errors.New("malformed keep message")
	// ErrNotEnrolled: the keeper does not keep for the asking peer.
	ErrNotEnrolled = errors.New("this keeper does not keep for you")
	// ErrRefused: the keeper refused the request; the text says why.
	ErrRefused = errors.New("keeper refused")
)

// Item is one share package root a keeper holds for a patient, until
// Expires (unix seconds): the keeper drops it then.
type Item struct {
	Root    string `json:"root"` // CID
	Expires int64  `json:"expires"`
}

// CID parses the item's root.
func (it Item) CID() (cid.Cid, error) {
	c, err := cid.Decode(it.Root)
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: root %q: %v", ErrMalformed, it.Root, err)
	}
	return c, nil
}

// AccessRecord is one presentation of a patient's grant to the keeper.
// Entry is the access-log entry in the patient's access-log format (the
// wallet writes and reads it); Seq orders a patient's records, from 1.
type AccessRecord struct {
	Seq   uint64          `json:"seq"`
	Entry json.RawMessage `json:"entry"`
}

// Status is what the keeper says of a patient.
type Status struct {
	Patient string `json:"patient"` // address
	Held    int    `json:"held"`    // package roots held
	LastSeq uint64 `json:"lastSeq"` // the newest access record's Seq
	// SHLURL is the keeper's HTTPS base URL for SMART Health Link
	// manifests ("": it serves none).
	SHLURL string `json:"shlUrl,omitempty"`
}

// SHLEntry is one SMART Health Link a keeper serves for a patient: its
// manifest's files are the JWE objects at the roots of Files, which the
// keeper must hold for the patient. The keeper never sees the link's key.
type SHLEntry struct {
	ID           string    `json:"id"`           // the manifest URL's last segment: base64url, >= 256 bits
	Flags        string    `json:"flags"`        // a subset of "LPU", without both P and U
	Expires      int64     `json:"expires"`      // unix seconds; 0: never
	RevocationID string    `json:"revocationId"` // 0x hex of 32 bytes: revoked on chain, the link is refused
	PasscodeHash string    `json:"passcodeHash,omitempty"`
	Files        []SHLFile `json:"files"`
}

// SHLFile is one file of an SHL entry.
type SHLFile struct {
	ContentType string `json:"contentType"`
	Root        string `json:"root"` // CID of the JWE object (raw JWE bytes as a UnixFS file)
	LastUpdated int64  `json:"lastUpdated"`
}

// CIDs parses the roots of the entry's files.
func (e SHLEntry) CIDs() ([]cid.Cid, error) {
	out := make([]cid.Cid, len(e.Files))
	for i, f := range e.Files {
		c, err := Item{Root: f.Root}.CID()
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// Revocation parses the entry's revocation id.
func (e SHLEntry) Revocation() ([32]byte, error) { return parseHash32("revocation id", e.RevocationID) }

// check enforces the entry's bounds.
func (e SHLEntry) check() error {
	if len(e.ID) < minSHLID || len(e.ID) > maxSHLID {
		return fmt.Errorf("%w: SHL id of %d characters (%d to %d)", ErrMalformed, len(e.ID), minSHLID, maxSHLID)
	}
	for _, r := range e.ID {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("%w: SHL id is not base64url", ErrMalformed)
		}
	}
	seen := map[rune]bool{}
	for _, r := range e.Flags {
		if !strings.ContainsRune("LPU", r) || seen[r] {
			return fmt.Errorf("%w: SHL flags %q (each of L, P, U at most once)", ErrMalformed, e.Flags)
		}
		seen[r] = true
	}
	if seen['P'] && seen['U'] {
		return fmt.Errorf("%w: SHL flags P and U together", ErrMalformed)
	}
	if seen['P'] != (e.PasscodeHash != "") {
		return fmt.Errorf("%w: SHL flag P and a passcode hash go together", ErrMalformed)
	}
	if e.Expires < 0 || len(e.PasscodeHash) > maxField {
		return fmt.Errorf("%w: SHL expiry or passcode hash", ErrMalformed)
	}
	if _, err := e.Revocation(); err != nil {
		return err
	}
	if len(e.Files) == 0 || len(e.Files) > MaxSHLFiles || seen['U'] && len(e.Files) != 1 {
		return fmt.Errorf("%w: SHL of %d files (1 to %d; U: exactly 1)", ErrMalformed, len(e.Files), MaxSHLFiles)
	}
	for _, f := range e.Files {
		if f.ContentType == "" || len(f.ContentType) > maxField || f.LastUpdated < 0 {
			return fmt.Errorf("%w: SHL file content type or time", ErrMalformed)
		}
	}
	_, err := e.CIDs()
	return err
}

// LiveRecord is the newest version of a live grant a keeper serves: the
// grant's IPNS record and the envelope it points to.
type LiveRecord struct {
	Grant    string `json:"grant"`    // 0x hex leaf hash of the live grant
	Name     string `json:"name"`     // IPNS name string
	Record   []byte `json:"record"`   // marshalled IPNS record, at most MaxLiveRec bytes
	Envelope []byte `json:"envelope"` // the live envelope's encoding, at most MaxEnvelope bytes
}

// GrantHash parses the record's grant hash.
func (r LiveRecord) GrantHash() ([32]byte, error) { return parseHash32("grant hash", r.Grant) }

// check enforces the record's bounds.
func (r LiveRecord) check() error {
	if _, err := r.GrantHash(); err != nil {
		return err
	}
	switch {
	case r.Name == "" || len(r.Name) > maxField:
		return fmt.Errorf("%w: live IPNS name of %d bytes", ErrMalformed, len(r.Name))
	case len(r.Record) == 0 || len(r.Record) > MaxLiveRec:
		return fmt.Errorf("%w: live record of %d bytes (1 to %d)", ErrMalformed, len(r.Record), MaxLiveRec)
	case len(r.Envelope) == 0 || len(r.Envelope) > MaxEnvelope:
		return fmt.Errorf("%w: live envelope of %d bytes (1 to %d)", ErrMalformed, len(r.Envelope), MaxEnvelope)
	}
	return nil
}

// parseHash32 parses 0x and 64 hex digits.
func parseHash32(what, s string) ([32]byte, error) {
	var out [32]byte
	h, ok := strings.CutPrefix(s, "0x")
	if !ok || len(h) != 64 {
		return out, fmt.Errorf("%w: %s %q is not 0x and 64 hex digits", ErrMalformed, what, s)
	}
	if _, err := hex.Decode(out[:], []byte(h)); err != nil {
		return out, fmt.Errorf("%w: %s %q is not 0x and 64 hex digits", ErrMalformed, what, s)
	}
	return out, nil
}

// Request is a request header.
type Request struct {
	Verb      string      `json:"verb"`
	Enrolment *Enrolment  `json:"enrolment,omitempty"` // enrol
	Items     []Item      `json:"items,omitempty"`     // put
	Roots     []string    `json:"roots,omitempty"`     // drop
	After     uint64      `json:"after,omitempty"`     // access
	SHL       *SHLEntry   `json:"shl,omitempty"`       // shl
	Live      *LiveRecord `json:"live,omitempty"`      // live
}

// Response is a response header.
type Response struct {
	Code    string         `json:"code,omitempty"` // "" ok
	Error   string         `json:"error,omitempty"`
	Items   []Item         `json:"items,omitempty"`   // have
	Records []AccessRecord `json:"records,omitempty"` // access
	More    bool           `json:"more,omitempty"`    // access: ask again after the last Seq
	Status  *Status        `json:"status,omitempty"`  // status
	Ready   bool           `json:"ready,omitempty"`   // put: send the CAR now
}

// writeFrame writes uvarint length ‖ JSON of v.
func writeFrame(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(binary.AppendUvarint(nil, uint64(len(b))), b...))
	return err
}

// readFrame reads one frame of at most max bytes into v (unknown fields
// are ignored, so a newer peer may add some).
func readFrame(r *bufio.Reader, max int, v any) error {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return fmt.Errorf("%w: length: %v", ErrMalformed, err)
	}
	if n == 0 || n > uint64(max) {
		return fmt.Errorf("%w: %d-byte header (at most %d)", ErrMalformed, n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// ReadRequest reads and checks a request header.
func ReadRequest(r *bufio.Reader) (Request, error) {
	var req Request
	if err := readFrame(r, MaxRequest, &req); err != nil {
		return Request{}, err
	}
	return req, req.check()
}

func (req Request) check() error {
	switch req.Verb {
	case VerbEnrol:
		if req.Enrolment == nil {
			return fmt.Errorf("%w: enrol without an enrolment", ErrMalformed)
		}
	case VerbPut:
		if len(req.Items) == 0 {
			return fmt.Errorf("%w: put without items", ErrMalformed)
		}
	case VerbDrop:
		if len(req.Roots) == 0 {
			return fmt.Errorf("%w: drop without roots", ErrMalformed)
		}
	case VerbSHL:
		if req.SHL == nil {
			return fmt.Errorf("%w: shl without an entry", ErrMalformed)
		}
		if err := req.SHL.check(); err != nil {
			return err
		}
	case VerbLive:
		if req.Live == nil {
			return fmt.Errorf("%w: live without a record", ErrMalformed)
		}
		if err := req.Live.check(); err != nil {
			return err
		}
	case VerbHave, VerbRemove, VerbAccess, VerbStatus:
	default:
		return fmt.Errorf("%w: unknown verb %q", ErrMalformed, req.Verb)
	}
	if len(req.Items) > MaxItems || len(req.Roots) > MaxItems {
		return fmt.Errorf("%w: more than %d roots", ErrMalformed, MaxItems)
	}
	for _, it := range req.Items {
		if _, err := it.CID(); err != nil {
			return err
		}
	}
	for _, r := range req.Roots {
		if _, err := (Item{Root: r}).CID(); err != nil {
			return err
		}
	}
	return nil
}

// ReadResponse reads and checks a response header.
func ReadResponse(r *bufio.Reader) (Response, error) {
	var resp Response
	if err := readFrame(r, MaxResponse, &resp); err != nil {
		return Response{}, err
	}
	switch {
	case len(resp.Items) > MaxItems:
		return Response{}, fmt.Errorf("%w: more than %d items", ErrMalformed, MaxItems)
	case len(resp.Records) > MaxRecords:
		return Response{}, fmt.Errorf("%w: more than %d records", ErrMalformed, MaxRecords)
	case len(resp.Error) > maxText:
		return Response{}, fmt.Errorf("%w: %d-byte error text", ErrMalformed, len(resp.Error))
	case resp.Status != nil && len(resp.Status.SHLURL) > maxText:
		return Response{}, fmt.Errorf("%w: %d-byte SHL URL", ErrMalformed, len(resp.Status.SHLURL))
	}
	for _, it := range resp.Items {
		if _, err := it.CID(); err != nil {
			return Response{}, err
		}
	}
	for _, rec := range resp.Records {
		if rec.Seq == 0 || len(rec.Entry) > MaxRecord || !json.Valid(rec.Entry) {
			return Response{}, fmt.Errorf("%w: access record %d", ErrMalformed, rec.Seq)
		}
	}
	return resp, nil
}

// err turns a response into the error it reports (nil for ok).
func (resp Response) err() error {
	switch resp.Code {
	case codeOK:
		return nil
	case codeNotEnrolled:
		return ErrNotEnrolled
	case codeUnsupported:
		return fmt.Errorf("%w: %s", ErrUnsupported, resp.Error)
	}
	return fmt.Errorf("%w: %s", ErrRefused, resp.Error)
}
