package grant

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// TestHashIsEIP712: Hash (with its cached domain separators) equals
// go-ethereum's reference TypedDataAndHash for grants under several
// domains, asked in turn so that a cache keyed wrongly would show.
func TestHashIsEIP712(t *testing.T) {
	base := fixedGrant(t)
	for _, d := range []Domain{
		{ChainID: 1, Registry: common.HexToAddress("0x00000000000000000000000000000000000000aa")},
		{ChainID: 1337, Registry: common.HexToAddress("0x00000000000000000000000000000000000000aa")},
		{ChainID: 1, Registry: common.HexToAddress("0x00000000000000000000000000000000000000bb")},
		base.Domain,
	} {
		for range 2 {
			g := *base
			g.Domain = d
			g.Nonce++
			got, err := g.Hash()
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := apitypes.TypedDataAndHash(g.TypedData())
			if err != nil {
				t.Fatal(err)
			}
			if got != [32]byte(want) {
				t.Fatalf("domain %+v: Hash %x, TypedDataAndHash %x", d, got, want)
			}
		}
	}
}
