// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

/// @notice EIP-712 digests for Nest's signed messages, built independently of the contracts under test:
/// the domain separator is rebuilt from the contract's ERC-5267 `eip712Domain()` and the type hashes
/// are spelled out here, so a mismatch with the contracts (or with what the Rust signer does) fails a test.
library SigUtils {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    bytes32 internal constant FORWARD_REQUEST_TYPEHASH = keccak256(
        "ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)"
    );

    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    bytes32 internal constant DELEGATION_TYPEHASH =
        keccak256("Delegation(address delegatee,uint256 nonce,uint256 expiry)");

    bytes32 internal constant BALLOT_TYPEHASH =
        keccak256("Ballot(uint256 proposalId,uint8 support,address voter,uint256 nonce)");

    /// @dev The unsigned fields of an ERC2771Forwarder request (the nonce is read from the forwarder).
    struct ForwardRequest {
        address from;
        address to;
        uint256 value;
        uint256 gas;
        uint256 nonce;
        uint48 deadline;
        bytes data;
    }

    /// @dev The EIP-712 domain separator of `verifyingContract`, rebuilt from its `eip712Domain()`.
    function domainSeparator(address verifyingContract) internal view returns (bytes32) {
        (, string memory name, string memory version, uint256 chainId, address verifying,,) =
            IERC5267(verifyingContract).eip712Domain();
        return
            keccak256(
                abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(name)), keccak256(bytes(version)), chainId, verifying)
            );
    }

    function typedDataHash(address verifyingContract, bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(verifyingContract), structHash));
    }

    function forwardRequestDigest(address forwarder, ForwardRequest memory req) internal view returns (bytes32) {
        return typedDataHash(
            forwarder,
            keccak256(
                abi.encode(
                    FORWARD_REQUEST_TYPEHASH,
                    req.from,
                    req.to,
                    req.value,
                    req.gas,
                    req.nonce,
                    req.deadline,
                    keccak256(req.data)
                )
            )
        );
    }

    function permitDigest(address token, address owner, address spender, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        return typedDataHash(token, keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, nonce, deadline)));
    }

    function delegationDigest(address token, address delegatee, uint256 nonce, uint256 expiry)
        internal
        view
        returns (bytes32)
    {
        return typedDataHash(token, keccak256(abi.encode(DELEGATION_TYPEHASH, delegatee, nonce, expiry)));
    }

    function ballotDigest(address governor, uint256 proposalId, uint8 support, address voter, uint256 nonce)
        internal
        view
        returns (bytes32)
    {
        return typedDataHash(governor, keccak256(abi.encode(BALLOT_TYPEHASH, proposalId, support, voter, nonce)));
    }
}
