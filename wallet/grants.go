package wallet

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// Grant directions.
const (
	Issued   = "issued"
	Received = "received"
)

// GrantRecord is the catalog's entry for a grant this wallet issued or
// received.
type GrantRecord struct {
	ID         catalog.ID   `json:"-"`
	Direction  string       `json:"direction"`
	Hash       string       `json:"hash"` // EIP-712 hash of the grant, hex
	Link       string       `json:"link"`
	Issuer     string       `json:"issuer"`  // address
	Grantee    string       `json:"grantee"` // did:key
	Summary    string       `json:"summary"`
	Records    []catalog.ID `json:"records,omitempty"` // issued: what the package holds
	Package    catalog.ID   `json:"package"`           // the package object in this wallet's store
	Objects    []catalog.ID `json:"objects,omitempty"` // issued: all its objects, one per group; Package is the first
	NotBefore  time.Time    `json:"notBefore"`
	ExpiresAt  time.Time    `json:"expiresAt"`
	Operations string       `json:"operations"`
	Depth      uint8        `json:"depth"`
	Links      int          `json:"links"` // length of the chain (1: from the patient)
	// RevocationIndex is the index of the revocation secret (issued and
	// delegated grants).
	RevocationIndex uint64 `json:"revocationIndex"`
	// RevokedAt is set once the wallet's own RPC shows the revocation mined
	// (a receipt, and revokedAt(id) ≠ 0 on the registry).
	RevokedAt time.Time `json:"revokedAt,omitzero"`
	// RevokePending is when the patient asked to revoke a grant the chain
	// does not show revoked yet: the patient's own node refuses it already,
	// and Revoke may be called again.
	RevokePending time.Time `json:"revokePending,omitzero"`
	RevokeTx      string    `json:"revokeTx,omitempty"`
	Created       time.Time `json:"created"`

	// Live marks a live grant (see RefreshLive): issued, it follows
	// LiveSelection; received, RefreshReceived fetches its newer versions.
	Live bool `json:"live,omitempty"`
	// LiveName is the grant's IPNS name (the link's #live=).
	LiveName string `json:"liveName,omitempty"`
	// LiveSeq is the current version (issued) or the newest one fetched
	// (received); LiveRoot its package root (a CID).
	LiveSeq  uint64 `json:"liveSeq,omitempty"`
	LiveRoot string `json:"liveRoot,omitempty"`
	// Issued live grants: what the grant follows, the record contents
	// (object ids) its current version holds, that version's package
	// object, its signed IPNS record and envelope.
	LiveSelection *Selection   `json:"liveSelection,omitempty"`
	LiveContent   []catalog.ID `json:"liveContent,omitempty"`
	LiveObject    catalog.ID   `json:"liveObject,omitzero"`
	LiveIPNS      []byte       `json:"liveIpns,omitempty"`
	LiveEnvelope  []byte       `json:"liveEnvelope,omitempty"`
}

// AllowsExport reports whether the grant lets its holder save the shared
// Bundle outside the wallet (the Export operation).
func (g GrantRecord) AllowsExport() bool {
	return slices.Contains(strings.Fields(strings.Trim(g.Operations, "[]")), "export")
}

// Status is a grant's state as the wallet shows it.
func (g GrantRecord) Status(now time.Time) string {
	left := g.ExpiresAt.Sub(now)
	switch {
	case !g.RevokedAt.IsZero():
		return "revoked"
	case !g.RevokePending.IsZero():
		return RevocationPending
	case !now.Before(g.ExpiresAt):
		return "expired"
	case now.Before(g.NotBefore):
		return "not yet valid"
	case left < 24*time.Hour && left < g.ExpiresAt.Sub(g.NotBefore)/4:
		return "expiring soon"
	}
	return "active"
}

func grantSummary(g *grant.Grant, n int) string {
	what := strings.Join(g.Categories, ", ")
	if len(g.Sensitive) > 0 {
		what += " (including " + strings.Join(g.Sensitive, ", ") + ")"
	}
	if n > 0 {
		return fmt.Sprintf("%d records: %s", n, what)
	}
	return what
}

func (w *Wallet) putGrant(rec GrantRecord) error {
	cat, err := w.Catalog()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(rec)
	return cat.Put(catalog.Grants, rec.ID, b)
}

// Grants lists the grants this wallet issued and received, newest first.
func (w *Wallet) Grants() ([]GrantRecord, error) {
	cat, err := w.Catalog()
	if err != nil {
		return nil, err
	}
	var out []GrantRecord
	err = cat.ForEach(catalog.Grants, func(id catalog.ID, v []byte) error {
		var g GrantRecord
		if err := json.Unmarshal(v, &g); err != nil {
			return fmt.Errorf("grant %s: %w", id, err)
		}
		g.ID = id
		out = append(out, g)
		return nil
	})
	slices.SortFunc(out, func(a, b GrantRecord) int { return b.Created.Compare(a.Created) })
	return out, err
}

// FindGrant finds a grant by catalog id, or a prefix of its id or hash.
func (w *Wallet) FindGrant(s string) (GrantRecord, error) {
	all, err := w.Grants()
	if err != nil {
		return GrantRecord{}, err
	}
	return findByPrefix(all, s, "grant", func(g GrantRecord) []string { return []string{g.ID.String(), g.Hash} })
}
