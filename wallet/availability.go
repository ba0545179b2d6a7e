package wallet

import (
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// PlaceDevice is the Availability kind of this wallet's own node (the
// device the app runs on); keepers are KeeperNode, Kubo replicas
// KeeperKubo.
const PlaceDevice = "node"

// Device is what the front end knows of this device's node when it asks
// where a share can be opened.
type Device struct {
	// Serving is true while this wallet's node runs (the wallet is
	// unlocked and the node started).
	Serving bool
	// SHLURL is the HTTPS base URL at which this device's node serves
	// SMART Health Links ("" when it serves none).
	SHLURL string
	// LockAfter is the idle time after which the app locks the wallet,
	// which stops the node (0: it never locks when idle).
	LockAfter time.Duration
	// LocksInBackground is true where leaving the foreground locks the
	// wallet at once (phones).
	LocksInBackground bool
}

// locks reports whether the device will stop serving on its own.
func (d Device) locks() bool { return d.LockAfter > 0 || d.LocksInBackground }

// ShareAvailability says where one share can be opened now.
type ShareAvailability struct {
	// Places are the places the share names (a grant's providers, a
	// link's server), this device first; OK tells whether each holds it
	// and is up as last seen, Error why not.
	Places []Availability
	// Upstream is set for a re-share of a grant this wallet received: the
	// patient's node and keepers serve it, and this wallet cannot tell
	// whether they are up.
	Upstream bool
	// Inactive is the share's status when it can no longer be opened
	// ("revoked", "expired"); Places is then empty.
	Inactive string
	// OnlyDevice is set when this device is the one place that can serve
	// the share now.
	OnlyDevice bool
	// LockRisk is set when OnlyDevice is and the device locks by itself
	// (idle timeout, or the app leaving the foreground on a phone):
	// from then on nobody can open the share until the wallet is
	// unlocked again. LockAfter and LocksInBackground say when.
	LockRisk          bool
	LockAfter         time.Duration
	LocksInBackground bool
}

// Available lists the places that can serve the share now.
func (a ShareAvailability) Available() []Availability {
	var out []Availability
	for _, p := range a.Places {
		if p.OK {
			out = append(out, p)
		}
	}
	return out
}

// finish sets OnlyDevice and LockRisk from Places and dev.
func (a *ShareAvailability) finish(dev Device) {
	ok := a.Available()
	a.OnlyDevice = len(ok) == 1 && ok[0].Kind == PlaceDevice
	a.LockRisk = a.OnlyDevice && dev.locks()
	a.LockAfter, a.LocksInBackground = dev.LockAfter, dev.LocksInBackground
}

// GrantAvailability says where the issued grant g can be opened now, as
// this wallet last saw its node, keepers and Kubo replicas (no network):
//
//   - this device, when its node runs and the grant names it (directly or
//     relayed through a keeper);
//   - a keeper the grant names whose last sync succeeded after the grant
//     was made (a sync pushes the packages of every live grant);
//   - a Kubo replica the grant names (swarm or gateway) that pinned every
//     package of the grant.
//
// A keeper enrolled after the grant was made holds its packages but is not
// listed: the grantee never learns to ask it. A re-share (g.Links > 1) is
// served by the patient's side: Upstream is set and Places is empty.
func (w *Wallet) GrantAvailability(g GrantRecord, dev Device) (ShareAvailability, error) {
	var out ShareAvailability
	if st := g.Status(w.now()); st == "revoked" || st == "expired" {
		out.Inactive = st
		return out, nil
	}
	if g.Links > 1 {
		out.Upstream = true
		return out, nil
	}
	c, err := w.OpenLink(g.Link)
	if err != nil {
		return out, fmt.Errorf("grant %s: %w", g.ID, err)
	}
	named := map[string]bool{} // peer ids and gateway multiaddrs the grant names
	relayed := false
	for _, b := range c.Leaf().Providers {
		m, err := ma.NewMultiaddrBytes(b)
		if err != nil {
			continue
		}
		p, err := ClassifyProvider(m)
		if err != nil {
			continue
		}
		switch p.Kind {
		case ProviderGateway:
			named[m.String()] = true
		case ProviderRelayed:
			named[p.Peer.String()] = true
			relayed = relayed || p.Peer.String() == w.info.PeerID
		default:
			named[p.Peer.String()] = true
		}
	}
	if named[w.info.PeerID] || relayed {
		out.Places = append(out.Places, devicePlace(dev.Serving))
	}
	sts, err := w.keeperStates()
	if err != nil {
		return out, err
	}
	var roots []string
	for _, st := range sts {
		switch st.Kind {
		case KeeperNode:
			if !named[st.PeerID] {
				continue
			}
			a := Availability{Name: st.Name, Kind: st.Kind}
			switch {
			case st.LastError != "":
				a.Error = "not reached at the last sync: " + st.LastError
			case st.LastSync.Before(g.Created):
				a.Error = "not synced since the share was made"
			default:
				a.OK = true
			}
			out.Places = append(out.Places, a)
		case KeeperKubo:
			if !kuboNamed(st, named) {
				continue
			}
			if roots == nil {
				rs, err := w.grantRoots(g)
				if err != nil {
					return out, err
				}
				for r := range rs {
					roots = append(roots, r.String())
				}
			}
			out.Places = append(out.Places, kuboPlace(st, roots))
		}
	}
	out.finish(dev)
	return out, nil
}

// SHLAvailability says where the SMART Health Link r can be opened now. A
// link names one manifest server: this device's node (when dev.SHLURL is
// the link's base URL and the node runs), or a keeper that serves links.
// Every keeper that serves links takes the entry of every link (sync), so
// a keeper is listed when it holds the link's current version. Kubo
// replicas hold the link's file but serve no manifest, so they are not
// places a link opens from.
func (w *Wallet) SHLAvailability(r SHLRecord, dev Device) (ShareAvailability, error) {
	var out ShareAvailability
	if st := r.Status(w.now()); st == "revoked" || st == "expired" {
		out.Inactive = st
		return out, nil
	}
	if base := strings.TrimRight(dev.SHLURL, "/"); base != "" && strings.HasPrefix(r.URL, base+"/shl/") {
		out.Places = append(out.Places, devicePlace(dev.Serving))
		out.finish(dev)
		return out, nil
	}
	sts, err := w.keeperStates()
	if err != nil {
		return out, err
	}
	for _, st := range sts {
		if st.Kind != KeeperNode {
			continue
		}
		if _, ok := st.SHLs[r.ID]; !ok {
			continue // (an older version of a live link still opens)
		}
		a := Availability{Name: st.Name, Kind: st.Kind, OK: st.LastError == ""}
		if !a.OK {
			a.Error = "not reached at the last sync: " + st.LastError
		}
		out.Places = append(out.Places, a)
	}
	out.finish(dev)
	return out, nil
}

// devicePlace is this device, serving or not.
func devicePlace(serving bool) Availability {
	a := Availability{Name: "this device", Kind: PlaceDevice, OK: serving}
	if !serving {
		a.Error = "the node is not running"
	}
	return a
}

// kuboNamed reports whether a grant naming named (peer ids, gateway
// multiaddrs) names the Kubo replica st.
func kuboNamed(st *keeperState, named map[string]bool) bool {
	if named[st.PeerID] {
		return true
	}
	if st.Gateway != "" {
		if m, err := gatewayMultiaddr(st.Gateway); err == nil && named[m] {
			return true
		}
	}
	for _, s := range st.Swarm {
		if ai, err := peer.AddrInfoFromString(s); err == nil && named[ai.ID.String()] {
			return true
		}
	}
	return false
}

// kuboPlace is a Kubo replica, which holds a grant when it pinned all of
// roots.
func kuboPlace(st *keeperState, roots []string) Availability {
	a := Availability{Name: st.Name, Kind: st.Kind}
	missing := 0
	for _, r := range roots {
		if _, ok := st.Pushed[r]; !ok {
			missing++
		}
	}
	switch {
	case st.LastError != "":
		a.Error = "not reached at the last sync: " + st.LastError
	case missing > 0:
		a.Error = fmt.Sprintf("lacks %d of %d packages; the next sync pushes them", missing, len(roots))
	default:
		a.OK = true
	}
	return a
}
