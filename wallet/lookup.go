package wallet

import (
	"fmt"
	"strings"

	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// MinIDPrefix is the fewest characters of an id (or a grant's hash) that
// FindRecord and FindGrant accept: with 6 hex characters, two of a
// wallet's ten thousand records share a prefix rarely, and a typo is
// unlikely to hit another record instead of none.
const MinIDPrefix = 6

// findByPrefix returns the one item whose keys (ids or hashes, lower-case
// hex) start with s. what names the kind of item in errors ("record",
// "grant"); s is lower-cased and a leading 0x dropped.
func findByPrefix[T any](all []T, s, what string, keys func(T) []string) (T, error) {
	var zero T
	s = strings.ToLower(strings.TrimPrefix(s, "0x"))
	if len(s) < MinIDPrefix {
		return zero, fmt.Errorf("%w: %q (give at least %d characters of the %s's id)", catalog.ErrBadID, s, MinIDPrefix, what)
	}
	var hit []T
	for _, it := range all {
		for _, k := range keys(it) {
			if strings.HasPrefix(k, s) {
				hit = append(hit, it)
				break
			}
		}
	}
	switch len(hit) {
	case 0:
		return zero, fmt.Errorf("%w: no %s %q", catalog.ErrNotFound, what, s)
	case 1:
		return hit[0], nil
	}
	return zero, fmt.Errorf("%q matches %d %ss; give more of the id", s, len(hit), what)
}
