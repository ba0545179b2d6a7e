// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title healthwallet revocation registry
/// @notice Public, permissionless registry of revoked access grants.
///
/// Every grant carries a revocation id
///     id = keccak256(abi.encode(TAG, block.chainid, address(this), secret))
/// where `secret` is 32 bytes that only the grant's issuer knows. Revoking a
/// grant means revealing its secret: anyone holding the secret (the patient's
/// wallet, or a relayer the wallet handed it to) may call `revoke`. The chain
/// learns the id and the time, never who issued the grant or to whom: events
/// carry no addresses, and the id is unlinkable to anything until the secret
/// is revealed.
///
/// There is no owner, no pause and no un-revoke. Revoking an id that is
/// already revoked is a no-op: no second event, and the first timestamp is
/// kept, so `revokedAt` is monotone and a verifier's event mirror never sees
/// an id twice.
///
/// Binding the id to the chain id and the registry address means a secret
/// revealed on one deployment (or one chain) revokes nothing elsewhere.
///
/// @dev Storage layout: the timestamp for revocation id `id` lives in storage
/// slot `id` itself (a raw slot, no mapping). Ids are keccak256 outputs over
/// a domain-separated preimage and this contract has no other storage, so the
/// layout is collision-free; it saves one keccak256 per access compared with a
/// mapping. A stored value of zero means "not revoked" (block timestamps are
/// never zero after genesis).
contract RevocationRegistry {
    /// @notice Domain tag mixed into every revocation id:
    /// keccak256("healthwallet.revocation.v1")
    /// = 0x1fd6cbdb2b067554364663148ab5dac8416bb89066d85bb7873dd85856ba406d.
    bytes32 public constant TAG = keccak256("healthwallet.revocation.v1");

    /// @notice Emitted exactly once per revocation id, when it is first revoked.
    /// @param id  the revocation id (indexed: the log's second topic)
    /// @param at  the block timestamp of the revocation (seconds since 1970)
    /// @dev solc 0.8.37 warns (6335) that `at` will become a keyword; the name
    /// is part of the published ABI, and event parameter names do not affect
    /// the event's topic, so a later rename changes no deployed contract.
    event Revoked(bytes32 indexed id, uint64 at);

    /// @notice Revokes the grant whose revocation id is derived from `secret`.
    /// @dev No-op if that id is already revoked.
    /// @param secret the 32-byte revocation secret of the grant
    function revoke(bytes32 secret) external {
        bytes32 tag = TAG;
        bytes32 sig = Revoked.selector;
        assembly ("memory-safe") {
            // id = keccak256(abi.encode(TAG, block.chainid, address(this), secret)),
            // built in free memory (the free memory pointer is left alone).
            let p := mload(0x40)
            mstore(p, tag)
            mstore(add(p, 0x20), chainid())
            mstore(add(p, 0x40), address())
            mstore(add(p, 0x60), secret)
            let id := keccak256(p, 0x80)
            // First revocation only: store the time, emit Revoked(id, at).
            if iszero(sload(id)) {
                sstore(id, timestamp())
                mstore(0x00, timestamp())
                log2(0x00, 0x20, sig, id)
            }
        }
    }

    /// @notice Revokes every grant whose secret is in `secrets`.
    /// @dev Ids already revoked (including duplicates within `secrets`) are
    /// skipped. An empty array is a no-op.
    /// @param secrets the 32-byte revocation secrets
    function revokeBatch(bytes32[] calldata secrets) external {
        bytes32 tag = TAG;
        bytes32 sig = Revoked.selector;
        assembly ("memory-safe") {
            // As in revoke; the first three words of the preimage are shared
            // and only the secret changes per iteration. The ABI decoder has
            // already checked that the array lies within calldata.
            let p := mload(0x40)
            mstore(p, tag)
            mstore(add(p, 0x20), chainid())
            mstore(add(p, 0x40), address())
            let s := add(p, 0x60)
            let end := add(secrets.offset, shl(5, secrets.length))
            for { let i := secrets.offset } lt(i, end) { i := add(i, 0x20) } {
                mstore(s, calldataload(i))
                let id := keccak256(p, 0x80)
                if iszero(sload(id)) {
                    sstore(id, timestamp())
                    mstore(0x00, timestamp())
                    log2(0x00, 0x20, sig, id)
                }
            }
        }
    }

    /// @notice When `id` was revoked.
    /// @param id a revocation id
    /// @return the block timestamp of the revocation, or 0 if `id` is not revoked
    function revokedAt(bytes32 id) external view returns (uint64) {
        uint64 t;
        assembly ("memory-safe") {
            t := sload(id)
        }
        return t;
    }

    /// @notice `revokedAt` for many ids at once, in the same order.
    /// @param ids revocation ids
    /// @return ats the revocation timestamps (0 where not revoked)
    function revokedAtBatch(bytes32[] calldata ids) external view returns (uint64[] memory ats) {
        uint256 n = ids.length;
        ats = new uint64[](n);
        for (uint256 i; i < n;) {
            bytes32 id = ids[i];
            uint64 t;
            assembly ("memory-safe") {
                t := sload(id)
            }
            ats[i] = t;
            unchecked {
                ++i;
            }
        }
    }

    /// @notice The revocation id that `secret` revokes on this registry.
    /// @dev Equals keccak256(abi.encode(TAG, block.chainid, address(this), secret)).
    /// Calling this on a public RPC node discloses `secret` to its operator:
    /// compute ids offline (see the Go package `registry`) in production.
    /// @param secret a 32-byte revocation secret
    /// @return the revocation id
    function revocationIdOf(bytes32 secret) external view returns (bytes32) {
        return keccak256(abi.encode(TAG, block.chainid, address(this), secret));
    }
}
