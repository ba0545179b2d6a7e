package wallet

import (
	"errors"
	"strings"
	"testing"

	"github.com/healthwallet/healthwallet/wallet/catalog"
)

func TestFindByPrefix(t *testing.T) {
	items := []string{"0a1b2c3d4e", "0a1b2c9999", "ffeeddccbb"}
	keys := func(s string) []string { return []string{s} }
	if got, err := findByPrefix(items, "0xFFEEDD", "grant", keys); err != nil || got != "ffeeddccbb" {
		t.Fatalf("unique prefix: %q %v", got, err)
	}
	if _, err := findByPrefix(items, "0a1b2", "record", keys); !errors.Is(err, catalog.ErrBadID) || !strings.Contains(err.Error(), "at least 6 characters of the record's id") {
		t.Fatalf("short prefix: %v", err)
	}
	if _, err := findByPrefix(items, "0a1b2c", "grant", keys); err == nil || !strings.Contains(err.Error(), "matches 2 grants") {
		t.Fatalf("ambiguous prefix: %v", err)
	}
	if _, err := findByPrefix(items, "123456", "grant", keys); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("no match: %v", err)
	}
}
