package fhir

import (
	"crypto/sha256"
	"fmt"
	"strings"
)

// Resolver returns a function that finds a resource of d by a reference
// written in one of its resources: an exact fullUrl ("urn:uuid:…" or an
// absolute URL), "Type/id", or an absolute URL ending in "Type/id".
func (d *Document) Resolver() func(ref string) *Resource {
	byURL := map[string]*Resource{}
	byTypeID := map[string]*Resource{}
	byID := map[string]*Resource{}
	for i := range d.Resources {
		r := &d.Resources[i]
		if r.FullURL != "" {
			byURL[r.FullURL] = r
		}
		if r.ID != "" {
			byTypeID[r.Type+"/"+r.ID] = r
			byID[r.ID] = r
		}
	}
	return func(ref string) *Resource {
		if ref == "" {
			return nil
		}
		if r := byURL[ref]; r != nil {
			return r
		}
		if r := byTypeID[ref]; r != nil {
			return r
		}
		if id, ok := strings.CutPrefix(ref, "urn:uuid:"); ok {
			return byID[id]
		}
		if t, id := typeAndID(ref); t != "" {
			return byTypeID[t+"/"+id]
		}
		return nil
	}
}

// typeAndID returns the last "Type/id" of a reference, ignoring a
// "/_history/n" suffix.
func typeAndID(ref string) (string, string) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) < 2 {
		return "", ""
	}
	t, id := parts[len(parts)-2], parts[len(parts)-1]
	if t == "" || id == "" || t[0] < 'A' || t[0] > 'Z' {
		return "", ""
	}
	return t, id
}

// globalURL reports whether a fullUrl is meaningful outside its Bundle.
func globalURL(u string) bool {
	for _, p := range []string{"urn:uuid:", "urn:oid:", "http://", "https://"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

// Globalize gives every resource whose fullUrl is missing or only local
// (SMART Health Cards use "resource:0", "resource:1", …) a urn:uuid fullUrl,
// and rewrites the references that used the local name. The new UUIDs are
// derived from the document's content, so importing the same document twice
// gives the same fullUrls (and deduplicates).
func (d *Document) Globalize() {
	h := sha256.New()
	for _, r := range d.Resources {
		h.Write(r.JSON())
	}
	seed := h.Sum(nil)
	renamed := map[string]string{}
	for i := range d.Resources {
		r := &d.Resources[i]
		if globalURL(r.FullURL) {
			continue
		}
		sum := sha256.Sum256(append(append(append([]byte(nil), seed...), byte(i>>8), byte(i)), r.FullURL...))
		sum[6] = sum[6]&0x0f | 0x80 // RFC 9562 version 8: custom, here hash-derived
		sum[8] = sum[8]&0x3f | 0x80
		u := fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
		if r.FullURL != "" {
			renamed[r.FullURL] = u
		}
		r.FullURL = u
	}
	if len(renamed) == 0 {
		return
	}
	for _, r := range d.Resources {
		renameRefs(r.Body, renamed)
	}
}

func renameRefs(o *Object, renamed map[string]string) {
	if ref, ok := o.Get("reference").(string); ok {
		if u, ok := renamed[ref]; ok {
			o.Set("reference", u)
		}
	}
	for _, k := range o.Keys() {
		switch v := o.Get(k).(type) {
		case *Object:
			renameRefs(v, renamed)
		case []any:
			for _, e := range v {
				if eo := obj(e); eo != nil {
					renameRefs(eo, renamed)
				}
			}
		}
	}
}
