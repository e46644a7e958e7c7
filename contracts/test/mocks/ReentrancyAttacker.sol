// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

/// @notice Tries to re-enter the marketplace when it receives ETH (a payout or a withdrawal) or an NFT
/// (`onERC721Received` during a buy). The re-entrant call's outcome is recorded and swallowed, so the outer
/// call can complete and the test can inspect what happened.
contract ReentrancyAttacker is IERC721Receiver {
    address public immutable target;
    bytes public attackData;
    bool public armed;
    uint256 public attempts;
    bool public reentered; // true if a re-entrant call ever succeeded
    bytes public lastRevertData;

    constructor(address target_) {
        target = target_;
    }

    function arm(bytes calldata data) external {
        attackData = data;
        armed = true;
    }

    function disarm() external {
        armed = false;
    }

    function exec(address to, bytes calldata data) external payable returns (bytes memory result) {
        bool ok;
        (ok, result) = to.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    function lastRevertSelector() external view returns (bytes4 selector) {
        bytes memory data = lastRevertData;
        // forge-lint: disable-next-line(unsafe-typecast)
        if (data.length >= 4) selector = bytes4(data);
    }

    function _attack() private {
        if (!armed) return;
        armed = false; // one attempt per arming
        attempts++;
        (bool ok, bytes memory data) = target.call(attackData);
        if (ok) reentered = true;
        else lastRevertData = data;
    }

    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        _attack();
        return IERC721Receiver.onERC721Received.selector;
    }

    receive() external payable {
        _attack();
    }
}
