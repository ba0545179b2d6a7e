package wallet

import (
	"context"
	"testing"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// TestFilterMatch: filtering in memory with Match gives what Records gives.
func TestFilterMatch(t *testing.T) {
	w := newWallet(t)
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	if _, err := w.ImportFHIR(context.Background(), "m.json", data); err != nil {
		t.Fatal(err)
	}
	all, _ := w.Records(Filter{})
	for _, f := range []Filter{
		{},
		{Type: "observation"},
		{Category: fhir.Labs},
		{From: "2015-01-01", To: "2016-12-31"},
		{Text: "hydrochlorothiazide"},
		{Category: fhir.Medications, From: "2010"},
	} {
		want, _ := w.Records(f)
		n := 0
		for _, r := range all {
			if f.Match(r) {
				n++
			}
		}
		if n != len(want) {
			t.Errorf("%+v: Match keeps %d, Records %d", f, n, len(want))
		}
	}
}
