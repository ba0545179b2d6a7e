package ipfs

import (
	"bytes"
	"context"
	"testing"
)

// TestGoldenCIDs pins the CIDs of known bytes under Profile. The expected
// values were computed independently by Helia 7.1.15 / @helia/unixfs 8.0.5
// with the unixfs-v1-2025 profile (ipfs/testdata/helia), and
// TestHeliaInterop recomputes them live.
func TestGoldenCIDs(t *testing.T) {
	s, _ := openTestStore(t)
	for _, tc := range goldenCIDs {
		got, err := s.ImportPlain(context.Background(), bytes.NewReader(tc.data()), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != tc.cid {
			t.Errorf("%s: CID %s, want %s", tc.name, got, tc.cid)
		}
	}
}

var goldenCIDs = []struct {
	name string
	data func() []byte
	cid  string
}{
	{"empty", func() []byte { return nil }, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
	{"hello world", func() []byte { return []byte("hello world\n") }, "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"},
	{"3 MiB pattern", func() []byte { return pattern(3 << 20) }, "bafybeihzpjrbcpjpzcx4yxh3hasnjidsikmwmsrli7hhamhny5iueulu5a"},
	{"5 MiB + 7 pattern", func() []byte { return pattern(5<<20 + 7) }, "bafybeihy7bim22kxffmtbte3avvzbwyyyjidvhaebjckpy4xkkxtuwdwga"},
}
