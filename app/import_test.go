package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
)

// TestImportOnePatient: the first file makes its patient the wallet's own,
// and the app says so; another person's file is asked about, nothing
// imported until the user says it is a family member's records.
func TestImportOnePatient(t *testing.T) {
	u := openTestWallet(t, Options{})
	v := u.records
	u.selectTab(tabRecords)
	v.importPaths([]string{fixtureFile(t, "Marguerita_Reilly", "marguerita.json")})
	u.bg.Wait()
	if want := "These records are now yours: Marguerita Reilly, born 28 Feb 1986.\nmarguerita.json: 548 added, 0 updated, 0 unchanged."; v.importResult.Text != want {
		t.Fatalf("first import said %q", v.importResult.Text)
	}
	assertScreen(t, u, "import-yours")
	mine := len(v.all)

	v.importPaths([]string{fixtureFile(t, "Darron_Feeney", "darron.json")})
	u.bg.Wait()
	if want := "This file is for Darron Feeney, born 10 Oct 1939, not for you. Import anyway as a family member's records, or cancel."; v.dialogs.otherText != want {
		t.Fatalf("asked %q", v.dialogs.otherText)
	}
	if v.importResult.Importance != widget.WarningImportance || !strings.Contains(v.importResult.Text, "darron.json: not imported: this file is for Darron Feeney") {
		t.Fatalf("result %q", v.importResult.Text)
	}
	if len(v.all) != mine {
		t.Fatalf("%d records before the answer, want %d", len(v.all), mine)
	}
	assertScreen(t, u, "import-other-patient")

	// Cancel: nothing imported.
	v.dialogs.other.Dismiss()
	u.bg.Wait()
	if len(v.all) != mine {
		t.Fatal("cancel imported records")
	}
	// Import as family: tagged as Darron's.
	v.importPaths([]string{fixtureFile(t, "Darron_Feeney", "darron.json")})
	u.bg.Wait()
	v.dialogs.other.Confirm()
	u.bg.Wait()
	mustContain(t, "import result", v.importResult.Text, "darron.json:", "A family member's records: Darron Feeney, born 10 Oct 1939.")
	recs, err := u.openWallet().Records(wallet.Filter{})
	must(t, err)
	theirs := 0
	for _, r := range recs {
		if r.Whose != nil && r.Whose.Name == "Darron Feeney" {
			theirs++
		}
	}
	if theirs == 0 || len(recs)-theirs != mine {
		t.Fatalf("%d of Darron's records, %d others (want %d)", theirs, len(recs)-theirs, mine)
	}
}
