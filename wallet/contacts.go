package wallet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/healthwallet/healthwallet/internal/qrimage"
	"github.com/healthwallet/healthwallet/share/grant"
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

// ErrNotAContactCode: a scanned or pasted contact code holds no did:key.
var ErrNotAContactCode = errors.New("this is not a Health Wallet contact code (it holds no did:key)")

// contactCodePattern finds a did:key in a scanned code or pasted text.
var contactCodePattern = regexp.MustCompile(`did:key:z[1-9A-HJ-NP-Za-km-z]+`)

// ParseContactCode reads the did:key out of a contact code ("My code" of
// another wallet), a pasted DID, or a message that holds one, and checks
// it. Errors wrap ErrNotAContactCode or identity's DID errors.
func ParseContactCode(s string) (string, error) {
	did := contactCodePattern.FindString(s)
	if did == "" {
		return "", ErrNotAContactCode
	}
	if _, err := identity.ParseDIDKey(did); err != nil {
		return "", err
	}
	return did, nil
}

// MyCode is this wallet's contact code: the text of its DID, and that text
// as a PNG QR code, which another wallet scans to add this one as a
// contact. It holds no secret.
func (w *Wallet) MyCode() (string, []byte, error) {
	png, err := grant.QR(w.info.DID)
	return w.info.DID, png, err
}

// ReadContactQR reads a contact code from a QR code image at path (a photo
// or screenshot of another wallet's "My code"). Errors wrap qrimage's
// (no code found) or ErrNotAContactCode.
func ReadContactQR(path string) (string, error) {
	s, err := qrimage.Read(path, "did:key:")
	return contactFromQR(filepath.Base(path), s, err)
}

// DecodeContactQR is ReadContactQR for a picture that is no file of its
// own (a photo picked on a phone arrives as a stream).
func DecodeContactQR(r io.Reader) (string, error) {
	s, err := qrimage.Decode(r, "did:key:")
	return contactFromQR("the picture", s, err)
}

// contactFromQR checks the text a QR code gave (or the error reading it)
// as a contact code; name says which picture in an error.
func contactFromQR(name, s string, err error) (string, error) {
	if errors.Is(err, qrimage.ErrNotALink) {
		return "", fmt.Errorf("%s: %w", name, ErrNotAContactCode)
	}
	if err != nil {
		return "", err
	}
	return ParseContactCode(s)
}

// ContactAddress is the Ethereum address of a did:key, the form in which
// the access log names who presented a grant ("" for a bad DID).
func ContactAddress(did string) string {
	pub, err := identity.ParseDIDKey(did)
	if err != nil {
		return ""
	}
	return identity.AddressOf(pub).String()
}

// Names maps saved contacts' DIDs, and their addresses in lower case, to
// their names.
type Names map[string]string

// Of is the saved name for a did:key or an address in any case, "" for
// someone who is not a contact. It is the names function [Explain] takes.
func (n Names) Of(who string) string {
	if v, ok := n[who]; ok {
		return v
	}
	return n[strings.ToLower(who)]
}

// ContactNames maps every saved contact's DID, and its address in lower
// case, to its name: how front ends name people in the access log, in
// share lists and in refusals.
func (w *Wallet) ContactNames() (Names, error) {
	cs, err := w.Contacts()
	out := make(Names, 2*len(cs))
	for _, c := range cs {
		out[c.DID] = c.Name
		if a := ContactAddress(c.DID); a != "" {
			out[strings.ToLower(a)] = c.Name
		}
	}
	return out, err
}
