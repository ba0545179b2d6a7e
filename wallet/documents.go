package wallet

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// Documents in shares
//
// A PDF or image the patient imported is a DocumentReference record whose
// file is a separate encrypted object (Record.Attachment). When a share
// (a grant, a live grant, a SMART Health Link, an exported Bundle) holds
// such a record, the file travels inside the share's Bundle: the
// DocumentReference's attachment carries the file's bytes as base64 "data"
// (FHIR R4 Attachment.data), with its contentType, size, SHA-1 hash and
// title, and without the url naming the patient's own object, which no
// grantee could open. The Bundle is encrypted as a whole, so the file is
// never in the clear outside the wallets; a grant split into one object
// per group of records keeps the file with its DocumentReference, so
// re-sharing part of a grant hands the file on with it.
//
// One file is inlined up to MaxSharedDocument bytes; a larger one makes
// the share fail with a *DocumentTooLargeError rather than travel without
// its file.

// MaxSharedDocument bounds one file a share carries (16 MiB: a scanned
// letter or a phone photo, well within a SMART Health Link's file limit
// once base64-encoded).
const MaxSharedDocument = 16 << 20

// ErrDocumentTooLarge: a shared record's file is above MaxSharedDocument.
var ErrDocumentTooLarge = errors.New("document too large to share")

// ErrNoDocument: a resource carries no file (not a DocumentReference, or
// its attachment is only a link to somewhere else).
var ErrNoDocument = errors.New("no document attached")

// ErrDocumentMismatch: a document's bytes differ from the size or SHA-1
// hash its attachment states.
var ErrDocumentMismatch = errors.New("document does not match its stated size or hash")

// DocumentTooLargeError names the file that cannot be shared.
type DocumentTooLargeError struct {
	Title string // the file's name
	Size  int64
	Max   int64
}

func (e *DocumentTooLargeError) Error() string {
	return fmt.Sprintf("%s is %.1f MiB: %v (at most %d MiB); leave it out of the selection", e.Title, float64(e.Size)/(1<<20), ErrDocumentTooLarge, e.Max>>20)
}

func (e *DocumentTooLargeError) Unwrap() error { return ErrDocumentTooLarge }

// DocumentFile is the file a DocumentReference carries.
type DocumentFile struct {
	Title       string // the file name given at import, or the description
	ContentType string // "application/pdf", "image/png", …
	Data        []byte
}

// inlineDocuments puts the file of every record of recs that has one into
// its resource (res[i] is recs[i]'s), as attachment data.
func (w *Wallet) inlineDocuments(ctx context.Context, recs []Record, res []fhir.Resource) error {
	for i, r := range recs {
		if r.Attachment == nil {
			continue
		}
		att := firstAttachment(res[i])
		if att == nil {
			continue
		}
		ref, err := w.Object(*r.Attachment)
		if err != nil {
			return fmt.Errorf("the file of %s: %w", r.ID, err)
		}
		if ref.Size > MaxSharedDocument {
			title, _ := att.Get("title").(string)
			return &DocumentTooLargeError{Title: title, Size: ref.Size, Max: MaxSharedDocument}
		}
		var buf bytes.Buffer
		buf.Grow(int(ref.Size))
		if err := w.ReadAttachment(ctx, r, &buf, nil); err != nil {
			return fmt.Errorf("the file of %s: %w", r.ID, err)
		}
		att.Set("data", base64.StdEncoding.EncodeToString(buf.Bytes()))
		att.Set("size", int64(buf.Len()))
		sum := sha1.Sum(buf.Bytes())
		att.Set("hash", base64.StdEncoding.EncodeToString(sum[:]))
		if u, _ := att.Get("url").(string); strings.HasPrefix(u, objectURLPrefix) {
			att.Delete("url")
		}
	}
	return nil
}

// objectURLPrefix starts the attachment url of an imported file: the
// patient's own encrypted object, which only the patient's wallet opens.
const objectURLPrefix = "healthwallet:object/"

// firstAttachment returns the attachment of a DocumentReference's first
// content, or nil.
func firstAttachment(r fhir.Resource) *fhir.Object {
	if r.Type != "DocumentReference" || r.Body == nil {
		return nil
	}
	content, _ := r.Body.Get("content").([]any)
	for _, c := range content {
		co, _ := c.(*fhir.Object)
		if co == nil {
			continue
		}
		if a, _ := co.Get("attachment").(*fhir.Object); a != nil {
			return a
		}
	}
	return nil
}

// SharedDocument returns the file a shared DocumentReference carries: its
// attachment's inline data, or the Binary resource of the same Bundle
// (bundle: all its resources) that the attachment's url names (by fullUrl,
// "Binary/id" or a url ending in it). The bytes are checked against the
// attachment's size and SHA-1 hash when it states them
// (ErrDocumentMismatch). A resource without a file is ErrNoDocument.
func SharedDocument(res fhir.Resource, bundle []fhir.Resource) (DocumentFile, error) {
	att := firstAttachment(res)
	if att == nil {
		return DocumentFile{}, ErrNoDocument
	}
	f := DocumentFile{}
	f.ContentType, _ = att.Get("contentType").(string)
	f.Title, _ = att.Get("title").(string)
	if f.Title == "" {
		f.Title, _ = res.Body.Get("description").(string)
	}
	data, _ := att.Get("data").(string)
	if data == "" {
		bin := binaryFor(att, bundle)
		if bin == nil {
			return DocumentFile{}, ErrNoDocument
		}
		data, _ = bin.Body.Get("data").(string)
		if f.ContentType == "" {
			f.ContentType, _ = bin.Body.Get("contentType").(string)
		}
		if data == "" {
			return DocumentFile{}, ErrNoDocument
		}
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return DocumentFile{}, fmt.Errorf("%w: its data is not base64", ErrDocumentMismatch)
	}
	if size := att.Get("size"); size != nil && fmt.Sprint(size) != fmt.Sprint(len(b)) {
		return DocumentFile{}, fmt.Errorf("%w: %d bytes, stated %v", ErrDocumentMismatch, len(b), size)
	}
	if h, _ := att.Get("hash").(string); h != "" {
		sum := sha1.Sum(b)
		if h != base64.StdEncoding.EncodeToString(sum[:]) {
			return DocumentFile{}, fmt.Errorf("%w: SHA-1 differs", ErrDocumentMismatch)
		}
	}
	f.Data = b
	return f, nil
}

// binaryFor finds the Binary resource of bundle an attachment's url names.
func binaryFor(att *fhir.Object, bundle []fhir.Resource) *fhir.Resource {
	u, _ := att.Get("url").(string)
	if u == "" {
		return nil
	}
	for i, r := range bundle {
		if r.Type != "Binary" {
			continue
		}
		if u == r.FullURL || r.ID != "" && (u == "Binary/"+r.ID || strings.HasSuffix(u, "/Binary/"+r.ID)) {
			return &bundle[i]
		}
	}
	return nil
}

// RecordDocument returns the file of one of this wallet's DocumentReference
// records: its encrypted object (an imported PDF or image), or the data its
// resource carries (a document imported from a share or a link).
func (w *Wallet) RecordDocument(ctx context.Context, r Record) (DocumentFile, error) {
	res, err := w.Resource(ctx, r)
	if err != nil {
		return DocumentFile{}, err
	}
	if r.Attachment == nil {
		f, err := SharedDocument(res, nil)
		if err != nil {
			return DocumentFile{}, fmt.Errorf("record %s: %w", r.ID, err)
		}
		return f, nil
	}
	att := firstAttachment(res)
	if att == nil {
		return DocumentFile{}, ErrNoDocument
	}
	var buf bytes.Buffer
	if err := w.ReadAttachment(ctx, r, &buf, nil); err != nil {
		return DocumentFile{}, err
	}
	f := DocumentFile{Data: buf.Bytes()}
	f.ContentType, _ = att.Get("contentType").(string)
	f.Title, _ = att.Get("title").(string)
	return f, nil
}
