package wallet

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/healthwallet/healthwallet/internal/kubotest"
	"github.com/healthwallet/healthwallet/internal/plaintext"
	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/ipfs/kubo"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// kuboRefs lists the multihashes of every block in a Kubo repository.
func kuboRefs(t *testing.T, api string) map[string]bool {
	t.Helper()
	resp, err := http.Post(api+"/api/v0/refs/local", "", nil)
	must(t, err)
	defer resp.Body.Close()
	out := map[string]bool{}
	dec := json.NewDecoder(resp.Body)
	for {
		var ev struct{ Ref, Err string }
		if err := dec.Decode(&ev); err == io.EOF {
			return out
		} else if err != nil || ev.Err != "" {
			t.Fatalf("refs/local: %v %s", err, ev.Err)
		}
		c, err := cid.Decode(ev.Ref)
		must(t, err)
		out[c.Hash().HexString()] = true
	}
}

// TestKuboReplica: a stock Kubo node added as a replica receives a grant's
// packages on issue (dag/import, pinned), holds ciphertext only, serves
// them through its gateway to anyone (every block checked here against its
// CID, then decrypted with the grant's keys), is named in grants by its
// swarm and gateway addresses, and gives them up when removed.
func TestKuboReplica(t *testing.T) {
	kn := kubotest.Start(t)
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient, specialist := importedPatient(t, "Marguerita_Reilly"), newWallet(t)

	kp, err := patient.AddKuboReplica(ctx, kn.API, kn.Gateway, "")
	must(t, err)
	if kp.Kind != KeeperKubo || kp.PeerID != kn.PeerID || !kp.Reachable {
		t.Fatalf("added replica %+v", kp)
	}
	providers, err := patient.KeeperProviders()
	must(t, err)
	gw, _ := gatewayMultiaddr(kn.Gateway)
	if len(providers) < 2 || providers[len(providers)-1] != gw || !strings.HasSuffix(providers[0], "/p2p/"+kn.PeerID) {
		t.Fatalf("providers %v (gateway %s)", providers, gw)
	}
	sel := Selection{Categories: []fhir.Category{fhir.Medications}}
	g, err := patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: sel, Duration: time.Hour, Providers: providers}, chain)
	must(t, err)
	avail, err := patient.PushToKeepers(ctx, g.Record)
	if err != nil || len(avail) != 2 || !avail[1].OK || avail[1].Kind != KeeperKubo {
		t.Fatalf("push: %+v %v", avail, err)
	}
	roots, err := patient.grantRoots(g.Record)
	must(t, err)
	held := kuboRefs(t, kn.API)
	for r := range roots {
		if !held[r.Hash().HexString()] {
			t.Fatalf("kubo lacks %s", r)
		}
	}

	// Anyone can fetch the ciphertext from the gateway; the grantee's keys
	// open it.
	got, _, _ := patient.SharePackage(ctx, sel, testclock.Now())
	fetcher, err := kubo.NewFetcher(kn.Gateway, nil)
	must(t, err)
	chainG, err := specialist.OpenLink(g.Link)
	must(t, err)
	leaf := chainG.Leaf()
	core, _ := leaf.CoreHash()
	sk, _ := specialist.Keys()
	pks, err := grant.Unwrap(sk.PrivateKey(), core, leaf.WrappedKey)
	must(t, err)
	store, err := ipfs.OpenStore(t.TempDir(), ipfs.StoreOptions{})
	must(t, err)
	defer store.Close()
	var parts [][]byte
	for i, p := range leaf.Packages {
		root, _ := cid.Cast(p)
		must(t, fetcher.Fetch(ctx, root, store))
		var buf bytes.Buffer
		must(t, store.Export(ctx, ipfs.ObjectRef{Root: root, ID: pks[i].ObjectID, Key: pks[i].Key[:], Size: int64(pks[i].Size)}, &buf, nil))
		parts = append(parts, buf.Bytes())
	}
	merged, err := fhir.Merge(parts)
	must(t, err)
	bundle, _ := merged.JSON()
	if !slices.Equal(resourceSet(t, bundle), resourceSet(t, got)) {
		t.Fatal("the packages from kubo do not open to the share package")
	}

	needles := []string{"Hydrochlorothiazide", "Marguerita"}
	if hits, _ := plaintext.Find("bundle", bundle, needles...); len(hits) != len(needles) {
		t.Fatal("needles not in the bundle: the scan below could not fail")
	}
	hits, _, err := plaintext.ScanDir(kn.Repo, needles...)
	must(t, err)
	if len(hits) > 0 {
		t.Fatalf("plaintext in kubo: %v", hits)
	}

	must(t, patient.RemoveKeeper(ctx, kp.ID))
	held = kuboRefs(t, kn.API)
	for r := range roots {
		if held[r.Hash().HexString()] {
			t.Fatalf("%s still in kubo after removal", r)
		}
	}
}
