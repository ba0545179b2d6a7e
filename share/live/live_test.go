package live

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
)

func key(b byte) *secp256k1.PrivateKey {
	return secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{b}, 32))
}

func address(k *secp256k1.PrivateKey) common.Address {
	ek, _ := crypto.ToECDSA(k.Serialize())
	return crypto.PubkeyToAddress(ek.PublicKey)
}

var (
	root      = cid.MustParse("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")
	otherRoot = cid.MustParse("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
	grantHash = [32]byte{1, 2, 3}
	issued    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func signed(t *testing.T, seq uint64) Envelope {
	t.Helper()
	e := Envelope{Grant: grantHash, Seq: seq, Root: root, Wrapped: []byte("wrapped package key, 48 bytes or so"), Issued: issued.Unix()}
	if err := e.Sign(key(1)); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEnvelopeRoundTrip(t *testing.T) {
	e := signed(t, 3)
	b := e.Encode()
	if string(b[:4]) != Magic || len(b) != 4+32+8+1+36+1+len(e.Wrapped)+8+1+65 {
		t.Fatalf("encoding %d bytes: %x", len(b), b)
	}
	d, err := DecodeEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Encode(), b) || d.Seq != 3 || d.Root != root || d.Issued != issued.Unix() {
		t.Fatalf("decoded %+v", d)
	}
	if err := d.Verify(address(key(1)), grantHash); err != nil {
		t.Fatal(err)
	}
	// RFC 6979: the same envelope always has the same signature.
	if again := signed(t, 3); !bytes.Equal(again.Sig, e.Sig) {
		t.Fatal("signature not deterministic")
	}
}

func TestEnvelopeVerifyFails(t *testing.T) {
	patient := address(key(1))
	e := signed(t, 1)
	if err := e.Verify(address(key(2)), grantHash); !errors.Is(err, ErrSignature) {
		t.Fatalf("other patient: %v", err)
	}
	if err := e.Verify(patient, [32]byte{9}); !errors.Is(err, ErrBinding) {
		t.Fatalf("other grant: %v", err)
	}
	for name, tamper := range map[string]func(*Envelope){
		"seq":      func(e *Envelope) { e.Seq++ },
		"root":     func(e *Envelope) { e.Root = otherRoot },
		"wrapped":  func(e *Envelope) { e.Wrapped[0] ^= 1 },
		"issued":   func(e *Envelope) { e.Issued++ },
		"grant":    func(e *Envelope) { e.Grant[31] = 1 },
		"v":        func(e *Envelope) { e.Sig[64] = 29 },
		"unsigned": func(e *Envelope) { e.Sig = nil },
		"high-S": func(e *Envelope) {
			// The high-S twin recovers the same key; EIP-2 forbids it.
			n := crypto.S256().Params().N
			s := new(big.Int).Sub(n, new(big.Int).SetBytes(e.Sig[32:64]))
			s.FillBytes(e.Sig[32:64])
			e.Sig[64] ^= 1
		},
	} {
		c := signed(t, 1)
		tamper(&c)
		c, err := DecodeEnvelope(c.Encode())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.Verify(patient, grantHash); err == nil || (!errors.Is(err, ErrSignature) && !(name == "grant" && errors.Is(err, ErrBinding))) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestDecodeEnvelopeMalformed(t *testing.T) {
	good := signed(t, 1).Encode()
	for name, b := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("HWL2"), good[4:]...),
		"truncated": good[:len(good)-1],
		"trailing":  append(bytes.Clone(good), 0),
		"oversize":  append(bytes.Clone(good), make([]byte, MaxEnvelope)...),
		"bad cid":   append(append(bytes.Clone(good[:44]), 3, 1, 2, 3), good[44+1+36:]...),
	} {
		if _, err := DecodeEnvelope(b); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// TestNameKeyFixed pins the name of a fixed seed.
func TestNameKeyFixed(t *testing.T) {
	sk, name, err := NameKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	// Cross-checked with Python's cryptography package: base36 CIDv1
	// (libp2p-key) of the identity multihash of the protobuf public key.
	const want = "k51qzi5uqu5dm0t4vbwri4lkg76q03b4x9tsvekgvbu4zli6454ff7w8wdosa4"
	if name.String() != want {
		t.Fatalf("name %s, want %s", name, want)
	}
	if raw, _ := sk.Raw(); hex.EncodeToString(raw[:32]) != hex.EncodeToString(bytes.Repeat([]byte{7}, 32)) {
		t.Fatal("key is not the seed's ed25519 key")
	}
	if _, _, err := NameKey(make([]byte, 31)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short seed: %v", err)
	}
}

func TestRecord(t *testing.T) {
	sk, name, _ := NameKey(bytes.Repeat([]byte{7}, 32))
	_, otherName, _ := NameKey(bytes.Repeat([]byte{8}, 32))
	e := signed(t, 2)
	env := e.Encode()
	rec, err := NewRecord(sk, e, issued)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := NewRecord(sk, e, issued.Add(time.Hour))
	if !bytes.Equal(rec, again) {
		t.Fatal("record depends on the clock")
	}
	got, err := OpenRecord(name, rec, env)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 2 || got.Root != root || got.Verify(address(key(1)), grantHash) != nil {
		t.Fatalf("opened %+v", got)
	}
	if EnvelopeCID(env).String() != "bafkrei"+EnvelopeCID(env).String()[7:] {
		t.Fatalf("envelope CID %s is not raw sha2-256", EnvelopeCID(env))
	}

	// Another name's record.
	if _, err := OpenRecord(otherName, rec, env); !errors.Is(err, ErrSignature) {
		t.Fatalf("other name: %v", err)
	}
	// A tampered record.
	bad := bytes.Clone(rec)
	bad[len(bad)/2] ^= 1
	if _, err := OpenRecord(name, bad, env); !errors.Is(err, ErrSignature) && !errors.Is(err, ErrMalformed) {
		t.Fatalf("tampered record: %v", err)
	}
	if _, err := OpenRecord(name, []byte("not a record"), env); !errors.Is(err, ErrMalformed) {
		t.Fatalf("garbage record: %v", err)
	}
	// A tampered envelope: the record points at other bytes.
	te := signed(t, 2)
	te.Root = otherRoot
	if err := te.Sign(key(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenRecord(name, rec, te.Encode()); !errors.Is(err, ErrBinding) {
		t.Fatalf("tampered envelope: %v", err)
	}
	if _, err := OpenRecord(name, rec, env[:len(env)-1]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("truncated envelope: %v", err)
	}
	// The record's sequence number differs from the envelope's.
	// A record whose sequence number is not the envelope's (made with the
	// ipns package directly: NewRecord always takes the envelope's).
	forged, err := recordWithSeq(sk, env, 9)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenRecord(name, forged, env); !errors.Is(err, ErrBinding) {
		t.Fatalf("seq mismatch: %v", err)
	}
	// Unsigned envelopes and future envelopes make no record.
	if _, err := NewRecord(sk, Envelope{Grant: grantHash, Seq: 1, Root: root}, issued); !errors.Is(err, ErrSignature) {
		t.Fatalf("unsigned: %v", err)
	}
	if _, err := NewRecord(sk, e, issued.Add(-time.Second)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("future: %v", err)
	}
}

func TestLink(t *testing.T) {
	_, name, _ := NameKey(bytes.Repeat([]byte{7}, 32))
	const grantLink = "healthwallet:grant/AAECAwQ"
	l := Link(grantLink, name)
	if l != grantLink+"#live=k51qzi5uqu5dm0t4vbwri4lkg76q03b4x9tsvekgvbu4zli6454ff7w8wdosa4" {
		t.Fatalf("link %s", l)
	}
	g, n, ok, err := SplitLink(" " + l[:20] + "\n" + l[20:] + "\n")
	if err != nil || !ok || g != grantLink || !n.Equal(name) {
		t.Fatalf("split: %q %s %v %v", g, n, ok, err)
	}
	if g, _, ok, err := SplitLink(grantLink); err != nil || ok || g != grantLink {
		t.Fatalf("plain grant link: %q %v %v", g, ok, err)
	}
	for _, s := range []string{
		grantLink + "#live=",
		grantLink + "#live=notaname",
		"#live=" + name.String(),
		grantLink + "#live=/ipns/" + name.String(),
		// A valid peer id that is not an ed25519 key (a sha2-256 multihash).
		grantLink + "#live=QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
	} {
		if _, _, _, err := SplitLink(s); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%q: %v", s, err)
		}
	}
}

func recordWithSeq(sk p2pcrypto.PrivKey, env []byte, seq uint64) ([]byte, error) {
	rec, err := ipns.NewRecord(sk, path.FromCid(EnvelopeCID(env)), seq, RecordEOL, RecordTTL)
	if err != nil {
		return nil, err
	}
	return ipns.MarshalRecord(rec)
}
