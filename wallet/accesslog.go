package wallet

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/serve"
	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// AccessEntry is one line of the access log: a presentation of one of this
// wallet's grants to its node, or to one of its keepers (Keeper set). A
// keeper keeps its records in this same format, and the patient's wallet
// merges them (SyncKeepers).
type AccessEntry struct {
	Time      time.Time `json:"time"`
	Peer      string    `json:"peer"`
	Grant     string    `json:"grant"` // hash of the presented grant
	Root      string    `json:"root"`  // hash of this wallet's grant it descends from
	Grantee   string    `json:"grantee"`
	Links     int       `json:"links"`
	Granted   bool      `json:"granted"`
	Reason    string    `json:"reason,omitempty"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	// Suppressed counts the same peer's refusals left out of the log
	// before this one (the node bounds logged refusals).
	Suppressed int `json:"suppressed,omitempty"`
	// Keeper names the keeper the grant was presented to ("" for this
	// wallet's own node); KeeperID is its id in this wallet and KeeperSeq
	// the record's sequence number there (merges skip records they have).
	Keeper    string `json:"keeper,omitempty"`
	KeeperID  string `json:"keeperId,omitempty"`
	KeeperSeq uint64 `json:"keeperSeq,omitempty"`
	// SHL is the id of the SMART Health Link accessed (then Grant, Root
	// and Grantee are empty) and Recipient who the viewer said it is.
	SHL       string `json:"shl,omitempty"`
	Recipient string `json:"recipient,omitempty"`
}

// accessEntryOf is the access-log entry of a presentation: the one format
// of the patient's node and of keepers.
func accessEntryOf(a serve.Access) AccessEntry {
	return AccessEntry{Time: a.Time, Peer: a.Peer.String(), Grant: hex.EncodeToString(a.GrantHash[:]),
		Root: hex.EncodeToString(a.RootHash[:]), Grantee: a.Grantee.Hex(), Links: a.Links, Granted: a.Granted,
		Reason: a.Reason, ExpiresAt: a.ExpiresAt, Suppressed: a.Suppressed}
}

// RecordAccess appends to the access log.
func (w *Wallet) RecordAccess(a serve.Access) error { return w.putAccess(accessEntryOf(a)) }

// putAccess appends one entry to the access log.
func (w *Wallet) putAccess(e AccessEntry) error {
	cat, err := w.Catalog()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(e)
	return cat.Put(catalog.AccessLog, catalog.NewID(), b)
}

// AccessLog lists presentations, oldest first.
func (w *Wallet) AccessLog() ([]AccessEntry, error) {
	cat, err := w.Catalog()
	if err != nil {
		return nil, err
	}
	var out []AccessEntry
	err = cat.ForEach(catalog.AccessLog, func(_ catalog.ID, v []byte) error {
		var e AccessEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	slices.SortFunc(out, func(a, b AccessEntry) int { return a.Time.Compare(b.Time) })
	return out, err
}

func multiaddrString(b []byte) (string, error) {
	m, err := ma.NewMultiaddrBytes(b)
	if err != nil {
		return "", fmt.Errorf("%w: provider address: %v", grant.ErrMalformed, err)
	}
	return m.String(), nil
}
