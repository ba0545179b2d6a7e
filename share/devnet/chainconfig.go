package devnet

import (
	"math/big"

	"github.com/ethereum/go-ethereum/params"
)

// ChainID is the devnet's chain id (the conventional local dev id, as in
// `geth --dev`).
const ChainID = 1337

// ChainConfig returns a post-merge chain config with chain id chainID that
// follows current Ethereum mainnet rules: every fork up to and including
// Osaka (Fusaka) active at genesis, plus mainnet's blob-parameter-only forks
// BPO1 and BPO2 with mainnet's blob schedule, and nothing later.
//
// It starts from params.AllDevChainProtocolChanges, the config of
// `geth --dev` and of the simulated backend, and switches off the forks that
// are not on mainnet yet: go-ethereum v1.17.10's dev config enables the
// future "Bogota" fork, whose instruction set is Amsterdam's with EIP-8037
// state-gas metering and EIP-8038 state-access repricing, which makes
// storage writes roughly three times as expensive. Gas measured under it
// says nothing about mainnet; under this config it does.
func ChainConfig(chainID uint64) *params.ChainConfig {
	cfg := *params.AllDevChainProtocolChanges
	cfg.ChainID = new(big.Int).SetUint64(chainID)
	zero := uint64(0)
	cfg.ShanghaiTime = &zero
	cfg.CancunTime = &zero
	cfg.PragueTime = &zero
	cfg.OsakaTime = &zero
	cfg.BPO1Time = &zero
	cfg.BPO2Time = &zero
	// Not on mainnet yet.
	cfg.BPO3Time = nil
	cfg.BPO4Time = nil
	cfg.BPO5Time = nil
	cfg.AmsterdamTime = nil
	cfg.BogotaTime = nil
	cfg.UBTTime = nil

	mainnet := params.MainnetChainConfig.BlobScheduleConfig
	cfg.BlobScheduleConfig = &params.BlobScheduleConfig{
		Cancun: mainnet.Cancun,
		Prague: mainnet.Prague,
		BPO1:   mainnet.BPO1,
		BPO2:   mainnet.BPO2,
	}
	return &cfg
}
