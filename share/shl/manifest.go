package shl

import (
	"encoding/json"
	"fmt"
)

// MaxManifest bounds a manifest response in bytes (files may be embedded).
const MaxManifest = 64 << 20

// ManifestRequest is the body of the manifest POST.
type ManifestRequest struct {
	Recipient         string `json:"recipient"`
	Passcode          string `json:"passcode,omitempty"`
	EmbeddedLengthMax int    `json:"embeddedLengthMax,omitempty"`
}

// ManifestFile is one file of a manifest: its content type and either the
// JWE itself (Embedded) or a URL to GET it from (Location).
type ManifestFile struct {
	ContentType string `json:"contentType"`
	Embedded    string `json:"embedded,omitempty"`
	Location    string `json:"location,omitempty"`
	LastUpdated string `json:"lastUpdated,omitempty"`
}

// Manifest is the answer to the manifest POST.
type Manifest struct {
	Files []ManifestFile `json:"files"`
}

// ParseManifest decodes and checks a manifest: every file has a content type
// and exactly one of embedded or location, and every location is https (or
// loopback http). Unknown members are ignored.
func ParseManifest(b []byte) (Manifest, error) {
	if len(b) > MaxManifest {
		return Manifest{}, fmt.Errorf("shl: manifest is %d bytes, at most %d allowed: %w", len(b), MaxManifest, ErrTooLarge)
	}
	var m struct {
		Files *[]ManifestFile `json:"files"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("shl: manifest is not a JSON object: %w", ErrMalformed)
	}
	if m.Files == nil {
		return Manifest{}, fmt.Errorf("shl: manifest has no files: %w", ErrMalformed)
	}
	for i, f := range *m.Files {
		if f.ContentType == "" {
			return Manifest{}, fmt.Errorf("shl: manifest file %d has no contentType: %w", i, ErrMalformed)
		}
		if (f.Embedded == "") == (f.Location == "") {
			return Manifest{}, fmt.Errorf("shl: manifest file %d needs exactly one of embedded and location: %w", i, ErrMalformed)
		}
		if f.Location != "" {
			if err := checkURL(f.Location); err != nil {
				return Manifest{}, fmt.Errorf("shl: manifest file %d location: %w", i, err)
			}
		}
	}
	return Manifest{Files: *m.Files}, nil
}
