// Command gen regenerates the committed artifacts of package registry
// (RevocationRegistry.abi, RevocationRegistry.bin and bindings.go) from
// RevocationRegistry.sol with the pinned solcjs. Run it through
// scripts/contracts.sh (make contracts), from the repository root:
//
//	go run ./share/registry/internal/gen [-dir share/registry]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
	"github.com/healthwallet/healthwallet/share/registry/internal/contractgen"
)

func main() {
	dir := flag.String("dir", filepath.Join("share", "registry"), "directory of RevocationRegistry.sol; artifacts are written there")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	art, err := contractgen.Generate(context.Background(), filepath.Join(dir, "solc"), filepath.Join(dir, contractgen.SourceName))
	if err != nil {
		return err
	}
	files := art.Files()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && string(old) == string(files[name]) {
			fmt.Println("unchanged", path)
			continue
		}
		if err := atomicfile.WriteFile(path, files[name], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Println("wrote", path)
	}
	return nil
}
