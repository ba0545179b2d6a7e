package wallet

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/internal/plaintext"
	"github.com/healthwallet/healthwallet/internal/testca"
	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/keep"
	"github.com/healthwallet/healthwallet/share/live"
	"github.com/healthwallet/healthwallet/share/serve"
	"github.com/healthwallet/healthwallet/share/shl"
)

// TestKeeperServesSHL: a patient puts an SHL's JWE file and entry on its
// keeper; a viewer trusting only the test CA opens the manifest over the
// keeper's HTTPS endpoint and decrypts it; wrong passcodes count across a
// keeper restart; accesses reach the patient's access log with the
// recipient; the keeper holds no plaintext; revoking the SHL's secret on
// chain makes the keeper answer 404.
func TestKeeperServesSHL(t *testing.T) {
	ctx := context.Background()
	d, chain := startDevnet(t)
	patient, keeperW := newWallet(t), newWallet(t)
	ca, err := testca.New()
	must(t, err)
	files, err := ca.WriteFiles(t.TempDir(), "127.0.0.1")
	must(t, err)
	cfg := KeeperConfig{Listen: []string{"/ip4/127.0.0.1/tcp/" + freePort(t)}, Chain: chain,
		SHLEndpoint: SHLEndpoint{SHLListen: "127.0.0.1:" + freePort(t), SHLCert: files.Cert, SHLKey: files.Key}}
	k, err := keeperW.Keep(ctx, cfg)
	must(t, err)
	defer func() { k.Close() }()
	if !strings.HasPrefix(k.SHLURL(), "https://127.0.0.1:") {
		t.Fatalf("SHL URL %q", k.SHLURL())
	}
	_, err = patient.AddKeeper(ctx, k.Addrs()[0], "keeper")
	must(t, err)

	// What the patient side (B2) does: encrypt, store the JWE as a plain
	// file, put it and the entry on the keeper.
	data, err := fixtures.Named("Marguerita_Reilly").Read()
	must(t, err)
	key, err := shl.NewKey()
	must(t, err)
	p := shl.Payload{Key: key, Flag: "P", Exp: testclock.Now().Add(time.Hour).Unix()}
	kb, err := p.KeyBytes()
	must(t, err)
	jwe, err := shl.Encrypt(kb, "application/fhir+json", data)
	must(t, err)
	pn, err := patient.startNode(ctx, ipfs.LoopbackListen, nil)
	must(t, err)
	root, err := pn.Store().ImportPlain(ctx, strings.NewReader(jwe), nil)
	must(t, err)
	kai, _ := peer.AddrInfoFromString(k.Addrs()[0])
	kc := &keep.Client{Host: pn.Host(), Keeper: *kai}
	id, err := shl.NewID()
	must(t, err)
	hash, err := shl.HashPasscode("1234 5678")
	must(t, err)
	secret := [32]byte{0x5e, 0xc7}
	rev := chain.revocationID(secret)
	entry := keep.SHLEntry{ID: id, Flags: "P", Expires: p.Exp, RevocationID: "0x" + common32(rev), PasscodeHash: hash,
		Files: []keep.SHLFile{{ContentType: "application/fhir+json", Root: root.String(), LastUpdated: testclock.Now().Unix()}}}
	if err := kc.PutSHL(ctx, entry); !errors.Is(err, keep.ErrRefused) || !strings.Contains(err.Error(), "not held") {
		t.Fatalf("SHL before its file: %v", err)
	}
	must(t, kc.Put(ctx, []keep.Item{{Root: root.String(), Expires: p.Exp}}, func(w io.Writer) error { return pn.Store().ExportCAR(ctx, w, root) }))
	must(t, kc.PutSHL(ctx, entry))
	st, err := kc.Status(ctx)
	if err != nil || st.SHLURL != k.SHLURL() {
		t.Fatalf("status %+v %v", st, err)
	}
	must(t, pn.Close())

	viewer := shl.Client{HTTP: &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientConfig()}}, Recipient: "Dr. Ada Specialist", Now: testclock.Now}
	p.URL = k.SHLURL() + "/shl/" + id
	var pe *shl.PasscodeError
	if _, err := viewer.Open(ctx, p, "wrong"); !errors.As(err, &pe) || pe.Remaining != shl.DefaultAttempts-1 {
		t.Fatalf("wrong passcode: %v", err)
	}
	got, err := viewer.Open(ctx, p, "1234 5678")
	must(t, err)
	if len(got) != 1 || string(got[0].Plain) != string(data) || got[0].ContentType != "application/fhir+json" {
		t.Fatalf("opened %d files", len(got))
	}
	// A client trusting another CA does not get in.
	other, _ := testca.New()
	stranger := shl.Client{HTTP: &http.Client{Transport: &http.Transport{TLSClientConfig: other.ClientConfig()}}, Recipient: "x", Now: testclock.Now}
	if _, err := stranger.Open(ctx, p, "1234 5678"); err == nil {
		t.Fatal("a client trusting another CA opened the link")
	}

	// Nothing plaintext on the keeper.
	needles := []string{"Marguerita"}
	if hits, err := plaintext.Find("bundle", data, needles...); err != nil || len(hits) != len(needles) {
		t.Fatalf("needles not in the bundle: %v %v", hits, err)
	}
	hits, n, err := plaintext.ScanDir(keeperW.Home(), needles...)
	must(t, err)
	if len(hits) > 0 || n == 0 {
		t.Fatalf("keeper home: %d files, plaintext %v", n, hits)
	}

	// The failed attempt survives a restart (same ports: the patient's
	// keeper address and the link stay valid).
	must(t, k.Close())
	k, err = keeperW.Keep(ctx, cfg)
	must(t, err)
	if _, err := viewer.Open(ctx, p, "still wrong"); !errors.As(err, &pe) || pe.Remaining != shl.DefaultAttempts-2 {
		t.Fatalf("wrong passcode after a restart: %v", err)
	}

	// Revoked on chain: 404.
	_, err = directRevoker(t, d, chain).Revoke(ctx, [][32]byte{secret})
	must(t, err)
	var se *shl.StatusError
	if _, err := viewer.Open(ctx, p, "1234 5678"); !errors.As(err, &se) || se.Code != http.StatusNotFound {
		t.Fatalf("revoked link: %v", err)
	}

	// The accesses reach the patient's log, recipient included.
	_, err = patient.SyncKeepers(ctx)
	must(t, err)
	log, err := patient.AccessLog()
	must(t, err)
	var ok, refused int
	for _, e := range log {
		if e.SHL != id || e.Recipient != "Dr. Ada Specialist" || e.Keeper != "keeper" {
			t.Fatalf("access entry %+v", e)
		}
		if e.Granted {
			ok++
		} else {
			refused++
		}
	}
	// Served: the manifest, then its file's location.
	if ok != 2 || refused != 3 || log[0].Reason != "wrong passcode" || log[4].Granted {
		t.Fatalf("access log: %d served, %d refused; want 2 and 3: %+v", ok, refused, log)
	}
}

// TestKeeperSHLConfig: plain HTTP only on loopback, one certificate source.
func TestKeeperSHLConfig(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	w := newWallet(t)
	for name, shlCfg := range map[string]SHLEndpoint{
		"http off loopback": {SHLListen: "0.0.0.0:0", SHLInsecureLoopback: true},
		"no certificate":    {SHLListen: "127.0.0.1:0"},
		"key alone":         {SHLListen: "127.0.0.1:0", SHLKey: filepath.Join(t.TempDir(), "key.pem")},
		"two sources":       {SHLListen: "127.0.0.1:0", SHLInsecureLoopback: true, SHLDomain: "example.org"},
		"http public URL":   {SHLListen: "127.0.0.1:0", SHLInsecureLoopback: true, SHLURL: "ftp://x"},
	} {
		cfg := KeeperConfig{Listen: tcpLoopback, Chain: chain, SHLEndpoint: shlCfg}
		if k, err := w.Keep(ctx, cfg); !errors.Is(err, ErrSHLConfig) {
			if err == nil {
				k.Close()
			}
			t.Errorf("%s: %v", name, err)
		}
	}
	k, err := w.Keep(ctx, KeeperConfig{Listen: tcpLoopback, Chain: chain, SHLEndpoint: SHLEndpoint{SHLListen: "127.0.0.1:0", SHLInsecureLoopback: true}})
	must(t, err)
	defer k.Close()
	if !strings.HasPrefix(k.SHLURL(), "http://127.0.0.1:") {
		t.Fatalf("SHL URL %q", k.SHLURL())
	}
}

func common32(b [32]byte) string { return hex.EncodeToString(b[:]) }

// freePort is a TCP port free on loopback a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// TestKeeperKeepsLiveRecords: a keeper takes a live grant's record only
// when it is the name's, signed by the patient, and its package is held;
// a newer version replaces it, an older one is stale; Latest answers the
// newest, and nothing once the patient leaves.
func TestKeeperKeepsLiveRecords(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient, keeperW, stranger := newWallet(t), newWallet(t), newWallet(t)
	k, err := keeperW.Keep(ctx, KeeperConfig{Listen: tcpLoopback, Chain: chain})
	must(t, err)
	defer k.Close()
	_, err = patient.AddKeeper(ctx, k.Addrs()[0], "keeper")
	must(t, err)
	pn, err := patient.startNode(ctx, ipfs.LoopbackListen, nil)
	must(t, err)
	defer pn.Close()
	kai, _ := peer.AddrInfoFromString(k.Addrs()[0])
	kc := &keep.Client{Host: pn.Host(), Keeper: *kai}
	keys, err := patient.Keys()
	must(t, err)
	skeys, err := stranger.Keys()
	must(t, err)

	put := func(content string) cid.Cid {
		ref, err := pn.Store().Import(ctx, strings.NewReader(content), int64(len(content)), nil)
		must(t, err)
		must(t, kc.Put(ctx, []keep.Item{{Root: ref.Root.String(), Expires: testclock.Now().Add(time.Hour).Unix()}},
			func(w io.Writer) error { return pn.Store().ExportCAR(ctx, w, ref.Root) }))
		return ref.Root
	}
	grantHash := [32]byte{0x9a, 1}
	nameKey, name, err := live.NameKey(bytes.Repeat([]byte{7}, 32))
	must(t, err)
	version := func(seq uint64, root cid.Cid, signer *secp256k1.PrivateKey) keep.LiveRecord {
		env := live.Envelope{Grant: grantHash, Seq: seq, Root: root, Wrapped: []byte("wrapped key stand-in"), Issued: testclock.Now().Unix()}
		must(t, env.Sign(signer))
		rec, err := live.NewRecord(nameKey, env, testclock.Now())
		must(t, err)
		return keep.LiveRecord{Grant: "0x" + hex.EncodeToString(grantHash[:]), Name: name.String(), Record: rec, Envelope: env.Encode()}
	}
	unheld, err := pn.Store().Import(ctx, strings.NewReader("not put on the keeper"), 21, nil)
	must(t, err)
	if err := kc.PutLive(ctx, version(1, unheld.Root, keys.PrivateKey())); !errors.Is(err, keep.ErrRefused) || !strings.Contains(err.Error(), "not held") {
		t.Fatalf("live record of a package not held: %v", err)
	}
	v1 := put("version one ciphertext stand-in")
	if err := kc.PutLive(ctx, version(1, v1, skeys.PrivateKey())); !errors.Is(err, keep.ErrRefused) {
		t.Fatalf("live record signed by a stranger: %v", err)
	}
	must(t, kc.PutLive(ctx, version(1, v1, keys.PrivateKey())))
	v2 := put("version two ciphertext stand-in")
	want := version(2, v2, keys.PrivateKey())
	must(t, kc.PutLive(ctx, want))
	if err := kc.PutLive(ctx, version(1, v1, keys.PrivateKey())); !errors.Is(err, keep.ErrRefused) || !strings.Contains(err.Error(), live.ErrStale.Error()) {
		t.Fatalf("an older version: %v", err)
	}
	addr := common.HexToAddress(keys.Address().String())
	rec, env, err := k.kept.Latest(ctx, addr, grantHash)
	must(t, err)
	if !bytes.Equal(rec, want.Record) || !bytes.Equal(env, want.Envelope) {
		t.Fatal("Latest is not version 2")
	}
	if _, _, err := k.kept.Latest(ctx, addr, [32]byte{1}); !errors.Is(err, serve.ErrNoLive) {
		t.Fatalf("another grant: %v", err)
	}
	must(t, kc.Remove(ctx))
	if _, _, err := k.kept.Latest(ctx, addr, grantHash); !errors.Is(err, serve.ErrNoLive) {
		t.Fatalf("after the patient left: %v", err)
	}
}
