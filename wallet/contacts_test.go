package wallet

import (
	"testing"
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
