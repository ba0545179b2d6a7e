package wallet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/healthwallet/healthwallet/wallet/fhir"
	"github.com/healthwallet/healthwallet/wallet/shc"
)

// TrustDir is where a wallet keeps the SMART Health Card issuers its user
// trusts (shc.LoadTrust layout: issuers.json with JWK Sets and revocation
// lists), relative to the wallet home.
const TrustDir = "trust"

// ErrNoTrust: no trusted issuers are configured, so no card can verify.
var ErrNoTrust = errors.New("no trusted SMART Health Card issuers")

// SetTrustDir makes ImportSHC verify against dir instead of the home's
// trust directory.
func (w *Wallet) SetTrustDir(dir string) {
	w.mu.Lock()
	w.trustDir = dir
	w.mu.Unlock()
}

func (w *Wallet) trust() (*shc.Trust, error) {
	w.mu.RLock()
	dir := w.trustDir
	w.mu.RUnlock()
	if dir == "" {
		dir = filepath.Join(w.home, TrustDir)
	}
	if _, err := os.Stat(filepath.Join(dir, shc.ManifestFile)); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: add the issuer's keys to %s", ErrNoTrust, filepath.Join(dir, shc.ManifestFile))
	}
	return shc.LoadTrust(dir)
}

// ImportSHC imports SMART Health Cards (a .smart-health-card file, shc:/
// QR text or a bare JWS). Each card is verified against the trusted issuers;
// a verified card's FHIR Bundle is imported with the verification result on
// every record. A card its issuer revoked is imported marked "revoked" and
// reported with an error wrapping shc.ErrRevoked; a card that fails
// verification is not imported, and the error says why. A card about
// another person than the wallet's own is refused as ImportFHIR refuses a
// file (opts: OtherPatient).
func (w *Wallet) ImportSHC(ctx context.Context, file string, data []byte, opts ...ImportOptions) (ImportResult, error) {
	res := ImportResult{File: file, PerType: map[string]int{}}
	jwss, err := shc.Decode(data)
	if err != nil {
		return res, fmt.Errorf("%s: %w", file, err)
	}
	trust, err := w.trust()
	if err != nil {
		return res, fmt.Errorf("%s: %w", file, err)
	}
	now := w.now().UTC()
	var problems []error
	for i, jws := range jwss {
		card, verr := shc.Verify(jws, trust, now)
		if verr != nil && !errors.Is(verr, shc.ErrRevoked) {
			problems = append(problems, fmt.Errorf("card %d of %d: %w", i+1, len(jwss), verr))
			continue
		}
		info := &CardInfo{
			Issuer: card.Issuer, IssuerName: card.IssuerName, Status: string(card.Verification.Status),
			Reason: card.Verification.Reason, IssuedAt: card.NotBefore, Expires: card.Expires, CheckedAt: now,
		}
		doc, err := fhir.Parse(card.Bundle)
		if err != nil {
			problems = append(problems, fmt.Errorf("card %d of %d: %w", i+1, len(jwss), err))
			continue
		}
		one, err := w.importDocument(ctx, doc, Source{File: file, Kind: "smart-health-card", BundleID: card.RID}, info, importOptions(opts))
		if err != nil {
			return res, err
		}
		if one.Claimed != nil {
			res.Claimed = one.Claimed
		}
		res.Others = append(res.Others, one.Others...)
		res.Added += one.Added
		res.Updated += one.Updated
		res.Unchanged += one.Unchanged
		res.Records = append(res.Records, one.Records...)
		for t, n := range one.PerType {
			res.PerType[t] += n
		}
		res.Card = info
		if verr != nil {
			problems = append(problems, fmt.Errorf("card %d of %d: %w", i+1, len(jwss), verr))
		}
	}
	if len(problems) == 1 && len(jwss) == 1 {
		return res, fmt.Errorf("%s: %w", file, errors.Unwrap(problems[0]))
	}
	if len(problems) > 0 {
		return res, fmt.Errorf("%s: %w", file, errors.Join(problems...))
	}
	return res, nil
}
