// Package plaintext finds health data where none may be: tests scan files,
// IPFS blocks, logs and chain data for strings of the records they stored.
//
// A needle must be at least MinNeedle bytes long. Shorter strings turn up
// in random ciphertext often enough (a 3-byte needle is found in a few
// hundred kilobytes of random bytes more often than not) that a scan with
// them fails by chance, not for a real reason.
package plaintext

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// MinNeedle is the shortest needle a scan accepts.
const MinNeedle = 8

// ErrShortNeedle: a needle is shorter than MinNeedle.
var ErrShortNeedle = errors.New("plaintext needle shorter than 8 bytes")

// Hit is one needle found in one place.
type Hit struct {
	Where  string // a file path, or the name given to Find
	Needle string
}

func (h Hit) String() string { return fmt.Sprintf("%q in %s", h.Needle, h.Where) }

func check(needles []string) error {
	if len(needles) == 0 {
		return errors.New("no plaintext needles")
	}
	for _, n := range needles {
		if len(n) < MinNeedle {
			return fmt.Errorf("%w: %q", ErrShortNeedle, n)
		}
	}
	return nil
}

// Find returns the needles found in data, named where.
func Find(where string, data []byte, needles ...string) ([]Hit, error) {
	if err := check(needles); err != nil {
		return nil, err
	}
	var hits []Hit
	for _, n := range needles {
		if bytes.Contains(data, []byte(n)) {
			hits = append(hits, Hit{where, n})
		}
	}
	return hits, nil
}

// ScanDir reads every file under dir and returns the needles found, and
// how many files it read.
func ScanDir(dir string, needles ...string) (hits []Hit, files int, err error) {
	if err := check(needles); err != nil {
		return nil, 0, err
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		h, _ := Find(p, b, needles...)
		hits = append(hits, h...)
		return nil
	})
	return hits, files, err
}
