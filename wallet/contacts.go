package wallet

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// Contact is a grantee the user saved by name, so the share screen can
// offer it again. Names can say something about the user's care ("Dr Ruiz,
// oncology"), so contacts live in the sealed catalog, not in app
// preferences.
type Contact struct {
	Name string `json:"name"`
	DID  string `json:"did"` // did:key
}

// contactsKey is the Settings entry holding the contact list.
var contactsKey = catalog.IDFromHash([]byte("ui-contacts"))

// Contacts lists the saved contacts, sorted by name.
func (w *Wallet) Contacts() ([]Contact, error) {
	cat, err := w.Catalog()
	if err != nil {
		return nil, err
	}
	b, err := cat.Get(catalog.Settings, contactsKey)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Contact
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	return out, nil
}

// SaveContact adds a contact, or renames the one with the same DID. The DID
// must be a valid did:key and the name not empty.
func (w *Wallet) SaveContact(c Contact) error {
	c.Name, c.DID = strings.TrimSpace(c.Name), strings.TrimSpace(c.DID)
	if c.Name == "" {
		return errors.New("a contact needs a name")
	}
	if _, err := identity.ParseDIDKey(c.DID); err != nil {
		return err
	}
	return w.updateContacts(func(cs []Contact) []Contact {
		cs = slices.DeleteFunc(cs, func(o Contact) bool { return o.DID == c.DID })
		return append(cs, c)
	})
}

// DeleteContact forgets the contact with this DID; an unknown DID is not an
// error.
func (w *Wallet) DeleteContact(did string) error {
	return w.updateContacts(func(cs []Contact) []Contact {
		return slices.DeleteFunc(cs, func(o Contact) bool { return o.DID == did })
	})
}

func (w *Wallet) updateContacts(change func([]Contact) []Contact) error {
	cat, err := w.Catalog()
	if err != nil {
		return err
	}
	return cat.Update(func(tx *catalog.Tx) error {
		var cs []Contact
		if b, err := tx.Get(catalog.Settings, contactsKey); err == nil {
			if err := json.Unmarshal(b, &cs); err != nil {
				return fmt.Errorf("contacts: %w", err)
			}
		} else if !errors.Is(err, catalog.ErrNotFound) {
			return err
		}
		cs = change(cs)
		slices.SortFunc(cs, func(a, b Contact) int {
			return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		})
		b, _ := json.Marshal(cs)
		return tx.Put(catalog.Settings, contactsKey, b)
	})
}
