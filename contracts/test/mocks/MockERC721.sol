// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";

/// @notice Test ERC-721 without royalties. `setBrokenTransfers(true)` turns `transferFrom` into a silent
/// no-op (a misbehaving collection) to exercise the marketplace's escrow check.
contract MockERC721 is ERC721 {
    bool public brokenTransfers;

    constructor(string memory name_, string memory symbol_) ERC721(name_, symbol_) {}

    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }

    function burn(uint256 tokenId) external {
        _burn(tokenId);
    }

    function setBrokenTransfers(bool broken) external {
        brokenTransfers = broken;
    }

    function transferFrom(address from, address to, uint256 tokenId) public virtual override {
        if (brokenTransfers) return;
        super.transferFrom(from, to, tokenId);
    }
}

/// @notice Test ERC-721 with uncapped ERC-2981 royalties (so the marketplace's cap can be tested) and a
/// switch that makes `royaltyInfo` revert.
contract MockERC721Royalty is MockERC721, ERC2981 {
    bool public royaltyReverts;

    error RoyaltyQueryFailed();

    constructor(string memory name_, string memory symbol_) MockERC721(name_, symbol_) {}

    function setDefaultRoyalty(address receiver, uint96 bps) external {
        _setDefaultRoyalty(receiver, bps);
    }

    function setTokenRoyalty(uint256 tokenId, address receiver, uint96 bps) external {
        _setTokenRoyalty(tokenId, receiver, bps);
    }

    function setRoyaltyReverts(bool reverts) external {
        royaltyReverts = reverts;
    }

    function royaltyInfo(uint256 tokenId, uint256 salePrice) public view override returns (address, uint256) {
        if (royaltyReverts) revert RoyaltyQueryFailed();
        return super.royaltyInfo(tokenId, salePrice);
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, ERC2981) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
