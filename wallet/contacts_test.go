package wallet

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthwallet/healthwallet/share/grant"
)

func TestContacts(t *testing.T) {
	w, other := newWallet(t), newWallet(t)
	if cs, err := w.Contacts(); err != nil || len(cs) != 0 {
		t.Fatalf("new wallet: %v %v", cs, err)
	}
	if err := w.SaveContact(Contact{Name: "Dr Ruiz", DID: "did:key:nope"}); err == nil {
		t.Fatal("saved a contact with a bad DID")
	}
	if err := w.SaveContact(Contact{Name: " ", DID: other.Info().DID}); err == nil {
		t.Fatal("saved a contact without a name")
	}
	if err := w.SaveContact(Contact{Name: "zoe (sister)", DID: w.Info().DID}); err != nil {
		t.Fatal(err)
	}
	if err := w.SaveContact(Contact{Name: "Dr Ruiz", DID: other.Info().DID}); err != nil {
		t.Fatal(err)
	}
	// Saving the same DID again renames it.
	if err := w.SaveContact(Contact{Name: " Dr Ruiz, cardiology ", DID: other.Info().DID}); err != nil {
		t.Fatal(err)
	}
	cs, err := w.Contacts()
	if err != nil || len(cs) != 2 || cs[0].Name != "Dr Ruiz, cardiology" || cs[1].Name != "zoe (sister)" {
		t.Fatalf("contacts %+v %v", cs, err)
	}
	if err := w.DeleteContact(other.Info().DID); err != nil {
		t.Fatal(err)
	}
	if cs, _ := w.Contacts(); len(cs) != 1 || cs[0].DID != w.Info().DID {
		t.Fatalf("after delete: %+v", cs)
	}
	w.Lock()
	if _, err := w.Contacts(); err != ErrLocked {
		t.Fatalf("locked: %v", err)
	}
}

// TestContactCodes: "My code" holds this wallet's DID as a QR code that
// another wallet reads back from the picture; pasted text with a DID in it
// reads the same; a code without one, or with a broken DID, is refused in
// one line; the access log's addresses map to contact names.
func TestContactCodes(t *testing.T) {
	w, other := newWallet(t), newWallet(t)
	text, png, err := w.MyCode()
	if err != nil || text != w.Info().DID || len(png) == 0 {
		t.Fatalf("my code %q, %d bytes, %v", text, len(png), err)
	}
	path := filepath.Join(t.TempDir(), "code.png")
	must(t, os.WriteFile(path, png, 0o600))
	if got, err := ReadContactQR(path); err != nil || got != w.Info().DID {
		t.Fatalf("read back %q, %v", got, err)
	}
	// A grant-link QR is not a contact code.
	linkPNG, err := grant.QR("healthwallet:grant/notacontactcode")
	must(t, err)
	must(t, os.WriteFile(path, linkPNG, 0o600))
	if _, err := ReadContactQR(path); !errors.Is(err, ErrNotAContactCode) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("link QR read as a contact: %v", err)
	}
	if got, err := ParseContactCode("Hi, add me: " + other.Info().DID + " thanks"); err != nil || got != other.Info().DID {
		t.Fatalf("pasted: %q, %v", got, err)
	}
	if _, err := ParseContactCode("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"); !errors.Is(err, ErrNotAContactCode) {
		t.Fatalf("an address read as a contact code: %v", err)
	}
	if _, err := ParseContactCode("did:key:zQ3shBrokenBrokenBroken"); err == nil {
		t.Fatal("a broken did:key read as a contact code")
	}

	must(t, w.SaveContact(Contact{Name: "Dr Ruiz", DID: other.Info().DID}))
	names, err := w.ContactNames()
	must(t, err)
	if names[other.Info().DID] != "Dr Ruiz" || names[strings.ToLower(other.Info().Address)] != "Dr Ruiz" || len(names) != 2 {
		t.Fatalf("names %v", names)
	}
	if ContactAddress(other.Info().DID) != other.Info().Address {
		t.Fatalf("address of the DID %q, info says %q", ContactAddress(other.Info().DID), other.Info().Address)
	}
}

func FuzzParseContactCode(f *testing.F) {
	f.Add("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")
	f.Add("add me: did:key:z")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		did, err := ParseContactCode(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if !strings.Contains(s, did) || ContactAddress(did) == "" {
			t.Fatalf("accepted %q from %q", did, s)
		}
	})
}
