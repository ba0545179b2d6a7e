package grant

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

// TestLinkHidesGrant: a photographed QR code or a forwarded link shows
// neither the patient's address, nor the categories or sensitive labels
// shared, nor the node's addresses, in text or in the decoded bytes; the
// same for a key-bundle pointer. Every needle is at least 8 bytes.
func TestLinkHidesGrant(t *testing.T) {
	const (
		peerID = "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB"
		ip4    = "192.168.31.77"
		ip6    = "2001:db8:85a3::8a2e:370:7334"
	)
	addrs := []ma.Multiaddr{
		ma.StringCast("/ip4/" + ip4 + "/tcp/4001/p2p/" + peerID),
		ma.StringCast("/ip6/" + ip6 + "/udp/4001/quic-v1/p2p/" + peerID),
	}
	var providers [][]byte
	for _, a := range addrs {
		providers = append(providers, a.Bytes())
	}
	cats := []string{"medications", "immunizations", "social-history"}
	sensitive := []string{"mental-health", "substance-use", "sexual-reproductive-health"}
	root := issue(t, patient, family, nil, func(g *Grant) {
		g.Providers, g.Categories, g.Sensitive = providers, cats, sensitive
	})
	child := issue(t, family, specialist, root, func(g *Grant) {
		g.Providers, g.Categories, g.Sensitive = providers, cats[:2], sensitive
	})

	needles := map[string][]byte{
		"patient address":        []byte(root.Issuer.Hex()),
		"patient address, lower": []byte(strings.ToLower(root.Issuer.Hex()[2:])),
		"patient address, bytes": root.Issuer[:],
		"delegator address":      child.Issuer[:],
		"IPv4 address":           []byte(ip4),
		"IPv6 address":           []byte(ip6),
		"IPv4 multiaddr bytes":   addrs[0].Bytes()[:8], // /ip4/192.168.31.77/tcp/4001
		"IPv6 multiaddr bytes":   addrs[1].Bytes()[:17],
		"node peer id":           []byte(peerID),
		"node peer id, bytes":    addrs[0].Bytes()[len(addrs[0].Bytes())-34:],
	}
	for _, s := range append(cats, sensitive...) {
		needles["label "+s] = []byte(s)
	}
	for name, n := range needles {
		if len(n) < 8 {
			t.Fatalf("needle %s is %d bytes", name, len(n))
		}
	}
	scan := func(what, text string) {
		t.Helper()
		body := text[strings.Index(text, "/")+1:]
		raw, err := base64.RawURLEncoding.DecodeString(body)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for name, n := range needles {
			if bytes.Contains([]byte(text), n) || bytes.Contains(bytes.ToLower([]byte(text)), bytes.ToLower(n)) || bytes.Contains(raw, n) {
				t.Errorf("%s shows the %s", what, name)
			}
		}
	}

	link, err := Chain{root}.Link(patient.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := QR(link); err != nil {
		t.Fatal(err) // the QR code holds exactly this text
	}
	scan("the patient's link (and its QR code)", link)
	delegated, err := Chain{root, child}.Link(family.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	scan("the delegated link", delegated)
	ptr, err := BundlePointer{Root: []byte{1, 0x55, 0x12, 0x20, 9}, Size: 3000, Providers: providers}.Link(specialist.PubKey(), family.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	scan("the key-bundle pointer", ptr)

	// And the grantee reads it all back.
	c, err := OpenLink(delegated, specialist)
	if err != nil || len(c) != 2 || c[0].Issuer != root.Issuer || !slicesEqual(c[1].Providers, providers) || c[1].Sensitive[0] != sensitive[0] {
		t.Fatalf("opened %v", err)
	}
	p, err := OpenBundleLink(ptr, specialist)
	if err != nil || !slicesEqual(p.Providers, providers) {
		t.Fatalf("opened pointer %v", err)
	}
}

func slicesEqual(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
