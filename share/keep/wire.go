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
// presentations of the patient's grants, after a sequence number); status.
//
// Every header is bounded (MaxRequest, MaxResponse, MaxItems, MaxRecords,
// MaxRecord): a decoder never allocates more than its bound, whatever a peer
// sends.
package keep

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ipfs/go-cid"
)

// ProtocolID is the libp2p protocol of the keep protocol.
const ProtocolID = "/healthwallet/keep/1.0.0"

// Bounds of the protocol.
const (
	MaxRequest  = 256 << 10 // a request header
	MaxResponse = 8 << 20   // a response header
	MaxItems    = 4096      // items or roots in one request or response
	MaxRecords  = 1000      // access records in one response
	MaxRecord   = 4 << 10   // one access record's entry
	MaxPut      = 1 << 30   // the CAR of one put
	maxText     = 1024      // an error text
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
)

// Response codes.
const (
	codeOK          = ""
	codeNotEnrolled = "not-enrolled"
	codeRefused     = "refused"
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
}

// Request is a request header.
type Request struct {
	Verb      string     `json:"verb"`
	Enrolment *Enrolment `json:"enrolment,omitempty"` // enrol
	Items     []Item     `json:"items,omitempty"`     // put
	Roots     []string   `json:"roots,omitempty"`     // drop
	After     uint64     `json:"after,omitempty"`     // access
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
	}
	return fmt.Errorf("%w: %s", ErrRefused, resp.Error)
}
