// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title NestForwarder
/// @notice The trusted ERC-2771 forwarder of the Nest contracts. A relayer submits EIP-712 signed
/// `ForwardRequest`s through {execute} / {executeBatch}; the target contracts (NestNFT,
/// NestMarketplace) trust this forwarder and read the original signer from the calldata suffix.
/// @dev EIP-712 domain: name "NestForwarder", version "1". Request typehash:
/// `ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)`.
contract NestForwarder is ERC2771Forwarder {
    /// @notice Deploys the forwarder with the EIP-712 domain name "NestForwarder" (version "1").
    constructor() ERC2771Forwarder("NestForwarder") {}
}
