package wallet

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// ErrUnsupportedFile: a file is neither FHIR JSON, a SMART Health Card, a
// PDF nor an image.
var ErrUnsupportedFile = errors.New("unsupported file: expected FHIR R4 JSON, a SMART Health Card, a PDF or an image")

// attachmentTypes are the content types stored as DocumentReferences.
var attachmentTypes = map[string]string{
	"application/pdf": "PDF document",
	"image/png":       "Image",
	"image/jpeg":      "Image",
	"image/gif":       "Image",
	"image/webp":      "Image",
}

// ImportFile imports one file of any supported kind, choosing by content:
// FHIR JSON, a SMART Health Card (file or shc:/ text), a PDF or an image.
// progress, if not nil, follows large attachments. opts apply to FHIR
// files and cards (see ImportFHIR: one patient per wallet).
func (w *Wallet) ImportFile(ctx context.Context, path string, progress ipfs.Progress, opts ...ImportOptions) (ImportResult, error) {
	name := filepath.Base(path)
	f, err := os.Open(path)
	if err != nil {
		return ImportResult{File: name}, err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	ctype := http.DetectContentType(head)
	if _, ok := attachmentTypes[ctype]; ok {
		st, err := f.Stat()
		if err != nil {
			return ImportResult{File: name}, err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return ImportResult{File: name}, err
		}
		return w.ImportAttachment(ctx, name, ctype, f, st.Size(), st.ModTime(), progress)
	}
	data, err := io.ReadAll(io.LimitReader(io.MultiReader(bytes.NewReader(head), f), fhir.MaxInput+1))
	if err != nil {
		return ImportResult{File: name}, err
	}
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(trimmed, []byte("shc:/")) || bytes.Contains(trimmed[:min(len(trimmed), 200)], []byte(`"verifiableCredential"`)) || looksLikeJWS(trimmed):
		return w.ImportSHC(ctx, name, data, opts...)
	case bytes.HasPrefix(trimmed, []byte("{")):
		return w.ImportFHIR(ctx, name, data, opts...)
	}
	return ImportResult{File: name}, fmt.Errorf("%s: %w (looks like %s)", name, ErrUnsupportedFile, ctype)
}

// looksLikeJWS reports whether b is a compact JWS (three base64url parts).
func looksLikeJWS(b []byte) bool {
	parts := bytes.Split(b, []byte("."))
	return len(parts) == 3 && len(parts[0]) > 10 && bytes.HasPrefix(parts[0], []byte("eyJ"))
}

// ImportAttachment stores a PDF or image as a DocumentReference whose
// attachment (the file itself) is a separate encrypted object. The same
// bytes imported twice make one record.
func (w *Wallet) ImportAttachment(ctx context.Context, name, ctype string, r io.Reader, size int64, date time.Time, progress ipfs.Progress) (ImportResult, error) {
	res := ImportResult{File: name, PerType: map[string]int{"DocumentReference": 1}}
	if _, ok := attachmentTypes[ctype]; !ok {
		return res, fmt.Errorf("%s: %w (%s)", name, ErrUnsupportedFile, ctype)
	}
	cat, err := w.Catalog()
	if err != nil {
		return res, err
	}
	hashing := &hashingReader{r: r, sha1: sha1.New()}
	objID, ref, err := w.PutObject(ctx, hashing, size, progress)
	if err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	digest := hashing.sha1.Sum(nil)
	idSum, err := w.keyedHash("file", hex.EncodeToString(digest))
	if err != nil {
		return res, err
	}
	dedupID := catalog.IDFromHash(idSum)
	if b, err := cat.Get(catalog.Dedup, dedupID); err == nil {
		var d dedupEntry
		if json.Unmarshal(b, &d) == nil {
			if _, err := w.Record(d.Record); err == nil {
				// Already here: drop the copy just stored.
				w.DeleteObject(objID)
				res.Unchanged = 1
				res.Records = []catalog.ID{d.Record}
				return res, nil
			}
		}
	}
	docRef := documentReference(name, ctype, size, digest, date, ref)
	doc := &fhir.Document{Kind: "file", Resources: []fhir.Resource{docRef}}
	out, err := w.importDocument(ctx, doc, Source{File: name, Kind: "file"}, nil, ImportOptions{attachment: &objID})
	if err != nil {
		w.DeleteObject(objID)
		return res, err
	}
	db, _ := json.Marshal(dedupEntry{Record: out.Records[0]})
	err = cat.Put(catalog.Dedup, dedupID, db)
	if err != nil {
		return res, err
	}
	res.Added, res.Records = 1, out.Records
	return res, nil
}

type hashingReader struct {
	r    io.Reader
	sha1 interface {
		io.Writer
		Sum([]byte) []byte
	}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.sha1.Write(p[:n])
	return n, err
}

// documentReference describes an imported file. Its attachment points at
// the encrypted object by a healthwallet: URL naming the object's root.
func documentReference(name, ctype string, size int64, sha1sum []byte, date time.Time, ref ipfs.ObjectRef) fhir.Resource {
	body := fhir.NewObject()
	id := fhir.NewUUID()
	body.Set("resourceType", "DocumentReference")
	body.Set("id", id)
	body.Set("status", "current")
	typ := fhir.NewObject()
	typ.Set("text", attachmentTypes[ctype])
	body.Set("type", typ)
	body.Set("date", date.UTC().Format(time.RFC3339))
	body.Set("description", strings.TrimSuffix(name, filepath.Ext(name)))
	att := fhir.NewObject()
	att.Set("contentType", ctype)
	att.Set("url", "healthwallet:object/"+ref.Root.String())
	att.Set("size", size)
	att.Set("hash", base64.StdEncoding.EncodeToString(sha1sum))
	att.Set("title", name)
	content := fhir.NewObject()
	content.Set("attachment", att)
	body.Set("content", []any{content})
	return fhir.Resource{Type: "DocumentReference", ID: id, FullURL: "urn:uuid:" + id, Body: body}
}

// ReadAttachment writes the file of a DocumentReference record: its
// encrypted object (a file imported here), or the data its resource
// carries (a document that came in a share or a link and was imported).
// A record without a file is ErrNoDocument.
func (w *Wallet) ReadAttachment(ctx context.Context, r Record, out io.Writer, progress ipfs.Progress) error {
	if r.Attachment != nil {
		return w.ReadObject(ctx, *r.Attachment, out, progress)
	}
	res, err := w.Resource(ctx, r)
	if err != nil {
		return err
	}
	f, err := SharedDocument(res, nil)
	if err != nil {
		return fmt.Errorf("record %s: %w", r.ID, err)
	}
	_, err = out.Write(f.Data)
	return err
}
