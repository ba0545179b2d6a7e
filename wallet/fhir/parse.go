// Package fhir reads FHIR R4 JSON the way a personal health wallet needs
// to: it splits Bundles into resources, indexes each one (type, date, code,
// category, status, sensitivity), writes readable one-line summaries and
// detail views, and builds share packages: Bundles of exactly the chosen
// resources with their references resolved inside the Bundle.
//
// It keeps resources as order-preserving JSON trees ([Object]) instead of a
// generated model, so resource types it does not know are kept whole and
// shown generically, never dropped.
package fhir

import (
	"errors"
	"fmt"
)

// ErrNotFHIR means the input is not FHIR R4 JSON.
var ErrNotFHIR = errors.New("not a FHIR R4 JSON resource or Bundle")

// ParseError says why a file was refused, and where.
type ParseError struct {
	Entry int // 1-based Bundle entry, or 0 for the file itself
	Err   error
}

func (e *ParseError) Error() string {
	if e.Entry > 0 {
		return fmt.Sprintf("Bundle entry %d: %v", e.Entry, e.Err)
	}
	return e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

// MaxInput bounds the size of one FHIR file.
const MaxInput = 256 << 20

// Resource is one FHIR resource as it arrived.
type Resource struct {
	Type    string  // resourceType
	ID      string  // id, may be empty
	FullURL string  // the Bundle entry's fullUrl, if it came in a Bundle
	Body    *Object // the resource
}

// Document is a parsed FHIR file.
type Document struct {
	// Kind is the Bundle type ("transaction", "collection", "document",
	// "searchset", …), or "resource" for a single resource.
	Kind string
	// BundleID is the Bundle's id or identifier value, if any.
	BundleID  string
	Resources []Resource
}

// Parse reads a FHIR R4 JSON Bundle or single resource. Bundles nested in
// Bundles (for example a document inside a collection) are kept as
// resources of type Bundle.
func Parse(data []byte) (*Document, error) {
	if len(data) > MaxInput {
		return nil, &ParseError{Err: fmt.Errorf("%w: file larger than %d MiB", ErrNotFHIR, MaxInput>>20)}
	}
	root, err := decodeObject(data)
	if err != nil {
		return nil, &ParseError{Err: fmt.Errorf("%w: %v", ErrNotFHIR, err)}
	}
	rt := str(root, "resourceType")
	if rt == "" {
		return nil, &ParseError{Err: fmt.Errorf("%w: no resourceType", ErrNotFHIR)}
	}
	if rt != "Bundle" {
		return &Document{Kind: "resource", Resources: []Resource{{Type: rt, ID: str(root, "id"), Body: root}}}, nil
	}
	doc := &Document{Kind: str(root, "type"), BundleID: str(root, "id")}
	if doc.Kind == "" {
		doc.Kind = "collection"
	}
	if id := obj(root.Get("identifier")); id != nil && str(id, "value") != "" {
		doc.BundleID = str(id, "value")
	}
	for i, e := range arr(root, "entry") {
		entry := obj(e)
		if entry == nil {
			return nil, &ParseError{Entry: i + 1, Err: fmt.Errorf("%w: entry is not an object", ErrNotFHIR)}
		}
		res := obj(entry.Get("resource"))
		if res == nil {
			// A transaction DELETE or a searchset outcome-only entry carries
			// no resource: nothing to keep.
			continue
		}
		rt := str(res, "resourceType")
		if rt == "" {
			return nil, &ParseError{Entry: i + 1, Err: fmt.Errorf("%w: resource without resourceType", ErrNotFHIR)}
		}
		doc.Resources = append(doc.Resources, Resource{Type: rt, ID: str(res, "id"), FullURL: str(entry, "fullUrl"), Body: res})
	}
	return doc, nil
}

// ParseResource reads one resource (as stored in the wallet).
func ParseResource(data []byte) (Resource, error) {
	o, err := decodeObject(data)
	if err != nil {
		return Resource{}, fmt.Errorf("%w: %v", ErrNotFHIR, err)
	}
	rt := str(o, "resourceType")
	if rt == "" {
		return Resource{}, fmt.Errorf("%w: no resourceType", ErrNotFHIR)
	}
	return Resource{Type: rt, ID: str(o, "id"), Body: o}, nil
}

// JSON returns the resource's JSON.
func (r Resource) JSON() []byte {
	b, _ := r.Body.MarshalJSON()
	return b
}
