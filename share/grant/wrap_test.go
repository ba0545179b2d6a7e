package grant

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// TestWrapGroups: each key's group (category, sensitive labels, resource
// types) comes back from the wrapped material; keys wrapped in the first
// format (before packages were split) come back Mixed.
func TestWrapGroups(t *testing.T) {
	g := fixedGrant(t)
	core, _ := g.CoreHash()
	keys := []PackageKey{
		{ObjectID: [16]byte{1}, Key: [32]byte{2}, Size: 12345, Category: "labs", ResourceTypes: []string{"DiagnosticReport", "Observation"}},
		{ObjectID: [16]byte{3}, Key: [32]byte{4}, Size: 1, Category: "medications", Sensitive: []string{"hiv", "mental-health"}, ResourceTypes: []string{"MedicationRequest"}},
		{ObjectID: [16]byte{5}, Key: [32]byte{6}, Size: 7},
	}
	wrapped, err := Wrap(family.PubKey(), core, keys)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unwrap(family, core, wrapped)
	if err != nil || !reflect.DeepEqual(got, keys) {
		t.Fatalf("unwrap: %+v %v", got, err)
	}
	if got[0].Mixed() || got[1].Mixed() || !got[2].Mixed() {
		t.Fatalf("mixed: %v %v %v", got[0].Mixed(), got[1].Mixed(), got[2].Mixed())
	}
	if _, err := Unwrap(stranger, core, wrapped); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("another key: %v", err)
	}

	old, err := wrapV1(family.PubKey(), core, keys[:2])
	if err != nil {
		t.Fatal(err)
	}
	got, err = Unwrap(family, core, old)
	if err != nil || len(got) != 2 || got[0].Key != keys[0].Key || got[1].ObjectID != keys[1].ObjectID || !got[0].Mixed() || !got[1].Mixed() {
		t.Fatalf("first format: %+v %v", got, err)
	}

	long := make([]byte, maxLabel+1)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := Wrap(family.PubKey(), core, []PackageKey{{Category: string(long)}}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("long category: %v", err)
	}
}

// TestDecodeKeysTruncated: truncated key material is refused, never
// half-read.
func TestDecodeKeysTruncated(t *testing.T) {
	plain := make([]byte, packageKeyLen)
	plain = append(plain, 4, 'l', 'a', 'b', 's', 1, 3, 'h', 'i', 'v', 0)
	if ks, err := decodeKeys(plain); err != nil || len(ks) != 1 || ks[0].Category != "labs" || ks[0].Sensitive[0] != "hiv" {
		t.Fatalf("whole: %+v %v", ks, err)
	}
	for n := 1; n < len(plain); n++ {
		if _, err := decodeKeys(plain[:n]); !errors.Is(err, ErrWrongKey) {
			t.Fatalf("truncated at %d: %v", n, err)
		}
	}
}

// wrapV1 seals keys in the first format (object id ‖ key ‖ size, no
// group), as grants issued before packages were split carry.
func wrapV1(grantee *secp256k1.PublicKey, coreHash [32]byte, keys []PackageKey) ([]byte, error) {
	plain := make([]byte, 0, len(keys)*packageKeyLen)
	defer func() { clear(plain) }()
	for _, k := range keys {
		plain = append(plain, k.ObjectID[:]...)
		plain = append(plain, k.Key[:]...)
		plain = binary.BigEndian.AppendUint64(plain, k.Size)
	}
	return sealKeys(grantee, coreHash, plain, wrapInfo)
}
