package grant

import (
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// PrintedTypedData is a grant's typed data as `grant --json` prints it, in
// the form eth_signTypedData_v4, viem and ethers take: [Grant.TypedData],
// except that the domain leaves out empty fields. go-ethereum's
// TypedDataDomain always writes "salt": "", which viem refuses ("Expected
// bytes32, got bytes0"), and the grant domain has no salt.
type PrintedTypedData struct {
	Types       apitypes.Types            `json:"types"`
	PrimaryType string                    `json:"primaryType"`
	Domain      PrintedDomain             `json:"domain"`
	Message     apitypes.TypedDataMessage `json:"message"`
}

// PrintedDomain is the EIP-712 domain without empty fields.
type PrintedDomain struct {
	Name              string                `json:"name,omitempty"`
	Version           string                `json:"version,omitempty"`
	ChainID           *math.HexOrDecimal256 `json:"chainId,omitempty"`
	VerifyingContract string                `json:"verifyingContract,omitempty"`
	Salt              string                `json:"salt,omitempty"`
}

// PrintedTypedData returns the typed data to print; it hashes to
// [Grant.Hash].
func (g *Grant) PrintedTypedData() PrintedTypedData {
	td := g.TypedData()
	return PrintedTypedData{
		Types: td.Types, PrimaryType: td.PrimaryType, Message: td.Message,
		Domain: PrintedDomain{Name: td.Domain.Name, Version: td.Domain.Version, ChainID: td.Domain.ChainId,
			VerifyingContract: td.Domain.VerifyingContract, Salt: td.Domain.Salt},
	}
}
