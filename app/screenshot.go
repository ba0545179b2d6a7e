//go:build screenshots

package app

import (
	"os"
	"time"

	"fyne.io/fyne/v2"

	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// driveForScreenshot takes the app to the screen scripts/screenshots.sh
// photographs, named by $HW_SCREENSHOT: unlock with $HW_PASSPHRASE, open a
// tab, and open its first item. "share-form" ticks some categories; "share"
// also fills in $HW_SCREENSHOT_TO and shares, showing the QR code. Only binaries built with
// -tags screenshots have it; release builds cannot unlock from the
// environment.
func driveForScreenshot(u *UI) {
	name := os.Getenv("HW_SCREENSHOT")
	if name == "" || name == "welcome" || name == "unlock" {
		return
	}
	pass := os.Getenv("HW_PASSPHRASE")
	go func() {
		wait := func(ok func() bool) {
			for deadline := time.Now().Add(30 * time.Second); !ok() && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
			}
		}
		wait(func() bool { return u.screenNow() == "unlock" })
		time.Sleep(300 * time.Millisecond) // the window is on screen
		fyne.DoAndWait(func() {
			u.ul.pass.SetText(pass)
			u.unlock()
		})
		wait(func() bool { return u.screenNow() == "wallet" })
		tab := name
		switch name {
		case "detail":
			tab = tabRecords
		case "share-form":
			tab = tabShare
		}
		fyne.DoAndWait(func() { u.selectTab(tab) })
		time.Sleep(time.Second) // the tab loads in the background
		fyne.DoAndWait(func() {
			switch name {
			case "detail":
				u.records.list.Select(0)
			case tabByMe:
				u.byMe.list.Select(len(u.byMe.grants) - 1) // the oldest: used, with an access log
			case tabWithMe:
				u.withMe.list.Select(0)
			case tabShare, "share-form":
				for _, c := range []fhir.Category{fhir.Labs, fhir.Medications, fhir.Allergies} {
					if ch, ok := u.share.catChecks[c]; ok {
						ch.SetChecked(true)
					}
				}
				u.share.terms.duration.SetSelected("7 days")
				if to := os.Getenv("HW_SCREENSHOT_TO"); to != "" && name == tabShare {
					u.share.grantee.entry.SetText(to)
					u.share.terms.duration.SetSelected("7 days")
					wait := time.Now().Add(10 * time.Second)
					go func() {
						for time.Now().Before(wait) {
							if _, err := u.providers(); err == nil {
								break
							}
							time.Sleep(100 * time.Millisecond)
						}
						fyne.Do(u.share.submit)
					}()
				}
			}
		})
	}()
}
