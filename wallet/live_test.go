package wallet

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"

	"github.com/healthwallet/healthwallet/internal/plaintext"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/live"
	"github.com/healthwallet/healthwallet/wallet/fhir"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// newLab is a Synthea-shaped laboratory Observation of Marguerita Reilly
// the fixture does not hold: HbA1c 7.1 % on 20 November 2026, the day before the fixed test clock.
func newLab(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "live", "a1c-2026-11-20.json"))
	must(t, err)
	return b
}

// nonPatients counts the resources of a Bundle's type counts that are not
// the Patient.
func nonPatients(types map[string]int) int {
	n := 0
	for t, c := range types {
		if t != "Patient" {
			n += c
		}
	}
	return n
}

// TestLiveGrantFollowsNewLab: the patient grants labs live to a family
// member, who redeems the newest version (every lab result); the patient
// imports a new lab result, which publishes version 2 at once; the family
// member's RefreshReceived fetches it without a new grant and names the
// new result. Once the grant is revoked on chain, imports publish nothing
// and the family member's fetch is refused. No block of either wallet
// holds plaintext.
func TestLiveGrantFollowsNewLab(t *testing.T) {
	ctx := t.Context()
	d, chain := startDevnet(t)
	patient, srv := servingPatient(t, chain)
	family := newWallet(t)
	labs, err := patient.Records(Filter{Category: fhir.Labs})
	must(t, err)

	issued, err := patient.IssueGrant(ctx, GrantRequest{To: family.Info().DID, Selection: labsSel, Duration: 24 * time.Hour,
		Providers: srv.Addrs(), Live: true}, chain)
	must(t, err)
	grantLink, name, ok, err := live.SplitLink(issued.Link)
	if err != nil || !ok {
		t.Fatalf("link %.60q…: live %v, %v", issued.Link, ok, err)
	}
	if want, _ := patient.LiveName(issued.Record); name != want || issued.Record.LiveName != name.String() {
		t.Fatalf("live name %s, record %s, want %s", name, issued.Record.LiveName, want)
	}
	if issued.Record.LiveSeq != 1 || !strings.HasPrefix(grantLink, grant.LinkPrefix) {
		t.Fatalf("issued: seq %d, grant link %.20q", issued.Record.LiveSeq, grantLink)
	}

	red, err := family.Redeem(ctx, issued.Link, chain, fastRedeem())
	must(t, err)
	if !red.Record.Live || red.Record.LiveSeq != 1 || red.Record.LiveName != name.String() {
		t.Fatalf("redeemed: live %v seq %d name %s", red.Record.Live, red.Record.LiveSeq, red.Record.LiveName)
	}
	if got := bundleTypes(t, red.Bundle); nonPatients(got) != len(labs) || got["Patient"] != 1 {
		t.Fatalf("version 1 holds %v, want the %d lab records and the Patient", got, len(labs))
	}
	// Nothing new yet: no update.
	if us, err := family.RefreshReceived(ctx, fastRedeem()); err != nil || len(us) != 0 {
		t.Fatalf("refresh before any import: %d updates, %v", len(us), err)
	}

	res, err := patient.ImportFHIR(ctx, "a1c.json", newLab(t))
	must(t, err)
	if res.Added != 1 || res.Live != 1 || res.LiveError != "" {
		t.Fatalf("import: added %d, live %d (%s), want 1 and 1", res.Added, res.Live, res.LiveError)
	}
	g, err := patient.FindGrant(issued.Record.Hash)
	must(t, err)
	if g.LiveSeq != 2 || len(g.Records) != len(labs)+2 { // the labs, the new one, the Patient
		t.Fatalf("patient's grant: seq %d, %d records, want 2 and %d", g.LiveSeq, len(g.Records), len(labs)+2)
	}
	// The same records again: no new version.
	if n, err := patient.RefreshLive(ctx); n != 0 || err != nil {
		t.Fatalf("RefreshLive with nothing new: %d, %v", n, err)
	}

	// GC keeps the current version (its package and envelope block) and
	// drops nothing a grant needs.
	_, err = patient.GC(ctx)
	must(t, err)

	us, err := family.RefreshReceived(ctx, fastRedeem())
	must(t, err)
	if len(us) != 1 || us[0].Seq != 2 {
		t.Fatalf("refresh: %+v, want version 2", us)
	}
	wantLine := "version 2: 1 new record: Hemoglobin A1c/Hemoglobin.total in Blood 7.1 % (20 Nov 2026)"
	if got := us[0].VersionLine(); got != wantLine {
		t.Fatalf("version line %q, want %q", got, wantLine)
	}
	if got := bundleTypes(t, us[0].Bundle); nonPatients(got) != len(labs)+1 {
		t.Fatalf("version 2 holds %v, want %d lab records", got, len(labs)+1)
	}
	rg, err := family.FindGrant(red.Record.Hash)
	must(t, err)
	var kept strings.Builder
	must(t, family.ReadObject(ctx, rg.Package, &kept, nil))
	if rg.LiveSeq != 2 || !strings.Contains(kept.String(), "5d1c0e7a-3f0b-4c55-9a51-2a7e7f1c2d02") {
		t.Fatalf("family's grant: seq %d; kept Bundle holds the new result: %v", rg.LiveSeq, strings.Contains(kept.String(), "5d1c0e7a"))
	}

	// Revoked on chain: no more versions, and the family is refused.
	_, err = patient.Revoke(ctx, g, directRevoker(t, d, chain), chain)
	must(t, err)
	more := strings.Replace(string(newLab(t)), "5d1c0e7a-3f0b-4c55-9a51-2a7e7f1c2d02", "5d1c0e7a-3f0b-4c55-9a51-2a7e7f1c2d03", 1)
	more = strings.Replace(more, `"value": 7.1`, `"value": 6.8`, 1)
	res, err = patient.ImportFHIR(ctx, "a1c-2.json", []byte(more))
	must(t, err)
	if res.Added != 1 || res.Live != 0 {
		t.Fatalf("import after revocation: added %d, live %d, want 1 and 0", res.Added, res.Live)
	}
	_, err = family.RefreshReceived(ctx, fastRedeem())
	if !errors.Is(err, grant.ErrRevoked) {
		t.Fatalf("refresh after revocation: %v, want grant.ErrRevoked", err)
	}

	needles := []string{"Hemoglobin A1c/Hemoglobin.total", "Marguerita", "5d1c0e7a-3f0b-4c55-9a51-2a7e7f1c2d02"}
	for _, w := range []*Wallet{patient, family} {
		hits, files, err := plaintext.ScanDir(w.Home(), needles...)
		must(t, err)
		if len(hits) > 0 || files == 0 {
			t.Fatalf("%s: plaintext %v in %d files", w.Home(), hits, files)
		}
	}
}

// TestLiveNameSurvivesRestore: the live name derives from the identity key
// and the grant's revocation index only, so a wallet restored from its
// phrase publishes under the same name; another index gives another name.
func TestLiveNameSurvivesRestore(t *testing.T) {
	p, _ := identity.NewPhrase()
	a, err := Create(filepath.Join(t.TempDir(), "a"), p, pass, fast)
	must(t, err)
	b, err := Create(filepath.Join(t.TempDir(), "b"), p, pass, fast)
	must(t, err)
	ka, _ := a.Keys()
	kb, _ := b.Keys()
	_, na, err := live.NameKey(liveSeed(ka, 7))
	must(t, err)
	_, nb, _ := live.NameKey(liveSeed(kb, 7))
	_, other, _ := live.NameKey(liveSeed(ka, 8))
	if na != nb || na == other {
		t.Fatalf("names: %s, restored %s, index 8 %s", na, nb, other)
	}
	if _, err := ipns.NameFromString(na.String()); err != nil {
		t.Fatal(err)
	}
}

// TestLiveGrantRefusals: a live grant cannot be delegable, and a grant
// that is not live has no live name.
func TestLiveGrantRefusals(t *testing.T) {
	ctx := t.Context()
	patient := importedPatient(t, "Marguerita_Reilly")
	family := newWallet(t)
	chain := ChainConfig{ChainID: 1337, Registry: [20]byte{1}}
	_, err := patient.IssueGrant(ctx, GrantRequest{To: family.Info().DID, Selection: labsSel, Duration: time.Hour, Delegable: 1, Live: true}, chain)
	if !errors.Is(err, ErrLiveDelegable) {
		t.Fatalf("delegable live grant: %v", err)
	}
	g, err := patient.IssueGrant(ctx, GrantRequest{To: family.Info().DID, Selection: labsSel, Duration: time.Hour}, chain)
	must(t, err)
	if _, err := patient.LiveName(g.Record); !errors.Is(err, ErrNotLive) {
		t.Fatalf("live name of a plain grant: %v", err)
	}
	if strings.Contains(g.Link, live.LinkMarker) {
		t.Fatal("a plain grant's link carries a live name")
	}
}

// TestLiveGrantFromKeeper: with the patient's node away, the keeper serves
// a live grant's newest version: version 1 at redemption, version 2 after
// the patient imports a new lab result (pushed at once), and nothing once
// the grant is revoked on chain.
func TestLiveGrantFromKeeper(t *testing.T) {
	ctx := t.Context()
	d, chain := startDevnet(t)
	patient := importedPatient(t, "Marguerita_Reilly")
	keeperW, family := newWallet(t), newWallet(t)
	k, err := keeperW.Keep(ctx, KeeperConfig{Listen: tcpLoopback, Chain: chain, RefreshEvery: 200 * time.Millisecond})
	must(t, err)
	defer k.Close()
	_, err = patient.AddKeeper(ctx, k.Addrs()[0], "Mum's PC")
	must(t, err)
	extra, err := patient.KeeperProviders()
	must(t, err)

	issued, err := patient.IssueGrant(ctx, GrantRequest{To: family.Info().DID, Selection: labsSel, Duration: 24 * time.Hour,
		Providers: extra, Live: true}, chain)
	must(t, err)
	red, err := family.Redeem(ctx, issued.Link, chain, fastRedeem())
	must(t, err)
	if red.Record.LiveSeq != 1 || !strings.Contains(red.Provider, k.PeerID()) {
		t.Fatalf("redeemed version %d from %s, want 1 from the keeper %s", red.Record.LiveSeq, red.Provider, k.PeerID())
	}

	res, err := patient.ImportFHIR(ctx, "a1c.json", newLab(t))
	must(t, err)
	if res.Live != 1 {
		t.Fatalf("import published %d versions (%s), want 1", res.Live, res.LiveError)
	}
	us, err := family.RefreshReceived(ctx, fastRedeem())
	must(t, err)
	if len(us) != 1 || us[0].Seq != 2 || len(us[0].New) != 1 || !strings.HasPrefix(us[0].New[0], "Hemoglobin A1c") {
		t.Fatalf("refresh from the keeper: %+v", us)
	}

	g, err := patient.FindGrant(issued.Record.Hash)
	must(t, err)
	_, err = patient.Revoke(ctx, g, directRevoker(t, d, chain), chain)
	must(t, err)
	// The keeper's revocation mirror catches up within its refresh.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = family.RefreshReceived(ctx, fastRedeem())
		if errors.Is(err, grant.ErrRevoked) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !errors.Is(err, grant.ErrRevoked) {
		t.Fatalf("keeper after revocation: %v, want grant.ErrRevoked", err)
	}
}
