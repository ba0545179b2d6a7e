// Package contractgen turns RevocationRegistry.sol into the committed
// artifacts of package registry: the ABI, the creation bytecode and the abigen
// v2 Go bindings.
//
// It is shared by the generator (share/registry/internal/gen, run by
// scripts/contracts.sh) and by the staleness test in package registry, so both
// use exactly the same compiler input. The compiler is the solcjs release
// pinned in share/registry/solc (npm package solc, installed with
// `npm ci --prefix share/registry/solc`), driven through its standard-JSON
// interface by the system `node`.
package contractgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi/abigen"
)

// Fixed compiler settings. Changing any of them changes the bytecode, which
// the staleness test then reports until `make contracts` is run.
const (
	// SolcVersion is the exact npm solc version in share/registry/solc.
	SolcVersion = "0.8.37"
	// EVMVersion is the EVM the bytecode targets. Cancun (PUSH0, MCOPY,
	// transient storage) runs on Ethereum mainnet today, whose Prague and
	// Osaka forks are backwards compatible and added no opcode this
	// contract would use (Osaka's CLZ is irrelevant here), and on the many
	// EVM chains that have not adopted Prague or Osaka. For this contract
	// solc emits identical runtime code for "shanghai" through "osaka"; only
	// the metadata differs.
	EVMVersion = "cancun"
	// OptimizerRuns tunes the optimizer for call cost over deploy cost: the
	// registry is deployed once per chain and called for every revocation.
	OptimizerRuns = 1_000_000

	// ContractName is the contract and Go type name.
	ContractName = "RevocationRegistry"
	// SourceName is the source unit name (also the .sol file name).
	SourceName = ContractName + ".sol"
	// Package is the Go package of the bindings.
	Package = "registry"
)

// ErrSolcMissing reports that the pinned solcjs is not installed.
var ErrSolcMissing = errors.New("solcjs not installed: run npm ci --prefix share/registry/solc")

// Artifacts are the outputs of one compilation, exactly as they are committed.
type Artifacts struct {
	ABI      []byte // RevocationRegistry.abi: the ABI JSON, indented, newline-terminated
	Bin      []byte // RevocationRegistry.bin: creation bytecode, hex without 0x, newline-terminated
	Bindings []byte // bindings.go: abigen v2 output
}

// Files maps each committed file name (relative to share/registry) to its
// content.
func (a *Artifacts) Files() map[string][]byte {
	return map[string][]byte{
		ContractName + ".abi": a.ABI,
		ContractName + ".bin": a.Bin,
		"bindings.go":         a.Bindings,
	}
}

// SolcJS returns the path of solc.js inside the npm prefix solcDir, or an
// error wrapping ErrSolcMissing.
func SolcJS(solcDir string) (string, error) {
	p := filepath.Join(solcDir, "node_modules", "solc", "solc.js")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w (%s not found)", ErrSolcMissing, p)
	}
	return p, nil
}

// Input returns the standard-JSON compiler input for source.
func Input(source []byte) ([]byte, error) {
	in := map[string]any{
		"language": "Solidity",
		"sources": map[string]any{
			SourceName: map[string]any{"content": string(source)},
		},
		"settings": map[string]any{
			"optimizer":  map[string]any{"enabled": true, "runs": OptimizerRuns},
			"evmVersion": EVMVersion,
			"outputSelection": map[string]any{
				SourceName: map[string]any{
					ContractName: []string{"abi", "evm.bytecode.object"},
				},
			},
		},
	}
	return json.Marshal(in)
}

// driver is the node program that runs the compiler: argv[1] is the solc
// module directory, stdin the standard-JSON input.
const driver = `const solc = require(process.argv[1]);
const input = require("fs").readFileSync(0, "utf8");
process.stdout.write(JSON.stringify({version: solc.version(), output: solc.compile(input)}));`

type solcOutput struct {
	Errors []struct {
		Severity         string `json:"severity"`
		ErrorCode        string `json:"errorCode"`
		FormattedMessage string `json:"formattedMessage"`
		Message          string `json:"message"`
	} `json:"errors"`
	Contracts map[string]map[string]struct {
		ABI json.RawMessage `json:"abi"`
		EVM struct {
			Bytecode struct {
				Object string `json:"object"`
			} `json:"bytecode"`
		} `json:"evm"`
	} `json:"contracts"`
}

// tolerated reports whether a compiler warning is expected. Only one is:
// solc 0.8.37 warns (6335) that "at" will become a keyword, and the event
// parameter `at` of Revoked is part of the interface (DESIGN.md).
func tolerated(code, msg string) bool {
	return code == "6335" && strings.Contains(msg, "event Revoked(bytes32 indexed id, uint64 at)")
}

// Generate compiles the Solidity file solPath with the solcjs installed under
// the npm prefix solcDir and returns the artifacts and the Go bindings.
// Compiler warnings are treated as errors.
func Generate(ctx context.Context, solcDir, solPath string) (*Artifacts, error) {
	solcJS, err := SolcJS(solcDir)
	if err != nil {
		return nil, err
	}
	solcModule, err := filepath.Abs(filepath.Dir(solcJS))
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node not found on PATH: %w", err)
	}
	source, err := os.ReadFile(solPath)
	if err != nil {
		return nil, err
	}
	input, err := Input(source)
	if err != nil {
		return nil, err
	}
	// One node process: load the pinned solc, report its version and run the
	// standard-JSON compiler (solc.compile) on stdin. The CLI (solc.js
	// --standard-json) would do the same but prints a banner line to stdout.
	cmd := exec.CommandContext(ctx, node, "-e", driver, solcModule)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("solcjs: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var env struct {
		Version string `json:"version"`
		Output  string `json:"output"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("decode solcjs output: %w", err)
	}
	if !strings.HasPrefix(env.Version, SolcVersion+"+") {
		return nil, fmt.Errorf("solcjs is %s, want %s: run npm ci --prefix share/registry/solc", env.Version, SolcVersion)
	}
	out := []byte(env.Output)
	var res solcOutput
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("decode solc output: %w", err)
	}
	var problems []string
	for _, e := range res.Errors {
		if e.Severity == "info" || tolerated(e.ErrorCode, e.FormattedMessage) {
			continue
		}
		msg := e.FormattedMessage
		if msg == "" {
			msg = e.Message
		}
		problems = append(problems, strings.TrimSpace(msg))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("solc reported problems:\n%s", strings.Join(problems, "\n"))
	}
	c, ok := res.Contracts[SourceName][ContractName]
	if !ok || c.EVM.Bytecode.Object == "" {
		return nil, fmt.Errorf("solc output has no bytecode for %s:%s", SourceName, ContractName)
	}

	var abiBuf bytes.Buffer
	if err := json.Indent(&abiBuf, c.ABI, "", "  "); err != nil {
		return nil, fmt.Errorf("indent ABI: %w", err)
	}
	abiBuf.WriteByte('\n')
	abiJSON := abiBuf.Bytes()

	bin := strings.TrimPrefix(c.EVM.Bytecode.Object, "0x")
	// The binding embeds the ABI as a Go string; the compact form keeps it short.
	var compact bytes.Buffer
	if err := json.Compact(&compact, c.ABI); err != nil {
		return nil, err
	}
	code, err := abigen.BindV2([]string{ContractName}, []string{compact.String()}, []string{bin}, Package, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("abigen: %w", err)
	}
	return &Artifacts{
		ABI:      abiJSON,
		Bin:      []byte(bin + "\n"),
		Bindings: []byte(code),
	}, nil
}
