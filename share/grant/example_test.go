package grant_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/healthwallet/healthwallet/share/grant"
)

// revoked is a revocation list in memory. A wallet asks the registry
// contract (or its local mirror) instead.
type revoked map[[32]byte]uint64

func (r revoked) RevokedAt(_ context.Context, ids [][32]byte) ([]uint64, error) {
	at := make([]uint64, len(ids))
	for i, id := range ids {
		at[i] = r[id]
	}
	return at, nil
}

// A patient grants a family member read and delegate rights on their lab
// results for an hour; the family member delegates reading to a
// specialist. The patient's node verifies the chain the specialist
// presents, then refuses it once the family member's grant is revoked.
func ExampleVerify() {
	key := func(b byte) *secp256k1.PrivateKey { // fixed keys, for a fixed output
		return secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{b}, 32))
	}
	patient, family, specialist := key(1), key(2), key(3)
	domain := grant.Domain{ChainID: 1337, Registry: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

	root := &grant.Grant{
		Domain:       domain,
		GranteeKey:   family.PubKey().SerializeCompressed(),
		Packages:     [][]byte{[]byte("cid of the labs package")},
		Categories:   []string{"labs"},
		Operations:   grant.Read | grant.Delegate,
		Depth:        1, // one further delegation allowed
		NotBefore:    uint64(start.Unix()),
		ExpiresAt:    uint64(start.Add(time.Hour).Unix()),
		RevocationID: [32]byte{1},
		Nonce:        1,
	}
	if err := root.Sign(patient); err != nil {
		panic(err)
	}
	rootHash, err := root.Hash()
	if err != nil {
		panic(err)
	}
	child := &grant.Grant{
		Domain:       domain,
		GranteeKey:   specialist.PubKey().SerializeCompressed(),
		Parent:       rootHash,
		Packages:     root.Packages,
		Categories:   root.Categories,
		Operations:   grant.Read, // no wider than the parent
		NotBefore:    root.NotBefore,
		ExpiresAt:    root.ExpiresAt,
		RevocationID: [32]byte{2},
		Nonce:        2,
	}
	if err := child.Sign(family); err != nil {
		panic(err)
	}

	list := revoked{}
	policy := grant.Policy{ // the verifier's own configuration
		Domain:      domain,
		Revocations: list,
		Now:         func() time.Time { return start.Add(10 * time.Minute) },
	}
	req := grant.Request{
		Issuer:     crypto.PubkeyToAddress(*patient.PubKey().ToECDSA()), // the node's own patient
		Holder:     specialist.PubKey(),
		Operations: grant.Read,
		Categories: []string{"labs"},
	}
	v, err := grant.Verify(context.Background(), grant.Chain{root, child}, policy, req)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Println("verified a chain of", len(v.Chain), "grants, valid until", v.ExpiresAt.UTC().Format(time.RFC3339))

	list[root.RevocationID] = uint64(start.Add(5 * time.Minute).Unix())
	_, err = grant.Verify(context.Background(), grant.Chain{root, child}, policy, req)
	var ve *grant.VerifyError
	if errors.Is(err, grant.ErrRevoked) && errors.As(err, &ve) {
		fmt.Println("refused at link", ve.Link, "because", ve.Reason)
	}
	// Output:
	// verified a chain of 2 grants, valid until 2026-11-21T10:00:00Z
	// refused at link 0 because grant revoked
}
