// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

/// @notice A contract account that refuses ETH (until `setAcceptETH(true)`) and can act on the marketplace
/// through `exec`, e.g. as a seller, bidder or royalty receiver.
contract ETHRejecter is IERC721Receiver {
    bool public acceptETH;

    error ETHRejected();

    function setAcceptETH(bool accept) external {
        acceptETH = accept;
    }

    function exec(address target, bytes calldata data) external payable returns (bytes memory result) {
        bool ok;
        (ok, result) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return IERC721Receiver.onERC721Received.selector;
    }

    receive() external payable {
        if (!acceptETH) revert ETHRejected();
    }
}
