package ipfs

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
)

// ObjectRef is everything needed to fetch and read one object.
type ObjectRef struct {
	Root cid.Cid  // root of the ciphertext's UnixFS DAG
	ID   ObjectID // bound into the ciphertext
	Key  []byte   // 32-byte object key: secret
	Size int64    // plaintext size in bytes
}

// ErrBadRef: a serialized ObjectRef is malformed.
var ErrBadRef = errors.New("malformed object reference")

func (r ObjectRef) errorf(err error) error {
	return &ObjectError{Object: r.String(), Err: err}
}

// String names the object without its key: "ID (root CID)".
func (r ObjectRef) String() string {
	return fmt.Sprintf("%s (%s)", hex.EncodeToString(r.ID[:]), r.Root)
}

type refJSON struct {
	Root string `json:"root"`
	ID   string `json:"id"`
	Key  string `json:"key"`
	Size int64  `json:"size"`
}

// MarshalJSON encodes the reference, key included: seal it before storing.
func (r ObjectRef) MarshalJSON() ([]byte, error) {
	return json.Marshal(refJSON{r.Root.String(), hex.EncodeToString(r.ID[:]), base64.RawURLEncoding.EncodeToString(r.Key), r.Size})
}

// UnmarshalJSON decodes and validates a reference.
func (r *ObjectRef) UnmarshalJSON(b []byte) error {
	var j refJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: %v", ErrBadRef, err)
	}
	root, err := cid.Decode(j.Root)
	if err != nil {
		return fmt.Errorf("%w: root: %v", ErrBadRef, err)
	}
	id, err := hex.DecodeString(j.ID)
	if err != nil || len(id) != len(r.ID) {
		return fmt.Errorf("%w: id", ErrBadRef)
	}
	key, err := base64.RawURLEncoding.DecodeString(j.Key)
	if err != nil || len(key) != KeySize {
		return fmt.Errorf("%w: key", ErrBadRef)
	}
	if j.Size < 0 {
		return fmt.Errorf("%w: negative size", ErrBadRef)
	}
	r.Root, r.Key, r.Size = root, key, j.Size
	copy(r.ID[:], id)
	return nil
}
