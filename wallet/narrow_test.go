package wallet

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// unwrapLeaf opens the keys of the presented grant of c with w's key.
func unwrapLeaf(t *testing.T, w *Wallet, c grant.Chain) []grant.PackageKey {
	t.Helper()
	keys, err := w.Keys()
	if err != nil {
		t.Fatal(err)
	}
	core, _ := c.Leaf().CoreHash()
	pks, err := grant.Unwrap(keys.PrivateKey(), core, c.Leaf().WrappedKey)
	if err != nil {
		t.Fatal(err)
	}
	return pks
}

// bundleTypes counts the resources of a FHIR Bundle by type.
func bundleTypes(t *testing.T, b []byte) map[string]int {
	t.Helper()
	doc, err := fhir.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, r := range doc.Resources {
		types[r.Type]++
	}
	return types
}

// resourceSet returns the resources of a FHIR Bundle as sorted JSON: its
// content whatever the order of the entries.
func resourceSet(t testing.TB, b []byte) []string {
	t.Helper()
	doc, err := fhir.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range doc.Resources {
		out = append(out, string(r.JSON()))
	}
	slices.Sort(out)
	return out
}

// TestDelegationNarrows: a family member who re-shares "labs only" hands
// on only the labs: the specialist's Bundle holds no medication and no
// sensitive record, the specialist holds no key of the medication object,
// and the patient's node does not serve its blocks to the specialist.
func TestDelegationNarrows(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient, family, specialist := newWallet(t), newWallet(t), newWallet(t)
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	if _, err := patient.ImportFHIR(ctx, "m.json", data); err != nil {
		t.Fatal(err)
	}
	// A sensitive procedure (HIV) and a sensitive medication (a
	// contraceptive), named one by one.
	all, _ := patient.Records(Filter{})
	var sensitiveProc, sensitiveMed, plainLab Record
	for _, r := range all {
		switch {
		case r.HasSensitive(fhir.HIV) && r.Category == fhir.Procedures && sensitiveProc.Index.ID == "":
			sensitiveProc = r
		case r.IsSensitive() && r.Category == fhir.Medications && sensitiveMed.Index.ID == "":
			sensitiveMed = r
		case !r.IsSensitive() && r.Category == fhir.Labs && r.Type == "Observation" && plainLab.Index.ID == "":
			plainLab = r
		}
	}
	if len(sensitiveProc.Index.ID) < 8 || len(sensitiveMed.Index.ID) < 8 || len(plainLab.Index.ID) < 8 {
		t.Fatalf("fixture: sensitive procedure %q, sensitive medication %q, lab %q", sensitiveProc.Index.ID, sensitiveMed.Index.ID, plainLab.Index.ID)
	}
	srv, err := patient.Serve(ctx, ServeConfig{Listen: ipfs.LoopbackListen, Chain: chain, RefreshEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	sel := Selection{Categories: []fhir.Category{fhir.Labs, fhir.Medications}, Records: []catalog.ID{sensitiveProc.ID, sensitiveMed.ID}}
	g, err := patient.IssueGrant(ctx, GrantRequest{To: family.Info().DID, Selection: sel, Duration: 7 * 24 * time.Hour, Delegable: 1, Providers: srv.Addrs()}, chain)
	if err != nil {
		t.Fatal(err)
	}
	// The family member receives everything the patient shared.
	red, err := family.Redeem(ctx, g.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen})
	if err != nil {
		t.Fatalf("family redeem: %v", err)
	}
	// Merged from its objects, it holds exactly the share package, the
	// Patient once.
	want, _, err := patient.SharePackage(ctx, sel, time.Now())
	if err != nil || !slices.Equal(resourceSet(t, red.Bundle), resourceSet(t, want)) {
		t.Fatalf("family's bundle differs from the share package (%v)", err)
	}
	if n := len(g.Chain.Leaf().Packages); n < 4 {
		t.Fatalf("the package is %d objects; want one per group (labs, medications, and the two sensitive ones)", n)
	}
	for _, needle := range []string{"Hydrochlorothiazide", sensitiveProc.Index.ID, sensitiveMed.Index.ID, plainLab.Index.ID} {
		if !bytes.Contains(red.Bundle, []byte(needle)) {
			t.Fatalf("family's bundle lacks %q", needle)
		}
	}
	// The family's keys say which object is which.
	famKeys := unwrapLeaf(t, family, g.Chain)
	var medRoots []cid.Cid
	var medIDs [][16]byte
	for i, k := range famKeys {
		if k.Category == string(fhir.Medications) {
			root, _ := cid.Cast(g.Chain.Leaf().Packages[i])
			medRoots, medIDs = append(medRoots, root), append(medIDs, k.ObjectID)
		}
	}
	if len(medRoots) == 0 {
		t.Fatalf("no medication object among %d", len(famKeys))
	}

	// Family → specialist: labs only.
	child, err := family.Delegate(ctx, g.Link, DelegateRequest{To: specialist.Info().DID, Duration: 24 * time.Hour, Categories: []fhir.Category{fhir.Labs}}, chain)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := specialist.Redeem(ctx, child.Link, chain, RedeemOptions{Out: &out, Listen: ipfs.LoopbackListen}); err != nil {
		t.Fatalf("specialist redeem: %v", err)
	}
	types := bundleTypes(t, out.Bytes())
	if types["Observation"] == 0 || types["DiagnosticReport"] == 0 || types["Patient"] != 1 {
		t.Fatalf("specialist's bundle lacks the labs: %v", types)
	}
	if types["MedicationRequest"] > 0 || bytes.Contains(out.Bytes(), []byte("Hydrochlorothiazide")) {
		t.Fatalf("a labs-only delegate received medications: %v", types)
	}
	for _, r := range []Record{sensitiveProc, sensitiveMed} {
		if bytes.Contains(out.Bytes(), []byte(r.Index.ID)) {
			t.Fatalf("a labs-only delegate received the sensitive %s %q", r.Type, r.Summary)
		}
	}
	if !bytes.Contains(out.Bytes(), []byte(plainLab.Index.ID)) {
		t.Fatal("the specialist's bundle lacks a shared lab")
	}

	// The specialist can unwrap no key of a medication object, and its
	// grant does not name one.
	leaf := child.Chain.Leaf()
	for _, k := range unwrapLeaf(t, specialist, child.Chain) {
		if slices.Contains(medIDs, k.ObjectID) || k.Category != string(fhir.Labs) || len(k.Sensitive) > 0 {
			t.Fatalf("specialist holds the key of a %s object %v", k.Category, k.Sensitive)
		}
	}
	for _, p := range leaf.Packages {
		if c, _ := cid.Cast(p); slices.Contains(medRoots, c) {
			t.Fatalf("the delegated grant names the medication object %s", c)
		}
	}
	if slices.Contains(leaf.ResourceTypes, "MedicationRequest") || len(leaf.Sensitive) > 0 {
		t.Fatalf("delegated scope: types %v, sensitive %v", leaf.ResourceTypes, leaf.Sensitive)
	}

	// The patient's node does not serve the medication object's blocks to
	// the specialist, though it serves the labs.
	peerKey, _ := specialist.PeerKey()
	specPeer, _ := peer.IDFromPrivateKey(peerKey)
	labsRoot, _ := cid.Cast(leaf.Packages[0])
	if !srv.grants.Allowed(specPeer, labsRoot) {
		t.Fatal("the node does not serve the specialist the labs it was granted")
	}
	for _, root := range medRoots {
		if srv.grants.Allowed(specPeer, root) {
			t.Fatalf("the node serves the specialist the medication object %s", root)
		}
	}
	store, _ := specialist.objectStore()
	node, err := ipfs.StartNode(ctx, store, ipfs.NodeConfig{Key: peerKey, Listen: ipfs.LoopbackListen, StallTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	_, deniedBefore := srv.node.Stats()
	err = node.FetchGraph(ctx, medRoots[0], []peer.AddrInfo{srv.node.AddrInfo()})
	if !errors.Is(err, ipfs.ErrNotServed) {
		t.Fatalf("fetching the medication object as the specialist: %v", err)
	}
	if _, denied := srv.node.Stats(); denied <= deniedBefore {
		t.Fatal("the node recorded no refused block")
	}

	// Re-sharing medications passes on a sensitive one only if named.
	second := newWallet(t)
	meds, err := family.Delegate(ctx, g.Link, DelegateRequest{To: second.Info().DID, Duration: time.Hour, Categories: []fhir.Category{fhir.Medications}}, chain)
	if err != nil {
		t.Fatal(err)
	}
	red, err = second.Redeem(ctx, meds.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(red.Bundle, []byte("Hydrochlorothiazide")) || bytes.Contains(red.Bundle, []byte(sensitiveMed.Index.ID)) || bytes.Contains(red.Bundle, []byte(plainLab.Index.ID)) {
		t.Fatal("medications re-shared without naming the sensitive one: wrong content")
	}
	named := slices.Clone(sensitiveMed.Sensitive)
	meds, err = family.Delegate(ctx, g.Link, DelegateRequest{To: second.Info().DID, Duration: time.Hour, Categories: []fhir.Category{fhir.Medications}, Sensitive: named}, chain)
	if err != nil {
		t.Fatal(err)
	}
	red, err = second.Redeem(ctx, meds.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen})
	if err != nil || !bytes.Contains(red.Bundle, []byte(sensitiveMed.Index.ID)) {
		t.Fatalf("named sensitive label not passed on: %v", err)
	}

	// A narrowing that leaves nothing is refused.
	if _, err := family.Delegate(ctx, g.Link, DelegateRequest{To: second.Info().DID, Duration: time.Hour, Categories: []fhir.Category{fhir.People}}, chain); !errors.Is(err, ErrCannotNarrow) {
		t.Fatalf("narrowed to nothing: %v", err)
	}
}

// TestDelegationOfMixedPackage: a grant whose package is one object of
// every category (as issued before packages were split) cannot be
// narrowed: Delegate refuses rather than hand on the whole package, and
// still re-shares it whole when asked to.
func TestDelegationOfMixedPackage(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient, family, specialist := newWallet(t), newWallet(t), newWallet(t)
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	if _, err := patient.ImportFHIR(ctx, "m.json", data); err != nil {
		t.Fatal(err)
	}
	// The patient's grant, built as before: one package, one key.
	now := patient.now().UTC()
	bundle, recs, err := patient.SharePackage(ctx, Selection{Categories: []fhir.Category{fhir.Labs, fhir.Medications}}, now)
	if err != nil {
		t.Fatal(err)
	}
	_, ref, err := patient.PutObject(ctx, bytes.NewReader(bundle), int64(len(bundle)), nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := patient.Keys()
	granteeKey, _ := family.Keys()
	idx, _ := patient.nextRevocationIndex(now)
	g := &grant.Grant{
		Domain: chain.Domain(), GranteeKey: granteeKey.PublicKey().SerializeCompressed(), Packages: [][]byte{ref.Root.Bytes()},
		Operations: grant.Read | grant.Export | grant.Delegate, Depth: 1, NotBefore: uint64(now.Unix()), ExpiresAt: uint64(now.Add(time.Hour).Unix()),
		RevocationID: chain.revocationID(revocationSecret(keys, idx)), Nonce: randomNonce(),
	}
	g.ResourceTypes, g.Categories, g.Sensitive = scopeOf(recs)
	if err := patient.sealAndSign(g, keys, []grant.PackageKey{packageKey(ref)}); err != nil {
		t.Fatal(err)
	}
	link, err := grant.Chain{g}.Link(keys.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	req := DelegateRequest{To: specialist.Info().DID, Duration: time.Hour, Categories: []fhir.Category{fhir.Labs}}
	if _, err := family.Delegate(ctx, link, req, chain); !errors.Is(err, ErrCannotNarrow) {
		t.Fatalf("narrowing a mixed package: %v", err)
	}
	// Keeping every category (the Patient's own aside) narrows nothing.
	req.Categories = []fhir.Category{fhir.Labs, fhir.Medications}
	child, err := family.Delegate(ctx, link, req, chain)
	if err != nil {
		t.Fatalf("re-sharing a mixed package whole: %v", err)
	}
	if !slices.EqualFunc(child.Chain.Leaf().Packages, g.Packages, bytes.Equal) || !slices.Equal(child.Chain.Leaf().ResourceTypes, g.ResourceTypes) {
		t.Fatalf("whole re-share: packages %d, types %v", len(child.Chain.Leaf().Packages), child.Chain.Leaf().ResourceTypes)
	}
}
