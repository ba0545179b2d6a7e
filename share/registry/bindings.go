// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package registry

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// RevocationRegistryMetaData contains all meta data concerning the RevocationRegistry contract.
var RevocationRegistryMetaData = bind.MetaData{
	ABI: "[{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"at\",\"type\":\"uint64\"}],\"name\":\"Revoked\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"TAG\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"secret\",\"type\":\"bytes32\"}],\"name\":\"revocationIdOf\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"secret\",\"type\":\"bytes32\"}],\"name\":\"revoke\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32[]\",\"name\":\"secrets\",\"type\":\"bytes32[]\"}],\"name\":\"revokeBatch\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"}],\"name\":\"revokedAt\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32[]\",\"name\":\"ids\",\"type\":\"bytes32[]\"}],\"name\":\"revokedAtBatch\",\"outputs\":[{\"internalType\":\"uint64[]\",\"name\":\"ats\",\"type\":\"uint64[]\"}],\"stateMutability\":\"view\",\"type\":\"function\"}]",
	ID:  "RevocationRegistry",
	Bin: "0x6080604052348015600e575f5ffd5b506104b88061001c5f395ff3fe608060405234801561000f575f5ffd5b506004361061006f575f3560e01c806347221ac71161004d57806347221ac7146100d8578063b75c7dc61461010d578063f52a797914610120575f5ffd5b8063098787ce146100735780631eead133146100a357806334dbf709146100c3575b5f5ffd5b610085610081366004610354565b5490565b60405167ffffffffffffffff90911681526020015b60405180910390f35b6100b66100b136600461036b565b61018a565b60405161009a91906103dc565b6100d66100d136600461036b565b61023b565b005b6100ff7f1fd6cbdb2b067554364663148ab5dac8416bb89066d85bb7873dd85856ba406d81565b60405190815260200161009a565b6100d661011b366004610354565b6102d7565b6100ff61012e366004610354565b604080517f1fd6cbdb2b067554364663148ab5dac8416bb89066d85bb7873dd85856ba406d60208083019190915246828401523060608301526080808301949094528251808303909401845260a0909101909152815191012090565b6060818067ffffffffffffffff8111156101a6576101a6610428565b6040519080825280602002602001820160405280156101cf578160200160208202803683370190505b5091505f5b81811015610233575f8585838181106101ef576101ef610455565b9050602002013590505f815490508085848151811061021057610210610455565b67ffffffffffffffff9092166020928302919091019091015250506001016101d4565b505092915050565b5f7f1fd6cbdb2b067554364663148ab5dac8416bb89066d85bb7873dd85856ba406d90505f7f7daf8fe390c53ff75e93b33bedcc8775b7bc3f7e00c9bb6051eeddf67c0c00489050604051828152466020820152306040820152606081018460051b8601865b818110156102cd57803583526080842080546102c457428155425f52808660205fa25b506020016102a1565b5050505050505050565b604080517f1fd6cbdb2b067554364663148ab5dac8416bb89066d85bb7873dd85856ba406d8082524660208301523092820192909252606081018390526080902080547f7daf8fe390c53ff75e93b33bedcc8775b7bc3f7e00c9bb6051eeddf67c0c0048919061034e57428155425f52808260205fa25b50505050565b5f60208284031215610364575f5ffd5b5035919050565b5f5f6020838503121561037c575f5ffd5b823567ffffffffffffffff811115610392575f5ffd5b8301601f810185136103a2575f5ffd5b803567ffffffffffffffff8111156103b8575f5ffd5b8560208260051b84010111156103cc575f5ffd5b6020919091019590945092505050565b602080825282518282018190525f918401906040840190835b8181101561041d57835167ffffffffffffffff168352602093840193909201916001016103f5565b509095945050505050565b7f4e487b71000000000000000000000000000000000000000000000000000000005f52604160045260245ffd5b7f4e487b71000000000000000000000000000000000000000000000000000000005f52603260045260245ffdfea2646970667358221220600ed1baf603b6401a4badbc4f6b785f91132d2849f2e8aecc8134dea0d8943764736f6c63430008250033",
}

// RevocationRegistry is an auto generated Go binding around an Ethereum contract.
type RevocationRegistry struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *RevocationRegistry) GetABI() abi.ABI {
	return c.abi
}

// NewRevocationRegistry creates a new instance of RevocationRegistry.
func NewRevocationRegistry() *RevocationRegistry {
	parsed, err := RevocationRegistryMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &RevocationRegistry{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *RevocationRegistry) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackTAG is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x47221ac7.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function TAG() view returns(bytes32)
func (revocationRegistry *RevocationRegistry) PackTAG() []byte {
	enc, err := revocationRegistry.abi.Pack("TAG")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackTAG is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x47221ac7.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function TAG() view returns(bytes32)
func (revocationRegistry *RevocationRegistry) TryPackTAG() ([]byte, error) {
	return revocationRegistry.abi.Pack("TAG")
}

// UnpackTAG is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x47221ac7.
//
// Solidity: function TAG() view returns(bytes32)
func (revocationRegistry *RevocationRegistry) UnpackTAG(data []byte) ([32]byte, error) {
	out, err := revocationRegistry.abi.Unpack("TAG", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackRevocationIdOf is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf52a7979.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revocationIdOf(bytes32 secret) view returns(bytes32)
func (revocationRegistry *RevocationRegistry) PackRevocationIdOf(secret [32]byte) []byte {
	enc, err := revocationRegistry.abi.Pack("revocationIdOf", secret)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevocationIdOf is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf52a7979.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revocationIdOf(bytes32 secret) view returns(bytes32)
func (revocationRegistry *RevocationRegistry) TryPackRevocationIdOf(secret [32]byte) ([]byte, error) {
	return revocationRegistry.abi.Pack("revocationIdOf", secret)
}

// UnpackRevocationIdOf is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xf52a7979.
//
// Solidity: function revocationIdOf(bytes32 secret) view returns(bytes32)
func (revocationRegistry *RevocationRegistry) UnpackRevocationIdOf(data []byte) ([32]byte, error) {
	out, err := revocationRegistry.abi.Unpack("revocationIdOf", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackRevoke is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb75c7dc6.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revoke(bytes32 secret) returns()
func (revocationRegistry *RevocationRegistry) PackRevoke(secret [32]byte) []byte {
	enc, err := revocationRegistry.abi.Pack("revoke", secret)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevoke is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb75c7dc6.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revoke(bytes32 secret) returns()
func (revocationRegistry *RevocationRegistry) TryPackRevoke(secret [32]byte) ([]byte, error) {
	return revocationRegistry.abi.Pack("revoke", secret)
}

// PackRevokeBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x34dbf709.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revokeBatch(bytes32[] secrets) returns()
func (revocationRegistry *RevocationRegistry) PackRevokeBatch(secrets [][32]byte) []byte {
	enc, err := revocationRegistry.abi.Pack("revokeBatch", secrets)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevokeBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x34dbf709.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revokeBatch(bytes32[] secrets) returns()
func (revocationRegistry *RevocationRegistry) TryPackRevokeBatch(secrets [][32]byte) ([]byte, error) {
	return revocationRegistry.abi.Pack("revokeBatch", secrets)
}

// PackRevokedAt is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x098787ce.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revokedAt(bytes32 id) view returns(uint64)
func (revocationRegistry *RevocationRegistry) PackRevokedAt(id [32]byte) []byte {
	enc, err := revocationRegistry.abi.Pack("revokedAt", id)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevokedAt is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x098787ce.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revokedAt(bytes32 id) view returns(uint64)
func (revocationRegistry *RevocationRegistry) TryPackRevokedAt(id [32]byte) ([]byte, error) {
	return revocationRegistry.abi.Pack("revokedAt", id)
}

// UnpackRevokedAt is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x098787ce.
//
// Solidity: function revokedAt(bytes32 id) view returns(uint64)
func (revocationRegistry *RevocationRegistry) UnpackRevokedAt(data []byte) (uint64, error) {
	out, err := revocationRegistry.abi.Unpack("revokedAt", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackRevokedAtBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1eead133.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revokedAtBatch(bytes32[] ids) view returns(uint64[] ats)
func (revocationRegistry *RevocationRegistry) PackRevokedAtBatch(ids [][32]byte) []byte {
	enc, err := revocationRegistry.abi.Pack("revokedAtBatch", ids)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevokedAtBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1eead133.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revokedAtBatch(bytes32[] ids) view returns(uint64[] ats)
func (revocationRegistry *RevocationRegistry) TryPackRevokedAtBatch(ids [][32]byte) ([]byte, error) {
	return revocationRegistry.abi.Pack("revokedAtBatch", ids)
}

// UnpackRevokedAtBatch is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x1eead133.
//
// Solidity: function revokedAtBatch(bytes32[] ids) view returns(uint64[] ats)
func (revocationRegistry *RevocationRegistry) UnpackRevokedAtBatch(data []byte) ([]uint64, error) {
	out, err := revocationRegistry.abi.Unpack("revokedAtBatch", data)
	if err != nil {
		return *new([]uint64), err
	}
	out0 := *abi.ConvertType(out[0], new([]uint64)).(*[]uint64)
	return out0, nil
}

// RevocationRegistryRevoked represents a Revoked event raised by the RevocationRegistry contract.
type RevocationRegistryRevoked struct {
	Id  [32]byte
	At  uint64
	Raw *types.Log // Blockchain specific contextual infos
}

const RevocationRegistryRevokedEventName = "Revoked"

// ContractEventName returns the user-defined event name.
func (RevocationRegistryRevoked) ContractEventName() string {
	return RevocationRegistryRevokedEventName
}

// UnpackRevokedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Revoked(bytes32 indexed id, uint64 at)
func (revocationRegistry *RevocationRegistry) UnpackRevokedEvent(log *types.Log) (*RevocationRegistryRevoked, error) {
	event := "Revoked"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != revocationRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(RevocationRegistryRevoked)
	if len(log.Data) > 0 {
		if err := revocationRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range revocationRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}
