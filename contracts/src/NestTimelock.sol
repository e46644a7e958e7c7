// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title NestTimelock
/// @notice The timelock that owns the Nest protocol: it holds the admin roles of NestNFT and
/// NestMarketplace and executes proposals that passed NestGovernor after `minDelay` seconds.
/// @dev A plain OpenZeppelin TimelockController. In deployment the governor gets PROPOSER_ROLE and
/// CANCELLER_ROLE, EXECUTOR_ROLE is open (granted to `address(0)`), and the deployer renounces the
/// optional admin role once the wiring is done.
contract NestTimelock is TimelockController {
    /// @notice Deploys the timelock.
    /// @param minDelay Minimum delay, in seconds, between queueing and executing an operation.
    /// @param proposers Accounts granted PROPOSER_ROLE and CANCELLER_ROLE.
    /// @param executors Accounts granted EXECUTOR_ROLE (`address(0)` opens execution to anyone).
    /// @param admin Optional extra admin for the initial setup (`address(0)` for none); should renounce afterwards.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
