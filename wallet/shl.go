package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/share/keep"
	"github.com/healthwallet/healthwallet/share/shl"
	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// SHLContentType is the content type of the one file of this wallet's
// SMART Health Links: the FHIR Bundle share package a grant would carry.
const SHLContentType = "application/fhir+json"

// MaxSHLLabel is the longest label a SMART Health Link carries (the spec's
// 80 characters).
const MaxSHLLabel = 80

// SHLOptions says what a SMART Health Link shares, for how long, and how.
type SHLOptions struct {
	// Selection chooses the records, as for a grant (Preset PresetIPS: the
	// International Patient Summary's records, in an IPS-shaped Bundle).
	Selection Selection
	// For is how long the link works (MinGrantDuration..MaxGrantDuration).
	For time.Duration
	// Passcode, if set, must be given to open the link (flag P); the
	// serving keeper counts wrong attempts and locks the link.
	Passcode string
	// Live makes the link follow its selection (flag L): RefreshLiveSHLs
	// re-encrypts it, under the same key, when records are added.
	Live bool
	// Label is shown by viewers (at most MaxSHLLabel characters).
	Label string
	// Viewer, if set, prefixes the link: VIEWER#shlink:/….
	Viewer string
	// URL, if set, is the HTTPS base URL that serves the manifest (the
	// patient's own node); by default the first keeper that serves SMART
	// Health Links.
	URL string
}

// SHLRecord is this wallet's record of a SMART Health Link it created. It
// is kept in the encrypted catalog; the link itself (which holds the key)
// never leaves it except as the user shares it.
type SHLRecord struct {
	ID      string    `json:"id"` // the link's id: 44 base64url characters (shl.NewID), the manifest path's last part
	Link    string    `json:"link"`
	Label   string    `json:"label,omitempty"`
	Flags   string    `json:"flags,omitempty"`
	URL     string    `json:"url"` // the manifest URL
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Updated is when the file was last (re-)encrypted; Version counts
	// the versions of a live link (1 for the first).
	Updated time.Time `json:"updated"`
	Version int       `json:"version"`
	// RevocationIndex is the index of the revocation secret, as for
	// grants; RevocationID is its registry id (0x hex).
	RevocationIndex uint64    `json:"revocationIndex"`
	RevocationID    string    `json:"revocationId"`
	RevokedAt       time.Time `json:"revokedAt,omitzero"`
	RevokePending   time.Time `json:"revokePending,omitzero"`
	RevokeTx        string    `json:"revokeTx,omitempty"`
	Live            bool      `json:"live,omitempty"`
	// Records is how many records the file holds; RecordIDs which.
	Records   int          `json:"records"`
	RecordIDs []catalog.ID `json:"recordIds,omitempty"`
	// Roots are the CIDs of the file's JWE (a plain UnixFS file of the
	// ciphertext) in the wallet's block store and on keepers.
	Roots []string `json:"roots"`
	// PasscodeHash is the argon2id hash keepers check passcodes against.
	PasscodeHash string `json:"passcodeHash,omitempty"`
	// Selection is what the link shares (a live link re-reads it).
	Selection Selection `json:"selection"`
}

// Status is the link's state as the wallet shows it: "revoked",
// RevocationPending, "expired" or "active".
func (r SHLRecord) Status(now time.Time) string {
	switch {
	case !r.RevokedAt.IsZero():
		return "revoked"
	case !r.RevokePending.IsZero():
		return RevocationPending
	case !now.Before(r.Expires):
		return "expired"
	}
	return "active"
}

// active: neither revoked, nor being revoked, nor expired.
func (r SHLRecord) active(now time.Time) bool { return r.Status(now) == "active" }

// entry is the keeper's SHLEntry for the link.
func (r SHLRecord) entry() keep.SHLEntry {
	e := keep.SHLEntry{ID: r.ID, Flags: r.Flags, Expires: r.Expires.Unix(), RevocationID: r.RevocationID, PasscodeHash: r.PasscodeHash}
	for _, root := range r.Roots {
		e.Files = append(e.Files, keep.SHLFile{ContentType: SHLContentType, Root: root, LastUpdated: r.Updated.Unix()})
	}
	return e
}

func (r SHLRecord) rootCIDs() ([]cid.Cid, error) {
	out := make([]cid.Cid, 0, len(r.Roots))
	for _, s := range r.Roots {
		c, err := cid.Decode(s)
		if err != nil {
			return nil, fmt.Errorf("link %s: root %q: %w", r.ID, s, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Errors of SMART Health Links.
var (
	// ErrNoSHLServer: no keeper serves SMART Health Links, and no URL was
	// given.
	ErrNoSHLServer = errors.New("no keeper serves SMART Health Links; enrol one started with --shl-url")
	// ErrSHLLabel: a label longer than MaxSHLLabel characters.
	ErrSHLLabel = fmt.Errorf("a link's label is at most %d characters", MaxSHLLabel)
	// ErrSHLNotPushed: the link was created, but the keeper that serves
	// it did not take it yet; `keepers sync` (or the node's sync) retries.
	ErrSHLNotPushed = errors.New("the keeper serving the link did not take it yet; it is retried on the next sync")
)

// shlSettingsKey holds, in the Settings bucket, every SHLRecord of this
// wallet as one JSON list (a wallet makes few links; one key keeps the
// catalog's bucket layout unchanged).
var shlSettingsKey = catalog.IDFromHash([]byte("smart-health-links"))

// CreateSHL makes a SMART Health Link: it builds the FHIR Bundle share
// package of the selection (the same builder as grants), encrypts it as a
// compact JWE under a fresh key, stores the JWE (already ciphertext) as a
// plain file in the wallet's block store, gives the link a revocation
// secret on chain's registry as for a grant, records it, and pushes the
// JWE and the link's entry to every keeper. The link names the manifest
// URL of opts.URL or of the first keeper that serves SMART Health Links.
//
// Flags: P when a passcode is set, L when live. U (direct file GET) is
// never set: our links always go through the manifest, so that passcodes,
// revocation and the access log apply to every opening.
//
// If the serving keeper cannot be reached, the link is still created and
// returned, with an error wrapping ErrSHLNotPushed.
func (w *Wallet) CreateSHL(ctx context.Context, opts SHLOptions, chain ChainConfig) (SHLRecord, error) {
	if chain.ChainID == 0 || chain.Registry == (common.Address{}) {
		return SHLRecord{}, ErrNoChain
	}
	if opts.For < MinGrantDuration || opts.For > MaxGrantDuration {
		return SHLRecord{}, ErrGrantDuration
	}
	if utf8.RuneCountInString(opts.Label) > MaxSHLLabel {
		return SHLRecord{}, ErrSHLLabel
	}
	keys, err := w.Keys()
	if err != nil {
		return SHLRecord{}, err
	}
	now := w.now().UTC()
	sel := opts.Selection
	keyText, err := shl.NewKey()
	if err != nil {
		return SHLRecord{}, err
	}
	base := strings.TrimRight(opts.URL, "/")
	serving := ""
	if base == "" {
		if base, serving, err = w.keeperSHLURL(ctx); err != nil {
			return SHLRecord{}, err
		}
	}
	root, recs, err := w.encryptSHL(ctx, sel, keyText, now)
	if err != nil {
		return SHLRecord{}, err
	}
	id, err := shl.NewID()
	if err != nil {
		return SHLRecord{}, err
	}
	idx, err := w.nextRevocationIndex(now)
	if err != nil {
		return SHLRecord{}, err
	}
	revID := chain.revocationID(revocationSecret(keys, idx))
	rec := SHLRecord{
		ID: id, Label: opts.Label, URL: base + "/shl/" + id, Created: now, Expires: now.Add(opts.For), Updated: now, Version: 1,
		RevocationIndex: idx, RevocationID: hexutil.Encode(revID[:]), Live: opts.Live, Roots: []string{root.String()}, Selection: sel,
	}
	if opts.Passcode != "" {
		rec.Flags += "P"
		if rec.PasscodeHash, err = shl.HashPasscode(opts.Passcode); err != nil {
			return SHLRecord{}, err
		}
	}
	if opts.Live {
		rec.Flags = "L" + rec.Flags
	}
	rec.setRecords(recs)
	p := shl.Payload{URL: rec.URL, Key: keyText, Exp: rec.Expires.Unix(), Flag: rec.Flags, Label: rec.Label, V: 1}
	if err := p.Check(); err != nil {
		return SHLRecord{}, err
	}
	if rec.Link, err = p.Link(opts.Viewer); err != nil {
		return SHLRecord{}, err
	}
	if err := w.putSHL(rec); err != nil {
		return SHLRecord{}, err
	}
	return rec, w.pushSHL(ctx, rec, serving)
}

func (r *SHLRecord) setRecords(recs []Record) {
	r.Records, r.RecordIDs = len(recs), nil
	for _, x := range recs {
		r.RecordIDs = append(r.RecordIDs, x.ID)
	}
}

// encryptSHL builds the selection's share package, encrypts it under the
// link's key and stores the JWE as a plain file; it returns the file's
// root and the records in the package.
func (w *Wallet) encryptSHL(ctx context.Context, sel Selection, keyText string, now time.Time) (cid.Cid, []Record, error) {
	bundle, recs, err := w.SharePackage(ctx, sel, now)
	if err != nil {
		return cid.Undef, nil, err
	}
	key, err := shl.Payload{Key: keyText}.KeyBytes()
	if err != nil {
		return cid.Undef, nil, err
	}
	jwe, err := shl.Encrypt(key, SHLContentType, bundle)
	if err != nil {
		return cid.Undef, nil, err
	}
	store, err := w.objectStore()
	if err != nil {
		return cid.Undef, nil, err
	}
	root, err := store.ImportPlain(ctx, strings.NewReader(jwe), nil)
	return root, recs, err
}

// keeperSHLURL asks every healthwallet keeper for its SMART Health Links
// URL (keep Status) and returns the first keeper's that has one, with the
// keeper's id.
func (w *Wallet) keeperSHLURL(ctx context.Context) (string, string, error) {
	sts, err := w.keeperStates()
	if err != nil {
		return "", "", err
	}
	var nodes []*keeperState
	for _, st := range sts {
		if st.Kind == KeeperNode {
			nodes = append(nodes, st)
		}
	}
	if len(nodes) == 0 {
		return "", "", ErrNoSHLServer
	}
	host, release, err := w.keeperHost(ctx)
	if err != nil {
		return "", "", err
	}
	defer release()
	var problems []string
	for _, st := range nodes {
		ai, err := peer.AddrInfoFromString(st.Addr)
		if err != nil {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, keeperDialTimeout)
		s, err := (&keep.Client{Host: host.Host(), Keeper: *ai}).Status(sctx)
		cancel()
		if err != nil {
			problems = append(problems, st.Name+": "+err.Error())
			continue
		}
		if s.SHLURL != "" {
			return strings.TrimRight(s.SHLURL, "/"), st.ID, nil
		}
	}
	if len(problems) > 0 {
		return "", "", fmt.Errorf("%w (unreachable: %s)", ErrNoSHLServer, strings.Join(problems, "; "))
	}
	return "", "", ErrNoSHLServer
}

// pushSHL pushes the link's JWE and entry to every keeper (syncKeepers
// puts the roots, then the entries it lacks). serving is the id of the
// keeper whose URL the link names ("" for none): its failure is the
// error.
func (w *Wallet) pushSHL(ctx context.Context, rec SHLRecord, serving string) error {
	roots, err := rec.rootCIDs()
	if err != nil {
		return err
	}
	only := map[cid.Cid]int64{}
	for _, r := range roots {
		only[r] = rec.Expires.Unix()
	}
	s, err := w.syncKeepers(ctx, only)
	if err != nil {
		return err
	}
	for _, r := range s.Keepers {
		if r.Keeper.ID == serving && r.Err != nil {
			return fmt.Errorf("%w: %s: %v", ErrSHLNotPushed, r.Keeper.Name, r.Err)
		}
	}
	return nil
}

// pushSHLEntries puts, on one keeper, the entry of every active link whose
// roots it holds and whose current version it lacks (st.SHLs). It runs at
// the end of every keeper sync.
func (w *Wallet) pushSHLEntries(ctx context.Context, c *keep.Client, st *keeperState, held map[cid.Cid]bool) error {
	recs, err := w.SHLs()
	if err != nil {
		return err
	}
	now := w.now()
	asked := false
	for _, r := range recs {
		if !r.active(now) || st.SHLs[r.ID] == r.Version {
			continue
		}
		if !asked {
			// A keeper started without --shl-url takes no links.
			asked = true
			sctx, cancel := context.WithTimeout(ctx, keeperDialTimeout)
			s, err := c.Status(sctx)
			cancel()
			if err != nil {
				return err
			}
			if s.SHLURL == "" {
				break
			}
		}
		roots, err := r.rootCIDs()
		if err != nil {
			return err
		}
		if !allHeld(roots, held) {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, keeperDialTimeout)
		err = c.PutSHL(pctx, r.entry())
		cancel()
		if err != nil {
			return fmt.Errorf("link %s: %w", r.ID, err)
		}
		if st.SHLs == nil {
			st.SHLs = map[string]int{}
		}
		st.SHLs[r.ID] = r.Version
	}
	// Forget what the keeper dropped with the links' roots.
	for id := range st.SHLs {
		if i := slices.IndexFunc(recs, func(r SHLRecord) bool { return r.ID == id }); i < 0 || !recs[i].active(now) {
			delete(st.SHLs, id)
		}
	}
	return nil
}

func allHeld(roots []cid.Cid, held map[cid.Cid]bool) bool {
	for _, r := range roots {
		if !held[r] {
			return false
		}
	}
	return true
}

// liveSHLRoots adds the roots of the active links to want (what keepers
// hold), with the links' expiry.
func (w *Wallet) liveSHLRoots(want map[cid.Cid]int64) error {
	recs, err := w.SHLs()
	if err != nil {
		return err
	}
	now := w.now()
	for _, r := range recs {
		if !r.active(now) {
			continue
		}
		roots, err := r.rootCIDs()
		if err != nil {
			return err
		}
		for _, c := range roots {
			want[c] = max(want[c], r.Expires.Unix())
		}
	}
	return nil
}

// shlRoots lists the roots of every link this wallet recorded (GC keeps
// them).
func shlRoots(cat *catalog.Catalog) ([]cid.Cid, error) {
	recs, err := readSHLs(cat)
	if err != nil {
		return nil, err
	}
	var out []cid.Cid
	for _, r := range recs {
		roots, err := r.rootCIDs()
		if err != nil {
			return nil, err
		}
		out = append(out, roots...)
	}
	return out, nil
}

// RefreshLiveSHLs brings every active live link up to date: when its
// selection now holds records its file lacks, the package is rebuilt and
// re-encrypted under the link's same key (the link does not change), and
// the new version is pushed to the keepers under the same id (Version
// counts the versions). Call it after imports. A keeper that cannot be
// reached gets the new version on the next sync; the error says so.
func (w *Wallet) RefreshLiveSHLs(ctx context.Context) error {
	_, err := w.refreshLiveSHLs(ctx)
	return err
}

// refreshLiveSHLs is RefreshLiveSHLs, counting the links refreshed.
func (w *Wallet) refreshLiveSHLs(ctx context.Context) (int, error) {
	recs, err := w.SHLs()
	if err != nil {
		return 0, err
	}
	now := w.now().UTC()
	n := 0
	var problems []error
	push := map[cid.Cid]int64{} // every new version's file: one keeper sync for all
	for _, r := range recs {
		if !r.Live || !r.active(now) {
			continue
		}
		root, got, err := w.refreshSHL(ctx, r, now)
		if err != nil {
			problems = append(problems, err)
			break
		}
		if !root.Defined() {
			continue
		}
		r.Roots, r.Updated, r.Version = []string{root.String()}, now, r.Version+1
		r.setRecords(got)
		if err := w.putSHL(r); err != nil {
			problems = append(problems, err)
			break
		}
		n++
		push[root] = r.Expires.Unix()
	}
	if len(push) > 0 {
		// It puts the files, then the entries each keeper lacks.
		if _, err := w.syncKeepers(ctx, push); err != nil {
			problems = append(problems, err)
		}
	}
	return n, errors.Join(problems...)
}

// refreshSHL encrypts live link r's selection anew under its key when the
// selection gained records; cid.Undef when it did not.
func (w *Wallet) refreshSHL(ctx context.Context, r SHLRecord, now time.Time) (cid.Cid, []Record, error) {
	sel, err := w.Select(r.Selection)
	if err != nil && !errors.Is(err, ErrEmptySelection) {
		return cid.Undef, nil, err
	}
	if !gainedRecords(r.RecordIDs, sel) {
		return cid.Undef, nil, nil
	}
	p, err := shl.ParseLink(r.Link)
	if err != nil {
		return cid.Undef, nil, fmt.Errorf("link %s: %w", r.ID, err)
	}
	return w.encryptSHL(ctx, r.Selection, p.Key, now)
}

// gainedRecords reports whether sel holds a record have lacks.
func gainedRecords(have []catalog.ID, sel []Record) bool {
	for _, r := range sel {
		if !slices.Contains(have, r.ID) {
			return true
		}
	}
	return false
}

func readSHLs(cat *catalog.Catalog) ([]SHLRecord, error) {
	b, err := cat.Get(catalog.Settings, shlSettingsKey)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []SHLRecord
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("SMART Health Links: %w", err)
	}
	return out, nil
}

// putSHL stores rec, replacing the record of the same id.
func (w *Wallet) putSHL(rec SHLRecord) error {
	cat, err := w.Catalog()
	if err != nil {
		return err
	}
	return cat.Update(func(tx *catalog.Tx) error {
		var all []SHLRecord
		if b, err := tx.Get(catalog.Settings, shlSettingsKey); err == nil {
			if err := json.Unmarshal(b, &all); err != nil {
				return fmt.Errorf("SMART Health Links: %w", err)
			}
		} else if !errors.Is(err, catalog.ErrNotFound) {
			return err
		}
		if i := slices.IndexFunc(all, func(r SHLRecord) bool { return r.ID == rec.ID }); i >= 0 {
			all[i] = rec
		} else {
			all = append(all, rec)
		}
		b, _ := json.Marshal(all)
		return tx.Put(catalog.Settings, shlSettingsKey, b)
	})
}

// SHLs lists the SMART Health Links this wallet created, newest first.
func (w *Wallet) SHLs() ([]SHLRecord, error) {
	cat, err := w.Catalog()
	if err != nil {
		return nil, err
	}
	out, err := readSHLs(cat)
	slices.SortFunc(out, func(a, b SHLRecord) int { return b.Created.Compare(a.Created) })
	return out, err
}

// FindSHL finds a link by its id or a unique prefix of it (at least
// MinIDPrefix characters; letter case is ignored).
func (w *Wallet) FindSHL(id string) (SHLRecord, error) {
	all, err := w.SHLs()
	if err != nil {
		return SHLRecord{}, err
	}
	return findByPrefix(all, id, "link", func(r SHLRecord) []string { return []string{strings.ToLower(r.ID)} })
}

// RevokeSHL revokes a SMART Health Link this wallet created, as Revoke
// does a grant: the link's revocation secret goes on chain through r (the
// same registry, the same fail-closed mirror at every keeper), this
// wallet's node refuses it at once, and the record is marked revoked once
// the wallet's own RPC shows it mined. Keepers answer the link's manifest
// with 404 from then on; the next sync drops its file there.
func (w *Wallet) RevokeSHL(ctx context.Context, rec SHLRecord, r Revoker, chain ChainConfig) (SHLRecord, error) {
	if !rec.RevokedAt.IsZero() {
		return rec, nil
	}
	if chain.ChainID == 0 {
		return rec, ErrNoChain
	}
	keys, err := w.Keys()
	if err != nil {
		return rec, err
	}
	want := chain.revocationID(revocationSecret(keys, rec.RevocationIndex))
	if hexutil.Encode(want[:]) != rec.RevocationID {
		return rec, fmt.Errorf("link %s was made on another chain or registry than %d/%s", rec.ID, chain.ChainID, chain.Registry.Hex())
	}
	save := func() error { return w.putSHL(rec) }
	if err := w.revokeIndex(ctx, keys, rec.RevocationIndex, &rec.RevokePending, &rec.RevokeTx, save, r, chain); err != nil {
		return rec, err
	}
	rec.RevokedAt = w.now().UTC()
	return rec, w.putSHL(rec)
}
