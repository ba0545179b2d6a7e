package shc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ManifestFile is the name of the trust manifest inside a trust directory.
const ManifestFile = "issuers.json"

// b64url is the strict unpadded base64url of JWS and JWK (RFC 7515 §2).
var b64url = base64.RawURLEncoding.Strict()

// Trust is the set of issuers the user chose to trust, with their public
// keys and revocation lists. Verify accepts a card only if its "iss" is in
// the Trust and its header "kid" names a valid key of that issuer. A Trust
// is read-only after construction and safe for concurrent use.
type Trust struct {
	issuers map[string]*trustedIssuer
}

// Issuer is one trusted issuer, as given to NewTrust.
type Issuer struct {
	// ISS is the issuer URL exactly as it appears in the cards' "iss"
	// claim: https, no trailing slash.
	ISS string
	// Name is a display name chosen by the user or a trust framework; it is
	// copied into Card.IssuerName.
	Name string
	// Keys are the issuer's public keys, as published at
	// ISS + "/.well-known/jwks.json".
	Keys []JWK
	// RevocationLists are the issuer's revocation lists, at most one per
	// key, as published at ISS + "/.well-known/crl/<kid>.json".
	RevocationLists []RevocationList
}

// JWK is a public key of a JSON Web Key Set (RFC 7517) with the members the
// SMART Health Cards specification uses ("Determining keys associated with
// an issuer").
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	// D is the private key; a published key must not have it.
	D string `json:"d,omitempty"`
	// X5C is the optional certificate chain, leaf first, standard base64 DER.
	X5C []string `json:"x5c,omitempty"`
	// CRLVersion, when non-zero, is the "ctr" of the key's revocation list.
	CRLVersion int `json:"crlVersion,omitempty"`
}

// KeySet is a JSON Web Key Set: {"keys": [...]}.
type KeySet struct {
	Keys []JWK `json:"keys"`
}

// RevocationList is an issuer's Card Revocation List for one key
// ("Revocation" in the specification):
//
//	{"kid": "<kid>", "method": "rid", "ctr": 1, "rids": ["<rid>", "<rid>.<timestamp>"]}
type RevocationList struct {
	Kid    string   `json:"kid"`
	Method string   `json:"method"`
	Ctr    int      `json:"ctr"`
	RIDs   []string `json:"rids"`
}

// ParseKeySet parses a JWK Set document. It checks only the JSON shape;
// whether each key is acceptable is decided when a card names it (see
// Verify). Errors wrap ErrTrustStore.
func ParseKeySet(data []byte) (KeySet, error) {
	var raw struct {
		Keys *[]JWK `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return KeySet{}, fmt.Errorf("%w: not a JWK Set: %s", ErrTrustStore, jsonProblem(err))
	}
	if raw.Keys == nil {
		return KeySet{}, fmt.Errorf(`%w: not a JWK Set: no "keys" list`, ErrTrustStore)
	}
	return KeySet{Keys: *raw.Keys}, nil
}

// ParseRevocationList parses a revocation list document. It checks only the
// JSON shape; its content is checked when a card signed by its key is
// verified. Errors wrap ErrTrustStore.
func ParseRevocationList(data []byte) (RevocationList, error) {
	var l RevocationList
	if err := json.Unmarshal(data, &l); err != nil {
		return RevocationList{}, fmt.Errorf("%w: not a revocation list: %s", ErrTrustStore, jsonProblem(err))
	}
	return l, nil
}

// Thumbprint returns the RFC 7638 JWK thumbprint of an EC key: the
// base64url SHA-256 of {"crv":…,"kty":…,"x":…,"y":…} with exactly these
// members in this order and no whitespace. SMART Health Cards require a
// key's kid to equal it.
func (k JWK) Thumbprint() string {
	canonical, _ := json.Marshal(struct {
		Crv string `json:"crv"`
		Kty string `json:"kty"`
		X   string `json:"x"`
		Y   string `json:"y"`
	}{k.Crv, k.Kty, k.X, k.Y})
	sum := sha256.Sum256(canonical)
	return b64url.EncodeToString(sum[:])
}

// manifest is the content of issuers.json.
type manifest struct {
	Issuers []struct {
		ISS  string `json:"iss"`
		Name string `json:"name"`
		JWKS string `json:"jwks"`
		CRL  string `json:"crl"`
	} `json:"issuers"`
}

// LoadTrust reads a trust directory that the user controls. The directory
// holds the manifest issuers.json and the files it names:
//
//	<dir>/issuers.json
//	{
//	  "issuers": [
//	    {
//	      "iss":  "https://spec.smarthealth.cards/examples/issuer",
//	      "name": "SMART Health Cards example issuer",
//	      "jwks": "spec-examples/issuer-jwks.json",
//	      "crl":  "spec-examples/issuer-crl"
//	    }
//	  ]
//	}
//
// For each issuer, "iss" is the issuer URL as in its cards, "name" a display
// name, "jwks" the path of a copy of the issuer's <iss>/.well-known/jwks.json
// and the optional "crl" the path of a directory holding copies of its
// revocation lists, <iss>/.well-known/crl/<kid>.json, under the same file
// names <kid>.json (other files there are ignored, as are lists for kids the
// key set does not have). Paths are relative to dir and may not leave it.
//
// LoadTrust fails with an error wrapping ErrTrustStore if a file is missing
// or is not the JSON it should be, or an issuer URL is invalid or listed
// twice. Individual keys and revocation lists are judged when a card uses
// them, so one bad key does not disable an issuer's other keys; see Verify.
func LoadTrust(dir string) (*Trust, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTrustStore, err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrTrustStore, ManifestFile, jsonProblem(err))
	}
	issuers := make([]Issuer, 0, len(m.Issuers))
	for _, e := range m.Issuers {
		if e.JWKS == "" {
			return nil, fmt.Errorf(`%w: %s: issuer %q has no "jwks" file`, ErrTrustStore, ManifestFile, e.ISS)
		}
		jwksPath, err := localPath(dir, e.JWKS)
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(jwksPath)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrTrustStore, err)
		}
		ks, err := ParseKeySet(data)
		if err != nil {
			return nil, fmt.Errorf("%w (%s)", err, e.JWKS)
		}
		is := Issuer{ISS: e.ISS, Name: e.Name, Keys: ks.Keys}
		if e.CRL != "" {
			crlDir, err := localPath(dir, e.CRL)
			if err != nil {
				return nil, err
			}
			lists, err := readRevocationLists(crlDir)
			if err != nil {
				return nil, err
			}
			is.RevocationLists = lists
		}
		issuers = append(issuers, is)
	}
	return NewTrust(issuers...)
}

// localPath joins a manifest path to dir, refusing paths that leave dir.
func localPath(dir, rel string) (string, error) {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("%w: %s: path %q is not inside the trust directory", ErrTrustStore, ManifestFile, rel)
	}
	return filepath.Join(dir, filepath.FromSlash(rel)), nil
}

// readRevocationLists reads every <kid>.json of a revocation list directory;
// the "kid" inside must match the file name.
func readRevocationLists(dir string) ([]RevocationList, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTrustStore, err)
	}
	var lists []RevocationList
	for _, ent := range entries {
		kid, ok := strings.CutSuffix(ent.Name(), ".json")
		if !ok || ent.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrTrustStore, err)
		}
		l, err := ParseRevocationList(data)
		if err != nil {
			return nil, fmt.Errorf("%w (%s)", err, ent.Name())
		}
		if l.Kid != kid {
			return nil, fmt.Errorf("%w: %s names kid %s; a list must be filed under its own kid",
				ErrTrustStore, ent.Name(), quote(l.Kid))
		}
		lists = append(lists, l)
	}
	return lists, nil
}

// trustedIssuer is an issuer with its keys indexed by kid.
type trustedIssuer struct {
	iss, name string
	keys      map[string]*trustedKey
}

// trustedKey is a key usable for verification (problem == "") or a key
// refused for the reason in problem. Refused keys are indexed both under
// their declared kid and their thumbprint, so a card naming either gets the
// reason instead of a bare "unknown kid".
type trustedKey struct {
	kid          string
	pub          *ecdsa.PublicKey
	problem      string
	announcedCRL int // the JWK's crlVersion, 0 if none

	crl        *RevocationList
	crlProblem string
	revoked    map[string]int64 // rid -> timestamp suffix, or -1 for none
}

// NewTrust builds a Trust from in-memory issuers. It fails with an error
// wrapping ErrTrustStore if an issuer URL is invalid or appears twice, or
// an issuer has two revocation lists for one kid. Keys that break the
// SMART Health Cards key rules and unusable revocation lists are kept with
// their problem and reported by Verify when a card uses that key.
func NewTrust(issuers ...Issuer) (*Trust, error) {
	t := &Trust{issuers: make(map[string]*trustedIssuer, len(issuers))}
	for _, is := range issuers {
		if problem := issuerURLProblem(is.ISS); problem != "" {
			return nil, fmt.Errorf("%w: issuer %s: %s", ErrTrustStore, quote(is.ISS), problem)
		}
		if _, dup := t.issuers[is.ISS]; dup {
			return nil, fmt.Errorf("%w: issuer %s is listed twice", ErrTrustStore, quote(is.ISS))
		}
		ti := &trustedIssuer{iss: is.ISS, name: is.Name, keys: make(map[string]*trustedKey)}
		for _, k := range is.Keys {
			ti.add(checkKey(k, is.ISS))
		}
		seen := make(map[string]bool)
		for i := range is.RevocationLists {
			l := is.RevocationLists[i]
			if seen[l.Kid] {
				return nil, fmt.Errorf("%w: issuer %s has two revocation lists for kid %s", ErrTrustStore, quote(is.ISS), quote(l.Kid))
			}
			seen[l.Kid] = true
			if k := ti.keys[l.Kid]; k != nil && k.problem == "" {
				k.attachCRL(&l)
			}
		}
		for _, k := range ti.keys {
			if k.problem == "" && k.crl == nil && k.crlProblem == "" && k.announcedCRL > 0 {
				k.crlProblem = fmt.Sprintf("key %s announces revocation list version %d, but the trust store has no revocation list for it",
					quote(k.kid), k.announcedCRL)
			}
		}
		t.issuers[is.ISS] = ti
	}
	return t, nil
}

// add indexes a checked key. A usable key wins over a refused one with the
// same kid; the specification allows several entries for one key that
// differ only in x5c.
func (ti *trustedIssuer) add(k *trustedKey, declared, thumb string) {
	for _, kid := range []string{declared, thumb} {
		if kid == "" {
			continue
		}
		if old, ok := ti.keys[kid]; ok && old.problem == "" {
			continue
		}
		ti.keys[kid] = k
	}
}

// checkKey applies the key rules of "Determining keys associated with an
// issuer" and returns the key with the kids to index it under.
func checkKey(k JWK, iss string) (key *trustedKey, declared, thumb string) {
	key = &trustedKey{kid: k.Kid, announcedCRL: k.CRLVersion}
	refuse := func(format string, args ...any) (*trustedKey, string, string) {
		key.problem = fmt.Sprintf("key %s: ", quote(k.Kid)) + fmt.Sprintf(format, args...)
		return key, k.Kid, thumb
	}
	if k.Kty == "EC" {
		thumb = k.Thumbprint()
	}
	switch {
	case k.Kid == "":
		return refuse("has no kid")
	case k.Kty != "EC":
		return refuse("kty is %s, want EC", quote(k.Kty))
	case k.Use != "sig":
		return refuse("use is %s, want sig", quote(k.Use))
	case k.Crv != "P-256":
		return refuse("crv is %s, want P-256", quote(k.Crv))
	case k.Alg != "ES256":
		return refuse("alg is %s, want ES256", quote(k.Alg))
	case k.D != "":
		return refuse("contains the private key (d); a published key set must not")
	case k.CRLVersion < 0:
		return refuse("crlVersion %d is negative", k.CRLVersion)
	}
	x, errX := b64url.DecodeString(k.X)
	y, errY := b64url.DecodeString(k.Y)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return refuse("x and y must be 32-byte base64url P-256 coordinates")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return refuse("x, y is not a point on P-256")
	}
	if k.Kid != thumb {
		return refuse("kid is not the key's RFC 7638 thumbprint %s", thumb)
	}
	if len(k.X5C) > 0 {
		if problem := x5cProblem(k.X5C, pub, iss); problem != "" {
			return refuse("x5c: %s", problem)
		}
	}
	key.pub = pub
	return key, k.Kid, thumb
}

// x5cProblem checks a key's certificate chain for consistency: every
// certificate parses, the leaf certifies the JWK's public key and names the
// issuer URL as a URI subject alternative name, and each certificate is
// signed by the next one. The chain is NOT anchored to a trusted root and
// validity periods and certificate revocation are NOT checked: this wallet
// trusts issuers by the user's manifest, not by PKI (and the specification's
// own example key EBKOr… signs cards dated after its certificate expired).
func x5cProblem(chain []string, pub *ecdsa.PublicKey, iss string) string {
	certs := make([]*x509.Certificate, len(chain))
	for i, c := range chain {
		der, err := base64.StdEncoding.DecodeString(c)
		if err != nil {
			return fmt.Sprintf("certificate %d is not base64", i)
		}
		certs[i], err = x509.ParseCertificate(der)
		if err != nil {
			return fmt.Sprintf("certificate %d does not parse: %v", i, err)
		}
	}
	leafKey, ok := certs[0].PublicKey.(*ecdsa.PublicKey)
	if !ok || !leafKey.Equal(pub) {
		return "the leaf certificate is for a different public key than x, y"
	}
	sanOK := false
	for _, u := range certs[0].URIs {
		if u.String() == iss {
			sanOK = true
		}
	}
	if !sanOK {
		return fmt.Sprintf("the leaf certificate has no URI subject alternative name %s", quote(iss))
	}
	for i := 0; i+1 < len(certs); i++ {
		if err := certs[i].CheckSignatureFrom(certs[i+1]); err != nil {
			return fmt.Sprintf("certificate %d is not signed by certificate %d: %v", i, i+1, err)
		}
	}
	return ""
}

// attachCRL checks a revocation list against the key and indexes it.
func (k *trustedKey) attachCRL(l *RevocationList) {
	problem := func(format string, args ...any) {
		k.crlProblem = fmt.Sprintf("revocation list for key %s: ", quote(k.kid)) + fmt.Sprintf(format, args...)
	}
	switch {
	case l.Method != "rid":
		problem("method is %s; only \"rid\" is defined", quote(l.Method))
		return
	case l.Ctr < 1:
		problem("ctr %d is not a positive counter", l.Ctr)
		return
	case k.announcedCRL > 0 && l.Ctr != k.announcedCRL:
		problem("ctr %d differs from the key's crlVersion %d, so list and key set are out of step", l.Ctr, k.announcedCRL)
		return
	}
	revoked := make(map[string]int64, len(l.RIDs))
	for _, entry := range l.RIDs {
		rid, ts, hasTS := strings.Cut(entry, ".")
		if p := ridProblem(rid); p != "" {
			problem("entry %s: %s", quote(entry), p)
			return
		}
		if _, dup := revoked[rid]; dup {
			problem("rid %s is listed more than once", quote(rid))
			return
		}
		when := int64(-1)
		if hasTS {
			n, err := strconv.ParseInt(ts, 10, 64)
			if err != nil || n < 0 || ts[0] == '+' {
				problem("entry %s: timestamp is not a number of seconds", quote(entry))
				return
			}
			when = n
		}
		revoked[rid] = when
	}
	k.crl = l
	k.revoked = revoked
}

// ridProblem checks a revocation identifier: base64url alphabet, 1 to 24
// characters ("Revocation" in the specification).
func ridProblem(rid string) string {
	switch {
	case rid == "":
		return "rid is empty"
	case len(rid) > 24:
		return fmt.Sprintf("rid has %d characters, more than 24", len(rid))
	case !isBase64URL(rid):
		return "rid uses characters outside the base64url alphabet"
	}
	return ""
}

// issuerURLProblem checks an issuer URL: https and no trailing slash ("The
// URL at <<iss value from JWS>> SHALL use the https scheme and SHALL NOT
// include a trailing /").
func issuerURLProblem(iss string) string {
	switch {
	case iss == "":
		return "issuer URL is empty"
	case !strings.HasPrefix(iss, "https://") || len(iss) == len("https://"):
		return "issuer URL must use https"
	case strings.HasSuffix(iss, "/"):
		return "issuer URL must not end with /"
	case strings.ContainsAny(iss, " \t\r\n"):
		return "issuer URL contains whitespace"
	}
	return ""
}

// Issuers returns the URLs of the trusted issuers, sorted.
func (t *Trust) Issuers() []string {
	if t == nil {
		return nil
	}
	out := make([]string, 0, len(t.issuers))
	for iss := range t.issuers {
		out = append(out, iss)
	}
	sort.Strings(out)
	return out
}
