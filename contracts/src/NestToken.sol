// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title NestToken
/// @notice The Nest governance token ("Nest", "NEST"): a fixed-supply ERC-20 with EIP-2612 `permit`
/// and ERC-5805 vote delegation (`delegate` / gasless `delegateBySig`).
/// @dev The ERC-6372 clock is the block timestamp, so governance delays and periods are in seconds.
/// The whole supply is minted once in the constructor; there is no mint or burn function afterwards.
/// `permit` and `delegateBySig` share one nonce per account ({nonces}).
contract NestToken is ERC20, ERC20Permit, ERC20Votes {
    /// @notice Deploys the token and mints the fixed supply.
    /// @param recipient Receives the whole `initialSupply`.
    /// @param initialSupply The fixed total supply, in the smallest unit (18 decimals).
    constructor(address recipient, uint256 initialSupply) ERC20("Nest", "NEST") ERC20Permit("Nest") {
        _mint(recipient, initialSupply);
    }

    /// @notice The current timepoint of the vote-checkpoint clock: the block timestamp.
    /// @return The current block timestamp as a `uint48`.
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice ERC-6372 description of the clock.
    /// @return Always "mode=timestamp".
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice The next unused nonce of `owner`, shared by `permit` and `delegateBySig`.
    /// @param owner The account whose nonce is queried.
    /// @return The nonce the next signature of `owner` must use.
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /// @dev Moves voting units along with the balance (ERC20Votes checkpoints).
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }
}
