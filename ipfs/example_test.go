package ipfs_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/healthwallet/healthwallet/ipfs"
)

// Open a store in a directory, import a document (encrypted under a fresh
// key) and export it back. The ObjectRef is all a holder needs to read the
// object; its Key is secret.
func ExampleStore() {
	dir, err := os.MkdirTemp("", "hw-example-store-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	store, err := ipfs.OpenStore(dir, ipfs.StoreOptions{})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	ctx := context.Background()
	doc := `{"resourceType":"Observation","status":"final"}`
	ref, err := store.Import(ctx, strings.NewReader(doc), int64(len(doc)), nil)
	if err != nil {
		panic(err)
	}
	has, err := store.Has(ctx, ref.Root)
	if err != nil {
		panic(err)
	}
	fmt.Println("stored:", has, "size:", ref.Size, "key bytes:", len(ref.Key))

	// The blocks on disk are ciphertext: the document is nowhere in them.
	plain := false
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		plain = plain || bytes.Contains(b, []byte("Observation"))
		return err
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("plaintext on disk:", plain)

	var out bytes.Buffer
	if err := store.Export(ctx, ref, &out, nil); err != nil {
		panic(err)
	}
	fmt.Println(out.String())
	// Output:
	// stored: true size: 47 key bytes: 32
	// plaintext on disk: false
	// {"resourceType":"Observation","status":"final"}
}
