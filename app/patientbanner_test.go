package app

import (
	"strings"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// twoPatients is a shared Bundle holding two people's records.
const twoPatients = `{"resourceType":"Bundle","type":"collection","entry":[
	{"fullUrl":"urn:uuid:p-martha","resource":{"resourceType":"Patient","id":"p-martha","gender":"female","birthDate":"1972-05-01","name":[{"given":["Martha"],"family":"DeLarosa"}]}},
	{"fullUrl":"urn:uuid:p-darron","resource":{"resourceType":"Patient","id":"p-darron","gender":"male","birthDate":"1939-10-10","name":[{"given":["Darron"],"family":"Feeney"}]}},
	{"fullUrl":"urn:uuid:o-1","resource":{"resourceType":"Observation","id":"o-1","status":"final","subject":{"reference":"urn:uuid:p-darron"},
		"code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}]},"effectiveDateTime":"2026-11-20",
		"valueQuantity":{"value":7.1,"unit":"%"}}}]}`

// TestPatientBannerTwoPatients: a received share says whom it is about
// and who shared it, by contact name; one holding two people is flagged.
func TestPatientBannerTwoPatients(t *testing.T) {
	u := openTestWallet(t, Options{})
	p, err := identity.ParsePhrase("legal winner thank year wave sausage worth useful legal winner thank yellow")
	must(t, err)
	k, err := identity.FromPhrase(p)
	must(t, err)
	must(t, u.openWallet().SaveContact(wallet.Contact{Name: "Dr. Osei", DID: k.DID()}))
	now := u.now()
	g := wallet.GrantRecord{Direction: wallet.Received, Issuer: k.Address().String(), NotBefore: now.Add(-time.Hour),
		ExpiresAt: now.Add(24 * time.Hour), Operations: "read", Links: 1, Summary: "Labs"}
	tapTab(t, u, tabWithMe)
	u.withMe.open(g, []byte(twoPatients))
	u.bg.Wait()
	b := u.withMe.page.banner
	if b.who.Text != "Martha DeLarosa · born 1 May 1972 · female" || b.from.Text != "Shared by Dr. Osei" {
		t.Fatalf("banner %q / %q", b.who.Text, b.from.Text)
	}
	if !b.warn.Visible() || b.warn.Text != "This share holds the records of 2 people: Martha DeLarosa, born 1 May 1972; Darron Feeney, born 10 Oct 1939. Check whose record you are reading." {
		t.Fatalf("warning (shown %v) %q", b.warn.Visible(), b.warn.Text)
	}
	assertScreenNormalized(t, u, "received-two-patients")

	// One patient, from a stranger: no warning, a short address.
	one := strings.Replace(twoPatients, `"Darron"`, `"Martha"`, 1)
	one = strings.Replace(one, `"Feeney"`, `"DeLarosa"`, 1)
	one = strings.Replace(one, `"1939-10-10"`, `"1972-05-01"`, 1)
	g.Issuer = "0x03D8aC9e1A0d6D6b9f6f1b32E7a1c0F2d4E5b6A7"
	u.withMe.open(g, []byte(one))
	u.bg.Wait()
	b = u.withMe.page.banner
	if b.warn.Visible() || len(b.people) != 1 || b.from.Text != "Shared by 0x03D8…b6A7 (not one of your contacts)" {
		t.Fatalf("one patient: warning %v, %d people, %q", b.warn.Visible(), len(b.people), b.from.Text)
	}
}
