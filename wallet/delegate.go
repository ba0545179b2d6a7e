package wallet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet/fhir"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// DelegateRequest says how a holder re-shares a grant it received.
type DelegateRequest struct {
	To         string // did:key of the new grantee
	Duration   time.Duration
	Delegable  uint8           // further delegations allowed (≤ what is left)
	Categories []fhir.Category // narrower categories; empty keeps them all
	// ViewOnly drops the Export operation from the child grant.
	ViewOnly bool
	// Sensitive names the sensitive labels to pass on when narrowing (with
	// Categories or Sensitive set): records so labelled are otherwise left
	// out. With neither set the grant goes on whole.
	Sensitive []fhir.Sensitive
}

// Delegate issues a child grant from a grant this wallet received (the
// link it redeemed): no wider scope, no later expiry, depth minus one, the
// keys re-wrapped to the new grantee. Narrowed to some categories, the
// child names only the package objects of those categories and wraps only
// their keys, so the new grantee can neither fetch (the patient's node
// serves only what the presented grant names) nor decrypt the rest. A
// package that cannot be split that way (issued as one object of every
// category, before packages were split, or an International Patient
// Summary) is refused with ErrCannotNarrow rather than handed on whole.
func (w *Wallet) Delegate(ctx context.Context, link string, req DelegateRequest, chain ChainConfig) (*IssuedGrant, error) {
	c, err := w.OpenLink(link)
	if err != nil {
		return nil, err
	}
	keys, err := w.Keys()
	if err != nil {
		return nil, err
	}
	conn, err := w.connect(ctx, chain)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := grant.Verify(ctx, c, conn.policy(w.now), grant.Request{Holder: keys.PublicKey(), Operations: grant.Delegate}); err != nil {
		return nil, err
	}
	parent := c.Leaf()
	if parent.Depth == 0 {
		return nil, fmt.Errorf("%w: this grant does not allow re-sharing", grant.ErrNotGranted)
	}
	if req.Delegable > parent.Depth-1 {
		return nil, fmt.Errorf("%w: at most %d further delegations are left", grant.ErrNotGranted, parent.Depth-1)
	}
	granteeKey, err := identity.ParseDIDKey(req.To)
	if err != nil {
		return nil, err
	}
	core, err := parent.CoreHash()
	if err != nil {
		return nil, err
	}
	pks, err := grant.Unwrap(keys.PrivateKey(), core, parent.WrappedKey)
	if err != nil {
		return nil, err
	}
	now := w.now().UTC()
	exp := min(uint64(now.Add(req.Duration).Unix()), parent.ExpiresAt)
	nb := max(uint64(now.Unix()), parent.NotBefore)
	idx, err := w.nextRevocationIndex(time.Unix(int64(nb), 0))
	if err != nil {
		return nil, err
	}
	child := &grant.Grant{
		Domain: chain.Domain(), GranteeKey: granteeKey.SerializeCompressed(), Packages: parent.Packages,
		Providers: parent.Providers, ResourceTypes: parent.ResourceTypes, Categories: parent.Categories,
		Sensitive: parent.Sensitive, Operations: parent.Operations &^ grant.Delegate, Depth: req.Delegable,
		NotBefore: nb, ExpiresAt: exp,
		RevocationID: chain.revocationID(revocationSecret(keys, idx)),
		Nonce:        randomNonce(),
	}
	if req.Delegable > 0 {
		child.Operations |= grant.Delegate
	}
	if req.ViewOnly {
		child.Operations &^= grant.Export
	}
	if len(req.Categories) > 0 {
		var cats []string
		for _, cat := range req.Categories {
			if len(parent.Categories) > 0 && !slices.Contains(parent.Categories, string(cat)) {
				return nil, fmt.Errorf("%w: category %s is not in the grant", grant.ErrNotGranted, cat)
			}
			cats = append(cats, string(cat))
		}
		child.Categories = cats
	}
	if len(req.Categories) > 0 || len(req.Sensitive) > 0 {
		if child.Packages, pks, err = narrowPackages(parent, pks, req.Categories, req.Sensitive); err != nil {
			return nil, err
		}
		if types, sensitive, ok := groupsScope(pks); ok {
			child.ResourceTypes, child.Sensitive = types, sensitive
		}
	}
	if child.ExpiresAt <= child.NotBefore {
		return nil, fmt.Errorf("%w: the grant has expired", grant.ErrExpired)
	}
	if child.Parent, err = parent.Hash(); err != nil {
		return nil, err
	}
	if err := w.sealAndSign(child, keys, pks); err != nil {
		return nil, err
	}
	return w.saveIssued(append(slices.Clone(c), child), idx, nil, nil, req.To)
}

// ErrCannotNarrow: a re-share asked for less than the grant's package can
// be split into.
var ErrCannotNarrow = errors.New("cannot re-share only part of this grant")

// narrowPackages keeps the package objects of a grant (CIDs and unwrapped
// keys, in the grant's order) whose group is one of cats (all, if empty)
// and whose sensitive labels are all in labels. It refuses when an object
// it would have to split mixes groups, and when nothing is left.
func narrowPackages(parent *grant.Grant, pks []grant.PackageKey, cats []fhir.Category, labels []fhir.Sensitive) ([][]byte, []grant.PackageKey, error) {
	if len(pks) != len(parent.Packages) {
		return nil, nil, fmt.Errorf("%w: %d keys for %d packages", grant.ErrMalformed, len(pks), len(parent.Packages))
	}
	wantCat := func(c string) bool { return len(cats) == 0 || slices.Contains(cats, fhir.Category(c)) }
	wantLabels := func(ls []string) bool {
		for _, l := range ls {
			if !slices.Contains(labels, fhir.Sensitive(l)) {
				return false
			}
		}
		return true
	}
	// Whether anything is dropped, as the grant's public scope tells: not
	// the Patient's own category (every object holds the Patient).
	narrows := !wantLabels(parent.Sensitive)
	for _, c := range parent.Categories {
		if !wantCat(c) && c != string(fhir.People) {
			narrows = true
		}
	}
	var roots [][]byte
	var kept []grant.PackageKey
	for i, k := range pks {
		switch {
		case k.Mixed() && narrows:
			return nil, nil, fmt.Errorf("%w: its records came as one package (an International Patient Summary, or a grant issued before packages were split by category); ask the patient for a grant of only what you want to pass on", ErrCannotNarrow)
		case k.Mixed() || wantCat(k.Category) && wantLabels(k.Sensitive):
			roots, kept = append(roots, parent.Packages[i]), append(kept, k)
		}
	}
	if len(kept) == 0 {
		return nil, nil, fmt.Errorf("%w: the grant holds no records of that scope (sensitive records go on only if named)", ErrCannotNarrow)
	}
	return roots, kept, nil
}

// groupsScope lists the resource types and sensitive labels the objects of
// pks hold, sorted; ok is false if one of them mixes groups (its scope is
// the grant's).
func groupsScope(pks []grant.PackageKey) (types, sensitive []string, ok bool) {
	for _, k := range pks {
		if k.Mixed() {
			return nil, nil, false
		}
		types = append(types, k.ResourceTypes...)
		sensitive = append(sensitive, k.Sensitive...)
	}
	slices.Sort(types)
	slices.Sort(sensitive)
	return slices.Compact(types), slices.Compact(sensitive), true
}
