package shc_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/healthwallet/healthwallet/wallet/shc"
)

// Decode a .smart-health-card file and verify its card against the issuers
// of a trust directory.
func Example() {
	trust, err := shc.LoadTrust("testdata") // testdata/issuers.json
	if err != nil {
		fmt.Println(err)
		return
	}
	data, err := os.ReadFile("testdata/spec-examples/example-00-e-file.smart-health-card")
	if err != nil {
		fmt.Println(err)
		return
	}
	jwss, err := shc.Decode(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC) // a real wallet passes time.Now()
	for _, jws := range jwss {
		card, err := shc.Verify(jws, trust, now)
		if err != nil {
			fmt.Println("rejected:", err)
			continue
		}
		var bundle struct {
			ResourceType string            `json:"resourceType"`
			Entry        []json.RawMessage `json:"entry"`
		}
		json.Unmarshal(card.Bundle, &bundle)
		fmt.Println(card.Verification.Status)
		fmt.Println(card.IssuerName)
		fmt.Println(card.Issuer)
		fmt.Println(card.Kid)
		fmt.Println(card.NotBefore.UTC().Format(time.RFC3339Nano))
		fmt.Println(card.Types)
		fmt.Println(bundle.ResourceType, "with", len(bundle.Entry), "entries, FHIR", card.FHIRVersion)
	}
	// Output:
	// verified
	// SMART Health Cards example issuer (2022)
	// https://spec.smarthealth.cards/examples/issuer
	// 3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s
	// 2022-11-15T20:51:15.399Z
	// [https://smarthealth.cards#health-card https://smarthealth.cards#immunization https://smarthealth.cards#covid19]
	// Bundle with 4 entries, FHIR 4.0.1
}

// A revoked card comes back together with ErrRevoked, so the wallet can
// keep it marked as revoked.
func ExampleVerify_revoked() {
	trust, _ := shc.LoadTrust("testdata")
	jws, _ := os.ReadFile("testdata/spec-examples/example-03-d-jws.txt")
	card, err := shc.Verify(string(jws), trust, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
	switch {
	case errors.Is(err, shc.ErrRevoked):
		fmt.Println(card.Verification.Status, card.RID)
		fmt.Println(err)
	case err != nil:
		fmt.Println("rejected:", err)
	default:
		fmt.Println("verified")
	}
	// Output:
	// revoked vwAjHdarZuc
	// shc: health card was revoked by its issuer: rid vwAjHdarZuc is on the issuer's revocation list for cards issued up to 2022-11-15T20:51:15Z (ctr 1)
}
