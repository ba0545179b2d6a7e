package wallet

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// Record is one health record in the wallet: the index of one FHIR resource
// (kept in the sealed catalog) and where its encrypted content lives.
type Record struct {
	ID catalog.ID `json:"-"`
	fhir.Index
	// Object is the catalog entry of the encrypted resource JSON.
	Object catalog.ID `json:"object"`
	// Attachment is the catalog entry of an encrypted PDF or image, for
	// DocumentReferences made from files.
	Attachment *catalog.ID `json:"attachment,omitempty"`
	Source     Source      `json:"source"`
	Imported   time.Time   `json:"imported"`
	// Card is set for resources that came in a SMART Health Card.
	Card *CardInfo `json:"card,omitempty"`
	// Whose is the family member a record is about, for records imported
	// with ImportOptions.OtherPatient; nil for the wallet's own patient.
	Whose *Person `json:"whose,omitempty"`
}

// Source says where a record came from.
type Source struct {
	File     string `json:"file,omitempty"`
	Kind     string `json:"kind"` // Bundle type, "resource", "smart-health-card", "file"
	BundleID string `json:"bundleId,omitempty"`
}

// CardInfo is the verification result of a SMART Health Card, stored with
// every record the card carried.
type CardInfo struct {
	Issuer     string    `json:"issuer"`
	IssuerName string    `json:"issuerName,omitempty"`
	Status     string    `json:"status"` // "verified" or "revoked"
	Reason     string    `json:"reason,omitempty"`
	IssuedAt   time.Time `json:"issuedAt"`
	Expires    time.Time `json:"expires,omitzero"`
	CheckedAt  time.Time `json:"checkedAt"`
}

// ImportResult reports one imported file.
type ImportResult struct {
	File      string         `json:"file"`
	Added     int            `json:"added"`
	Updated   int            `json:"updated"`
	Unchanged int            `json:"unchanged"`
	Records   []catalog.ID   `json:"records"`
	PerType   map[string]int `json:"perType"`
	Card      *CardInfo      `json:"card,omitempty"`
	// Live is how many live grants got a new version with this import
	// (RefreshLive); LiveError why some could not (the import itself
	// stands).
	Live      int    `json:"live,omitempty"`
	LiveError string `json:"liveError,omitempty"`
	// Claimed is set when this import made the file's Patient the
	// wallet's own (the first Patient imported).
	Claimed *Person `json:"claimed,omitempty"`
	// Others are the family members whose records this import added
	// (ImportOptions.OtherPatient).
	Others []Person `json:"others,omitempty"`
}

// ImportOptions tune an import.
type ImportOptions struct {
	// OtherPatient imports a file about someone other than the wallet's
	// own patient as a family member's records, each tagged with whose it
	// is (Record.Whose). Without it such a file is refused with an
	// *OtherPatientError.
	OtherPatient bool
	// attachment is the encrypted file of an imported PDF or image
	// (ImportAttachment): its one record is written with it, so the live
	// shares refreshed by the import carry the file.
	attachment *catalog.ID
}

func importOptions(opts []ImportOptions) ImportOptions {
	var o ImportOptions
	for _, x := range opts {
		o.OtherPatient = o.OtherPatient || x.OtherPatient
	}
	return o
}

// dedupEntry is the Dedup bucket's value.
type dedupEntry struct {
	Record  catalog.ID `json:"record"`
	Content string     `json:"content"` // keyed hash of the stored JSON
}

// keyedHash is HMAC-SHA256 under the wallet's dedup key.
func (w *Wallet) keyedHash(parts ...string) ([]byte, error) {
	keys, err := w.Keys()
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, keys.DedupKey())
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil), nil
}

// pending is one resource on its way into the catalog.
type pending struct {
	rec      Record
	content  []byte
	dedupID  catalog.ID
	hash     string
	previous *Record // the record it updates, if any
}

// ImportFHIR imports a FHIR R4 JSON Bundle or resource. Every resource
// becomes a record; a resource already in the wallet (same type and id) is
// left alone if unchanged and updated if changed.
//
// The file's Patients are compared with the wallet's own patient (see
// [SamePerson]): the first Patient ever imported becomes the wallet's own
// (ImportResult.Claimed), and a file about another person is refused, with
// nothing imported, by an *OtherPatientError, unless opts say
// OtherPatient. A file without a Patient is imported as it is.
func (w *Wallet) ImportFHIR(ctx context.Context, file string, data []byte, opts ...ImportOptions) (ImportResult, error) {
	doc, err := fhir.Parse(data)
	if err != nil {
		return ImportResult{File: file}, fmt.Errorf("%s: %w", file, err)
	}
	src := Source{File: file, Kind: doc.Kind, BundleID: doc.BundleID}
	return w.importDocument(ctx, doc, src, nil, importOptions(opts))
}

func (w *Wallet) importDocument(ctx context.Context, doc *fhir.Document, src Source, card *CardInfo, opts ImportOptions) (ImportResult, error) {
	res := ImportResult{File: src.File, PerType: map[string]int{}, Card: card}
	cat, err := w.Catalog()
	if err != nil {
		return res, err
	}
	own, hasOwn, err := w.OwnPatient()
	if err != nil {
		return res, err
	}
	var ownp *Person
	if hasOwn {
		ownp = &own
	}
	people, err := planPatients(src.File, doc, ownp, opts.OtherPatient)
	if err != nil {
		return res, err
	}
	claim := func(tx *catalog.Tx) error {
		if people.claim == nil {
			return nil
		}
		return claimPatient(tx, src.File, *people.claim)
	}
	store, err := w.objectStore()
	if err != nil {
		return res, err
	}
	doc.Globalize()
	resolve := doc.Resolver()
	now := w.now().UTC()
	var todo []*pending
	seen := map[catalog.ID]bool{}
	err = cat.View(func(tx *catalog.Tx) error {
		for i := range doc.Resources {
			r := &doc.Resources[i]
			content := r.JSON()
			identity := "fhir:" + r.Type + "/" + r.ID
			if r.ID == "" {
				identity = "fhir-content:" + string(content)
			}
			idSum, err := w.keyedHash(identity)
			if err != nil {
				return err
			}
			contentSum, err := w.keyedHash("content", string(content))
			if err != nil {
				return err
			}
			p := &pending{content: content, dedupID: catalog.IDFromHash(idSum), hash: hex.EncodeToString(contentSum)}
			res.PerType[r.Type]++
			if seen[p.dedupID] {
				continue // the same resource twice in one file
			}
			seen[p.dedupID] = true
			p.rec = Record{Index: fhir.IndexOf(*r, resolve), Source: src, Imported: now, Card: card, Attachment: opts.attachment}
			p.rec.Whose = people.tag(r, p.rec.Subject, resolve)
			if b, err := tx.Get(catalog.Dedup, p.dedupID); err == nil {
				var d dedupEntry
				if json.Unmarshal(b, &d) == nil {
					if rb, err := tx.Get(catalog.Records, d.Record); err == nil {
						var prev Record
						if json.Unmarshal(rb, &prev) == nil {
							prev.ID = d.Record
							if d.Content == p.hash && (card == nil || prev.Card != nil) {
								res.Unchanged++
								res.Records = append(res.Records, prev.ID)
								continue
							}
							p.previous = &prev
						}
					}
				}
			} else if !errors.Is(err, catalog.ErrNotFound) {
				return err
			}
			todo = append(todo, p)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if len(todo) == 0 {
		if err := cat.Update(claim); err != nil {
			return res, err
		}
		res.Claimed, res.Others = people.claim, people.others
		return res, nil
	}
	contents := make([][]byte, len(todo))
	for i, p := range todo {
		contents[i] = p.content
	}
	refs, err := store.ImportBatch(ctx, contents)
	if err != nil {
		return res, err
	}
	err = cat.Update(func(tx *catalog.Tx) error {
		if err := claim(tx); err != nil {
			return err
		}
		for i, p := range todo {
			objID := catalog.NewID()
			rb, _ := json.Marshal(refs[i])
			if err := tx.Put(catalog.Objects, objID, rb); err != nil {
				return err
			}
			p.rec.Object = objID
			if p.previous != nil {
				p.rec.ID = p.previous.ID
				if p.rec.Attachment == nil {
					p.rec.Attachment = p.previous.Attachment
				}
				if err := tx.Delete(catalog.Objects, p.previous.Object); err != nil {
					return err
				}
			} else {
				p.rec.ID = catalog.NewID()
			}
			rb, _ = json.Marshal(p.rec)
			if err := tx.Put(catalog.Records, p.rec.ID, rb); err != nil {
				return err
			}
			db, _ := json.Marshal(dedupEntry{Record: p.rec.ID, Content: p.hash})
			if err := tx.Put(catalog.Dedup, p.dedupID, db); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for _, p := range todo {
		if p.previous != nil {
			res.Updated++
		} else {
			res.Added++
		}
		res.Records = append(res.Records, p.rec.ID)
	}
	res.Claimed, res.Others = people.claim, people.others
	// The one place imports reach live grants: each that follows these
	// records publishes a new version now.
	n, lerr := w.RefreshLive(ctx)
	// Live SMART Health Links too: re-encrypted under their same keys.
	// (Live counts grants; a link's Version shows its refreshes.)
	_, serr := w.refreshLiveSHLs(ctx)
	res.Live = n
	if err := errors.Join(lerr, serr); err != nil {
		res.LiveError = err.Error()
	}
	return res, nil
}

// Filter selects records for listing. Zero fields match everything.
type Filter struct {
	Type     string
	Category fhir.Category
	From, To string // YYYY-MM-DD, inclusive
	Text     string // case-insensitive substring of the summary or display
}

// Match reports whether r passes the filter, with exactly the rules of
// [Wallet.Records]. The app loads the records once and filters them as the
// user types.
func (f Filter) Match(r Record) bool { return f.match(r) }

func (f Filter) match(r Record) bool {
	if f.Type != "" && !strings.EqualFold(f.Type, r.Type) {
		return false
	}
	if f.Category != "" && f.Category != r.Category {
		return false
	}
	if !inRange(r.Day(), f.From, f.To) {
		return false
	}
	if f.Text != "" {
		t := strings.ToLower(f.Text)
		if !strings.Contains(strings.ToLower(r.Summary), t) && !strings.Contains(strings.ToLower(r.Display), t) {
			return false
		}
	}
	return true
}

// inRange compares date prefixes: a record dated "2019" is in 2019-03-01..
// 2019-12-31, and an undated record is in only when no range is given.
func inRange(day, from, to string) bool {
	if from == "" && to == "" {
		return true
	}
	if day == "" {
		return false
	}
	if from != "" && day < from[:min(len(from), len(day))] {
		return false
	}
	if to != "" && day[:min(len(day), len(to))] > to {
		return false
	}
	return true
}

// Records lists the records matching f, newest first.
func (w *Wallet) Records(f Filter) ([]Record, error) {
	cat, err := w.Catalog()
	if err != nil {
		return nil, err
	}
	var out []Record
	err = cat.ForEach(catalog.Records, func(id catalog.ID, v []byte) error {
		var r Record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("record %s: %w", id, err)
		}
		r.ID = id
		if f.match(r) {
			out = append(out, r)
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b Record) int {
		if c := strings.Compare(b.Date, a.Date); c != 0 {
			return c
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
	return out, err
}

// Record returns one record.
func (w *Wallet) Record(id catalog.ID) (Record, error) {
	cat, err := w.Catalog()
	if err != nil {
		return Record{}, err
	}
	b, err := cat.Get(catalog.Records, id)
	if err != nil {
		return Record{}, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("record %s: %w", id, err)
	}
	r.ID = id
	return r, nil
}

// Resource decrypts a record's FHIR resource.
func (w *Wallet) Resource(ctx context.Context, r Record) (fhir.Resource, error) {
	var buf bytes.Buffer
	if err := w.ReadObject(ctx, r.Object, &buf, nil); err != nil {
		return fhir.Resource{}, err
	}
	res, err := fhir.ParseResource(buf.Bytes())
	if err != nil {
		return fhir.Resource{}, err
	}
	res.FullURL = r.FullURL
	return res, nil
}

// FindRecord resolves a record id given in full or as a unique prefix of
// at least MinIDPrefix characters.
func (w *Wallet) FindRecord(s string) (Record, error) {
	if id, err := catalog.ParseID(s); err == nil {
		return w.Record(id)
	}
	all, err := w.Records(Filter{})
	if err != nil {
		return Record{}, err
	}
	return findByPrefix(all, s, "record", func(r Record) []string { return []string{r.ID.String()} })
}
