package fhir

import "strings"

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
