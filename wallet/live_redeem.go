package wallet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/boxo/ipns"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/live"
	"github.com/healthwallet/healthwallet/share/serve"
	"github.com/healthwallet/healthwallet/wallet/fhir"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// liveVersion is one version of a live grant, fetched and decrypted.
type liveVersion struct {
	env    live.Envelope
	ref    ipfs.ObjectRef
	bundle []byte
	by     served
}

// fetchLive asks every peer provider of chain c at once for the newest
// version of the live grant named name (serve's live protocol), keeps the
// highest sequence number whose IPNS record and envelope verify (signed by
// the patient, bound to this grant), and, if it is newer than after,
// fetches and decrypts its package from a provider that offered it. It
// returns nil, nil when nothing newer than after exists. A provider's
// answer that the grant is revoked is final (RevokedByProviderError).
func fetchLive(ctx context.Context, node *ipfs.Node, peers []*provider, c grant.Chain, keys *identity.Keys, name ipns.Name, after uint64, timeout time.Duration) (*liveVersion, error) {
	leaf := c.Leaf()
	leafHash, err := leaf.Hash()
	if err != nil {
		return nil, err
	}
	patient := c[0].Issuer
	type answer struct {
		p   *provider
		env live.Envelope
		err error
	}
	answers := make([]answer, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		answers[i].p = p
		if p.info.ID == node.ID() {
			answers[i].err = errors.New("is this wallet's own node")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			a := &answers[i]
			if a.err = node.Host().Connect(pctx, p.info); a.err != nil {
				return
			}
			rec, envb, err := serve.FetchLive(pctx, node.Host(), p.info.ID, c, keys.PrivateKey())
			if err != nil {
				a.err = err
				return
			}
			if a.env, a.err = live.OpenRecord(name, rec, envb); a.err == nil {
				a.err = a.env.Verify(patient, leafHash)
			}
		}()
	}
	wg.Wait()
	var failed []ProviderFailure
	var best []answer
	for _, a := range answers {
		switch {
		case a.err != nil && revokedRefusal(a.err):
			return nil, &RevokedByProviderError{Provider: a.p.name, Err: a.err}
		case a.err != nil:
			failed = append(failed, ProviderFailure{Provider: a.p.name, Reason: oneLine("live version: " + a.err.Error()), Err: a.err})
		case len(best) == 0 || a.env.Seq > best[0].env.Seq:
			best = []answer{a}
		case a.env.Seq == best[0].env.Seq && a.env.Root == best[0].env.Root:
			best = append(best, a)
		}
	}
	if len(best) == 0 {
		return nil, &ProvidersError{Tried: failed}
	}
	env := best[0].env
	if env.Seq <= after {
		return nil, nil
	}
	pks, err := grant.Unwrap(keys.PrivateKey(), liveBinding(leafHash, env.Seq, env.Root), env.Wrapped)
	if err != nil {
		return nil, fmt.Errorf("live version %d: %w", env.Seq, err)
	}
	if len(pks) != 1 {
		return nil, fmt.Errorf("%w: live version %d holds %d keys, want 1", live.ErrMalformed, env.Seq, len(pks))
	}
	ref := ipfs.ObjectRef{Root: env.Root, ID: pks[0].ObjectID, Key: pks[0].Key[:], Size: int64(pks[0].Size)}
	plan := make([]*provider, len(best))
	for i, a := range best {
		plan[i] = a.p
	}
	parts, by, fetchFailed, err := fetchFirst(ctx, node, plan, []ipfs.ObjectRef{ref}, nil, nil)
	if err != nil {
		return nil, err
	}
	if parts == nil {
		return nil, &ProvidersError{Tried: append(failed, fetchFailed...)}
	}
	return &liveVersion{env: env, ref: ref, bundle: parts[0], by: by}, nil
}

// LiveUpdate is a newer version of a live grant this wallet received.
type LiveUpdate struct {
	Grant GrantRecord // updated: LiveSeq is the new version
	// Seq is the version fetched.
	Seq uint64
	// New lists the records (one line each: "Hemoglobin A1c 7.1 % (2 Dec
	// 2026)") the version holds that the previous one did not, or changed.
	New []string
	// Bundle is the version's FHIR Bundle.
	Bundle []byte
}

// RefreshReceived fetches the newer versions of every live grant this
// wallet received (neither expired nor known revoked), each from the
// patient's node or the keepers (whichever offers the highest valid
// version), and keeps each in the wallet. The app calls it when opened;
// `redeem --follow` calls it in a loop. A grant whose fetch fails is
// reported in the joined error; the others are still refreshed.
func (w *Wallet) RefreshReceived(ctx context.Context, opts RedeemOptions) ([]LiveUpdate, error) {
	gs, err := w.Grants()
	if err != nil {
		return nil, err
	}
	now := w.now()
	var todo []GrantRecord
	for _, g := range gs {
		if g.Direction == Received && g.Live && g.RevokedAt.IsZero() && now.Before(g.ExpiresAt) {
			todo = append(todo, g)
		}
	}
	if len(todo) == 0 {
		return nil, nil
	}
	keys, err := w.Keys()
	if err != nil {
		return nil, err
	}
	node, err := w.redeemNode(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer node.Close()
	var out []LiveUpdate
	var errs []error
	for _, g := range todo {
		u, err := w.refreshOne(ctx, node, keys, g, providerTimeout(opts))
		if err != nil {
			errs = append(errs, fmt.Errorf("live grant %s: %w", g.ID, &SharedByError{Sharer: g.Issuer, Err: err}))
			continue
		}
		if u != nil {
			out = append(out, *u)
		}
	}
	return out, errors.Join(errs...)
}

// refreshOne fetches a newer version of one received live grant, if any.
func (w *Wallet) refreshOne(ctx context.Context, node *ipfs.Node, keys *identity.Keys, g GrantRecord, timeout time.Duration) (*LiveUpdate, error) {
	c, err := grant.OpenLink(g.Link, keys.PrivateKey())
	if err != nil {
		return nil, err
	}
	name, err := ipns.NameFromString(g.LiveName)
	if err != nil {
		return nil, fmt.Errorf("%w: live name: %v", live.ErrMalformed, err)
	}
	providers, err := providersOf(c.Leaf().Providers)
	if err != nil {
		return nil, err
	}
	v, err := fetchLive(ctx, node, providers.peers, c, keys, name, g.LiveSeq, timeout)
	if err != nil || v == nil {
		return nil, err
	}
	var prev []byte
	if !g.Package.IsZero() {
		var buf bytes.Buffer
		if w.ReadObject(ctx, g.Package, &buf, nil) == nil {
			prev = buf.Bytes()
		}
	}
	obj, err := w.recordObject(v.ref)
	if err != nil {
		return nil, err
	}
	old := g.Package
	g.Package, g.LiveSeq, g.LiveRoot = obj, v.env.Seq, v.env.Root.String()
	if err := w.putGrant(g); err != nil {
		return nil, err
	}
	if !old.IsZero() {
		w.DeleteObject(old)
	}
	return &LiveUpdate{Grant: g, Seq: v.env.Seq, New: newEntries(prev, v.bundle), Bundle: v.bundle}, nil
}

// FollowLive runs RefreshReceived now and every interval until ctx ends,
// telling report each new version (and each failed round, with its
// error). It returns ctx's error.
func (w *Wallet) FollowLive(ctx context.Context, every time.Duration, opts RedeemOptions, report func(LiveUpdate, error)) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		us, err := w.RefreshReceived(ctx, opts)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, u := range us {
			report(u, nil)
		}
		if err != nil {
			report(LiveUpdate{}, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// newEntries describes the resources of next that prev lacks or that
// changed, one line each ("Hemoglobin A1c 7.1 % (20 Nov 2026)"), in a
// stable order. Patients are left out.
func newEntries(prev, next []byte) []string {
	old := map[string]string{}
	if d, err := fhir.Parse(prev); err == nil {
		for _, r := range d.Resources {
			old[r.Type+"/"+r.ID] = string(r.JSON())
		}
	}
	d, err := fhir.Parse(next)
	if err != nil {
		return nil
	}
	resolve := d.Resolver()
	var out []string
	for _, r := range d.Resources {
		if r.Type == "Patient" {
			continue
		}
		if js, ok := old[r.Type+"/"+r.ID]; ok && js == string(r.JSON()) {
			continue
		}
		x := fhir.IndexOf(r, resolve)
		line := x.Summary
		if line == "" {
			line = r.Type
		}
		if day := x.Day(); len(day) == 10 {
			if t, err := time.Parse(time.DateOnly, day); err == nil {
				line = strings.TrimSuffix(line, " · "+day) + " (" + t.Format("2 Jan 2006") + ")"
			}
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// VersionLine is the line `redeem --follow` prints for a new version:
// "version 3: 2 new records: Hemoglobin A1c 7.1 % (20 Nov 2026); …".
func (u LiveUpdate) VersionLine() string {
	switch len(u.New) {
	case 0:
		return fmt.Sprintf("version %d: no new records", u.Seq)
	case 1:
		return fmt.Sprintf("version %d: 1 new record: %s", u.Seq, u.New[0])
	}
	return fmt.Sprintf("version %d: %d new records: %s", u.Seq, len(u.New), strings.Join(u.New, "; "))
}
