package grant

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

func TestMatchesEthers(t *testing.T) {
	var want struct{ Hash, Signer string }
	b, _ := os.ReadFile("testdata/ethers-grant.json")
	json.Unmarshal(b, &want)
	g := fixedGrant(t)
	h, err := g.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if got := "0x" + hex.EncodeToString(h[:]); got != want.Hash {
		t.Fatalf("EIP-712 hash %s, ethers says %s", got, want.Hash)
	}
	signer, err := g.Signer()
	if err != nil || signer.Hex() != want.Signer || g.Issuer.Hex() != want.Signer {
		t.Fatalf("signer %s (%v), ethers says %s", signer.Hex(), err, want.Signer)
	}
}

// TestEIP712MailVector checks our use of go-ethereum's apitypes against the
// EIP's own example.
func TestEIP712MailVector(t *testing.T) {
	var raw struct {
		TypedData apitypes.TypedData         `json:"typedData"`
		Expected  map[string]json.RawMessage `json:"expected"`
	}
	b, err := os.ReadFile("testdata/eip712/mail-example.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var v struct {
		TypedData     apitypes.TypedData
		SigningHash   string
		SignerAddress string
		Signature     struct {
			V    int
			R, S string
		}
	}
	v.TypedData = raw.TypedData
	json.Unmarshal(raw.Expected["signHash keccak256(0x1901 || domainSeparator || hashStruct(message))"], &v.SigningHash)
	json.Unmarshal(raw.Expected["signerAddress"], &v.SignerAddress)
	json.Unmarshal(raw.Expected["signature"], &v.Signature)
	if v.SigningHash == "" || v.Signature.R == "" {
		t.Fatalf("vector fields missing: %v", raw.Expected)
	}
	h, _, err := apitypes.TypedDataAndHash(v.TypedData)
	if err != nil {
		t.Fatal(err)
	}
	if "0x"+hex.EncodeToString(h) != strings.ToLower(v.SigningHash) {
		t.Fatalf("mail hash %x, want %s", h, v.SigningHash)
	}
	sig := append(common.FromHex(v.Signature.R), common.FromHex(v.Signature.S)...)
	sig = append(sig, byte(v.Signature.V-27))
	pub, err := crypto.SigToPub(h, sig)
	if err != nil || crypto.PubkeyToAddress(*pub).Hex() != common.HexToAddress(v.SignerAddress).Hex() {
		t.Fatalf("mail signer: %v", err)
	}
}

// fixedRevocations answers from a map; unknown status when fail is set.
type fixedRevocations struct {
	revoked map[[32]byte]uint64
	fail    error
}

func (f fixedRevocations) RevokedAt(_ context.Context, ids [][32]byte) ([]uint64, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	out := make([]uint64, len(ids))
	for i, id := range ids {
		out[i] = f.revoked[id]
	}
	return out, nil
}

var testDomain = Domain{ChainID: 1337, Registry: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}

func policyAt(now time.Time) Policy {
	return Policy{Domain: testDomain, Revocations: fixedRevocations{}, Now: func() time.Time { return now }}
}

// issue makes a grant from issuer to grantee for an hour from start.
func issue(t *testing.T, issuer, grantee *secp256k1.PrivateKey, parent *Grant, mod func(*Grant)) *Grant {
	t.Helper()
	start := uint64(1795000000)
	g := &Grant{
		Domain: testDomain, GranteeKey: grantee.PubKey().SerializeCompressed(),
		Packages: [][]byte{[]byte("cid-1"), []byte("cid-2")}, Categories: []string{"labs", "medications"},
		Operations: Read | Export | Delegate, Depth: 2, NotBefore: start, ExpiresAt: start + 3600,
		RevocationID: [32]byte{issuer.Key.Bytes()[0], byte(len(issuer.Serialize()))}, Nonce: 1,
	}
	g.RevocationID[31] = grantee.Serialize()[0]
	if parent != nil {
		g.Parent, _ = parent.Hash()
		g.Depth = parent.Depth - 1
		g.ExpiresAt = parent.ExpiresAt
	}
	if mod != nil {
		mod(g)
	}
	if err := g.Sign(issuer); err != nil {
		t.Fatal(err)
	}
	return g
}

var (
	patient    = fixedKey(1)
	family     = fixedKey(2)
	specialist = fixedKey(3)
	stranger   = fixedKey(4)
	inWindow   = time.Unix(1795000100, 0)
)

func TestVerifyRootGrant(t *testing.T) {
	ctx := context.Background()
	g := issue(t, patient, specialist, nil, nil)
	v, err := Verify(ctx, Chain{g}, policyAt(inWindow), Request{Holder: specialist.PubKey(), Operations: Read, Categories: []string{"labs"}})
	if err != nil {
		t.Fatal(err)
	}
	if v.ExpiresAt.Unix() != int64(g.ExpiresAt) || len(v.Hashes) != 1 {
		t.Fatalf("verified %+v", v)
	}
	// Proof of possession: the grantee signs a fresh challenge, bound to
	// the verifier's and its own peer id.
	challenge := Challenge{Nonce: [32]byte{9, 9, 9}, Verifier: []byte("node-peer-id-0001"), Presenter: []byte("specialist-peer-01")}
	proof, _ := Prove(specialist, v.Hashes[0], challenge)
	if _, err := Verify(ctx, Chain{g}, policyAt(inWindow), Request{Challenge: challenge, Proof: proof}); err != nil {
		t.Fatalf("proof: %v", err)
	}
	wrong, _ := Prove(stranger, v.Hashes[0], challenge)
	if _, err := Verify(ctx, Chain{g}, policyAt(inWindow), Request{Challenge: challenge, Proof: wrong}); !errors.Is(err, ErrWrongGrantee) {
		t.Fatalf("proof by another key: %v", err)
	}
	staleCh := challenge
	staleCh.Nonce = [32]byte{1}
	stale, _ := Prove(specialist, v.Hashes[0], staleCh)
	if _, err := Verify(ctx, Chain{g}, policyAt(inWindow), Request{Challenge: challenge, Proof: stale}); !errors.Is(err, ErrWrongGrantee) {
		t.Fatalf("proof for another challenge: %v", err)
	}
}

// TestProofBoundToBothPeers: a proof the grantee made for one verifier, or
// on another peer's connection, does not pass at another: a node that
// relays a real node's challenge to the grantee gains nothing.
func TestProofBoundToBothPeers(t *testing.T) {
	ctx := context.Background()
	g := issue(t, patient, specialist, nil, nil)
	h, _ := g.Hash()
	nonce := [32]byte{7, 7, 7}
	// What the real node sees: a relaying peer presenting to it.
	atNode := Challenge{Nonce: nonce, Verifier: []byte("patient-node-peer"), Presenter: []byte("relaying-peer-id")}
	for name, signed := range map[string]Challenge{
		"relayed by another verifier": {Nonce: nonce, Verifier: []byte("relaying-peer-id"), Presenter: []byte("specialist-peer")},
		"made on another connection":  {Nonce: nonce, Verifier: []byte("patient-node-peer"), Presenter: []byte("specialist-peer")},
	} {
		proof, err := Prove(specialist, h, signed)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(ctx, Chain{g}, policyAt(inWindow), Request{Challenge: atNode, Proof: proof}); !errors.Is(err, ErrWrongGrantee) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Prove(specialist, h, Challenge{Nonce: nonce}); err == nil {
		t.Error("a challenge bound to no peer was signed")
	}
}

func TestVerifyRefusals(t *testing.T) {
	ctx := context.Background()
	root := issue(t, patient, family, nil, nil)
	expiry := time.Unix(int64(root.ExpiresAt), 0)
	tests := []struct {
		name   string
		chain  Chain
		policy Policy
		req    Request
		want   error
		msg    string
	}{
		{"wrong chain id", Chain{root}, func() Policy { p := policyAt(inWindow); p.Domain.ChainID = 1; return p }(), Request{}, ErrWrongDomain, "chain 1337"},
		{"wrong registry", Chain{root}, func() Policy { p := policyAt(inWindow); p.Domain.Registry[0] ^= 1; return p }(), Request{}, ErrWrongDomain, ""},
		{"not yet valid", Chain{root}, policyAt(time.Unix(int64(root.NotBefore)-121, 0)), Request{}, ErrNotYetValid, "valid from"},
		{"expired", Chain{root}, policyAt(expiry.Add(61 * time.Second)), Request{}, ErrExpired, "at 2026-"},
		{"lifetime", Chain{issue(t, patient, family, nil, func(g *Grant) { g.ExpiresAt = g.NotBefore + 400*86400 })}, policyAt(inWindow), Request{}, ErrTooLong, ""},
		{"wrong holder", Chain{root}, policyAt(inWindow), Request{Holder: stranger.PubKey()}, ErrWrongGrantee, ""},
		{"wrong issuer", Chain{root}, policyAt(inWindow), Request{Issuer: common.Address{1}}, ErrWrongGrantee, "issued by"},
		{"operation", Chain{issue(t, patient, family, nil, func(g *Grant) { g.Operations = Read })}, policyAt(inWindow), Request{Operations: Export}, ErrNotGranted, "operation"},
		{"category", Chain{root}, policyAt(inWindow), Request{Operations: Read, Categories: []string{"problems"}}, ErrNotGranted, "categories"},
		{"revoked", Chain{root}, Policy{Domain: testDomain, Now: func() time.Time { return inWindow }, Revocations: fixedRevocations{revoked: map[[32]byte]uint64{root.RevocationID: 1795000050}}}, Request{}, ErrRevoked, "2026-11-18T11:07:30Z"},
		{"status unknown", Chain{root}, Policy{Domain: testDomain, Now: func() time.Time { return inWindow }, Revocations: fixedRevocations{fail: errors.New("registry unreachable")}}, Request{}, ErrRevocationUnknown, "registry unreachable"},
		{"no registry", Chain{root}, Policy{Domain: testDomain, Now: func() time.Time { return inWindow }}, Request{}, ErrRevocationUnknown, ""},
		{"tampered", Chain{func() *Grant { g := *root; g.Categories = []string{"labs", "medications", "problems"}; return &g }()}, policyAt(inWindow), Request{}, ErrBadSignature, "not by the issuer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(ctx, tc.chain, tc.policy, tc.req)
			var ve *VerifyError
			if !errors.Is(err, tc.want) || !errors.As(err, &ve) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("message %q lacks %q", err, tc.msg)
			}
		})
	}
	// Within the leeway: valid.
	if _, err := Verify(ctx, Chain{root}, policyAt(expiry.Add(59*time.Second)), Request{}); err != nil {
		t.Fatalf("inside leeway: %v", err)
	}
}

// TestHighSTwinRefused: for every signature (r, s, v) the twin (r, n−s, 1−v)
// recovers the same key; go-ethereum accepts both, Verify must not.
func TestHighSTwinRefused(t *testing.T) {
	g := issue(t, patient, family, nil, nil)
	n := crypto.S256().Params().N
	s := new(big.Int).SetBytes(g.Signature[32:64])
	twin := *g
	twin.Signature = append([]byte(nil), g.Signature[:32]...)
	twin.Signature = append(twin.Signature, common.LeftPadBytes(new(big.Int).Sub(n, s).Bytes(), 32)...)
	twin.Signature = append(twin.Signature, 27+(1-(g.Signature[64]-27)))
	h, _ := twin.Hash()
	raw := append([]byte(nil), twin.Signature...)
	raw[64] -= 27
	if pub, err := crypto.SigToPub(h[:], raw); err != nil || crypto.PubkeyToAddress(*pub) != g.Issuer {
		t.Fatalf("the twin should recover the issuer in go-ethereum (it does, that is the point): %v", err)
	}
	if _, err := Verify(context.Background(), Chain{&twin}, policyAt(inWindow), Request{}); !errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), "high-S") {
		t.Fatalf("high-S twin: %v", err)
	}
}

func TestDelegation(t *testing.T) {
	ctx := context.Background()
	root := issue(t, patient, family, nil, nil)
	child := issue(t, family, specialist, root, func(g *Grant) { g.Categories = []string{"labs"}; g.Operations = Read })
	if _, err := Verify(ctx, Chain{root, child}, policyAt(inWindow), Request{Holder: specialist.PubKey(), Operations: Read, Issuer: root.Issuer}); err != nil {
		t.Fatalf("valid delegation: %v", err)
	}
	tests := []struct {
		name  string
		chain Chain
		want  error
		msg   string
	}{
		{"widens categories", Chain{root, issue(t, family, specialist, root, func(g *Grant) { g.Categories = []string{"labs", "problems"} })}, ErrWidened, "categories"},
		{"empties categories", Chain{root, issue(t, family, specialist, root, func(g *Grant) { g.Categories = nil })}, ErrWidened, "categories"},
		{"extends expiry", Chain{root, issue(t, family, specialist, root, func(g *Grant) { g.ExpiresAt++ })}, ErrWidened, "expires after"},
		{"exceeds depth", Chain{root, issue(t, family, specialist, root, func(g *Grant) { g.Depth = 2 })}, ErrWidened, "depth"},
		{"adds package", Chain{root, issue(t, family, specialist, root, func(g *Grant) { g.Packages = append(g.Packages, []byte("cid-3")) })}, ErrWidened, "packages"},
		{"adds provider", Chain{root, issue(t, family, specialist, root, func(g *Grant) { g.Providers = append(g.Providers, []byte("/ip4/203.0.113.9")) })}, ErrOtherProviders, "names nodes its parent does not: 1 of its nodes"},
		{"adds sensitive", Chain{root, issue(t, family, specialist, root, func(g *Grant) { g.Sensitive = []string{"hiv"} })}, ErrWidened, "sensitive"},
		{"issuer is not the parent's grantee", Chain{root, issue(t, stranger, specialist, root, nil)}, ErrBrokenChain, "issued by"},
		{"wrong parent", Chain{root, issue(t, family, specialist, root, func(g *Grant) { g.Parent[0] ^= 1 })}, ErrBrokenChain, "another parent"},
		{"missing root", Chain{child}, ErrBrokenChain, "parent"},
		{"no delegation allowed", func() Chain {
			r := issue(t, patient, family, nil, func(g *Grant) { g.Operations = Read | Export })
			return Chain{r, issue(t, family, specialist, r, func(g *Grant) { g.Operations = Read })}
		}(), ErrWidened, "does not allow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(ctx, tc.chain, policyAt(inWindow), Request{})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
	// Revoking the family grant revokes what was delegated from it.
	pol := policyAt(inWindow)
	pol.Revocations = fixedRevocations{revoked: map[[32]byte]uint64{root.RevocationID: 1795000050}}
	_, err := Verify(ctx, Chain{root, child}, pol, Request{})
	var ve *VerifyError
	if !errors.Is(err, ErrRevoked) || !errors.As(err, &ve) || ve.Link != 0 {
		t.Fatalf("revoked parent: %v", err)
	}
}

func TestWrap(t *testing.T) {
	g := fixedGrant(t)
	core, _ := g.CoreHash()
	keys := []PackageKey{{ObjectID: [16]byte{1}, Key: [32]byte{2}, Size: 12345}, {ObjectID: [16]byte{3}, Key: [32]byte{4}, Size: 1}}
	wrapped, err := Wrap(family.PubKey(), core, keys)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unwrap(family, core, wrapped)
	if err != nil || len(got) != 2 || !reflect.DeepEqual(got, keys) {
		t.Fatalf("unwrap: %+v %v", got, err)
	}
	if _, err := Unwrap(stranger, core, wrapped); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("another key: %v", err)
	}
	other := core
	other[0] ^= 1
	if _, err := Unwrap(family, other, wrapped); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("moved to another grant: %v", err)
	}
	// The core hash does not depend on the wrapped key, the grant hash does.
	g2 := *g
	g2.WrappedKey = wrapped
	c2, _ := g2.CoreHash()
	h1, _ := g.Hash()
	h2, _ := g2.Hash()
	if c2 != core || h1 == h2 {
		t.Fatal("core hash must ignore the wrapped key, the grant hash must not")
	}
}

// TestWycheproofECDH runs the Wycheproof secp256k1 ECDH vectors through
// decred's GenerateSharedSecret, the primitive Wrap uses.
func TestWycheproofECDH(t *testing.T) {
	var f struct {
		TestGroups []struct {
			Tests []struct {
				TcID    int
				Public  string
				Private string
				Shared  string
				Result  string
			}
		}
	}
	b, _ := os.ReadFile("testdata/ecdh_secp256k1_test.json")
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	valid := 0
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			var spki struct {
				Algo asn1.RawValue
				Key  asn1.BitString
			}
			der, _ := hex.DecodeString(tc.Public)
			rest, err := asn1.Unmarshal(der, &spki)
			var pub *secp256k1.PublicKey
			if err == nil && len(rest) != 0 {
				err = errors.New("trailing data")
			}
			if err == nil {
				pub, err = secp256k1.ParsePubKey(spki.Key.Bytes)
			}
			if tc.Result == "invalid" {
				continue // malformed encodings: parsing must fail or the case is about ASN.1 we do not use
			}
			if err != nil {
				if tc.Result == "valid" {
					t.Errorf("tc %d: valid public key refused: %v", tc.TcID, err)
				}
				continue
			}
			privBytes, _ := hex.DecodeString(tc.Private) // a DER integer: may carry a sign byte
			priv := secp256k1.PrivKeyFromBytes(new(big.Int).SetBytes(privBytes).FillBytes(make([]byte, 32)))
			shared := secp256k1.GenerateSharedSecret(priv, pub)
			if hex.EncodeToString(shared) != tc.Shared {
				t.Errorf("tc %d: shared %x, want %s", tc.TcID, shared, tc.Shared)
			}
			valid++
		}
	}
	if valid < 100 {
		t.Fatalf("only %d ECDH vectors checked", valid)
	}
}

func TestEncodeLinkQR(t *testing.T) {
	root := issue(t, patient, family, nil, nil)
	child := issue(t, family, specialist, root, func(g *Grant) { g.Categories = []string{"labs"} })
	link, err := Chain{root, child}.Link(family.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	back, err := OpenLink(" "+link[:40]+"\n"+link[40:]+" ", specialist)
	if err != nil {
		t.Fatal(err)
	}
	// The leaf's issuer opens it too (to revoke it); nobody else does, not
	// even the patient at the root of the chain.
	if c, err := OpenLink(link, family); err != nil || len(c) != 2 {
		t.Fatalf("the issuer cannot open its link: %v", err)
	}
	for _, k := range []*secp256k1.PrivateKey{patient, stranger} {
		if _, err := OpenLink(link, k); !errors.Is(err, ErrNotAddressed) || err.Error() != "this link is not addressed to this wallet" {
			t.Fatalf("another wallet: %v", err)
		}
	}
	if err := CheckLink(link); err != nil {
		t.Fatalf("CheckLink: %v", err)
	}
	if _, err := (Chain{root, child}).Link(patient.PubKey()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("sealed to a key that is not the leaf's issuer: %v", err)
	}
	if len(back) != 2 {
		t.Fatalf("%d links", len(back))
	}
	for i, g := range []*Grant{root, child} {
		h1, _ := g.Hash()
		h2, _ := back[i].Hash()
		if h1 != h2 || !bytes.Equal(back[i].Signature, g.Signature) {
			t.Fatalf("link %d changed in transit", i)
		}
	}
	if _, err := Verify(context.Background(), back, policyAt(inWindow), Request{}); err != nil {
		t.Fatalf("decoded chain: %v", err)
	}
	t.Logf("two-link chain: %d-character link", len(link))

	png, err := QR(link)
	if err != nil {
		t.Fatal(err)
	}
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("zbarimg not installed; .ci/run installs zbar-tools")
		}
		t.Skip("zbarimg not installed")
	}
	p := filepath.Join(t.TempDir(), "grant.png")
	os.WriteFile(p, png, 0o600)
	out, err := exec.Command(zbar, "--quiet", "--raw", p).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	if strings.TrimSpace(string(out)) != link {
		t.Fatal("the QR code does not read back as the link")
	}
	if _, err := QR(LinkPrefix + strings.Repeat("A", MaxQRLink)); !errors.Is(err, ErrTooBigForQR) {
		t.Fatalf("oversized link: %v", err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	c := Chain{issue(t, patient, family, nil, nil)}
	link, _ := c.Link(patient.PubKey())
	plain, _ := c.Encode()
	legacy := LinkPrefix + base64.RawURLEncoding.EncodeToString(plain) // before links were sealed
	for _, bad := range []string{"", "healthwallet:grant/", "https://example.org", LinkPrefix + "!!!", link[:len(link)-5], link + "AAAA", legacy} {
		if _, err := OpenLink(bad, family); !errors.Is(err, ErrMalformed) {
			t.Errorf("OpenLink(%.40q) = %v", bad, err)
		}
	}
	if _, err := OpenLink(legacy, family); !strings.Contains(err.Error(), "older version") {
		t.Errorf("legacy link: %v", err)
	}
	if err := CheckLink(legacy); !errors.Is(err, ErrMalformed) {
		t.Errorf("CheckLink(legacy) = %v", err)
	}
}

func FuzzDecodeChain(f *testing.F) {
	root := &Grant{Domain: testDomain, GranteeKey: family.PubKey().SerializeCompressed(), Operations: Read, NotBefore: 1, ExpiresAt: 2}
	root.Sign(patient)
	b, _ := Chain{root}.Encode()
	f.Add(b)
	f.Add([]byte("HWG\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeChain(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		again, err := c.Encode()
		if err != nil {
			return // decodable but not re-encodable (e.g. mixed lengths) is fine
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs")
		}
		Verify(context.Background(), c, policyAt(inWindow), Request{})
	})
}

func FuzzOpenLink(f *testing.F) {
	link, _ := Chain{fixedGrant(f)}.Link(patient.PubKey())
	f.Add(link)
	f.Add("healthwallet:grant/")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := OpenLink(s, family); err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotAddressed) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}

func TestBundlePointer(t *testing.T) {
	p := BundlePointer{Root: []byte{1, 0x55, 0x12, 0x20, 9}, ObjectID: [16]byte{1}, Key: [32]byte{2}, Size: 2000, Providers: [][]byte{{4, 127, 0, 0, 1}}}
	link, err := p.Link(specialist.PubKey(), patient.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	if !IsBundleLink(link) || IsBundleLink(LinkPrefix+"x") {
		t.Fatal("IsBundleLink")
	}
	for _, k := range []*secp256k1.PrivateKey{specialist, patient} {
		back, err := OpenBundleLink(link, k)
		if err != nil || !bytes.Equal(back.Root, p.Root) || back.Key != p.Key || back.Size != p.Size || len(back.Providers) != 1 {
			t.Fatalf("round trip %+v %v", back, err)
		}
	}
	if _, err := OpenBundleLink(link, stranger); !errors.Is(err, ErrNotAddressed) {
		t.Fatalf("another wallet: %v", err)
	}
	if len(link) > 400 {
		t.Fatalf("pointer link is %d characters", len(link))
	}
	for _, bad := range []string{"", BundlePrefix, BundlePrefix + "AAAA", link[:len(link)-3]} {
		if _, err := OpenBundleLink(bad, specialist); !errors.Is(err, ErrMalformed) {
			t.Errorf("OpenBundleLink(%q) = %v", bad, err)
		}
	}
}

func FuzzOpenBundleLink(f *testing.F) {
	seed, _ := BundlePointer{Root: []byte{1, 2}, Size: 3}.Link(specialist.PubKey())
	f.Add(seed)
	f.Add(BundlePrefix)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := OpenBundleLink(s, specialist)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotAddressed) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		again, _ := p.Link(specialist.PubKey())
		if q, err := OpenBundleLink(again, specialist); err != nil || !bytes.Equal(q.Root, p.Root) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}
