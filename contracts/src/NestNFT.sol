// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";

/// @title NestNFT
/// @notice The Nest ERC-721 collection: per-token metadata URIs, ERC-2981 royalties (a default and
/// per-token overrides, both capped at {MAX_ROYALTY_BPS}), role-gated minting and ERC-2771
/// meta-transactions through the trusted NestForwarder.
/// @dev Token ids are sequential from 1. Minting uses `_mint` (no `onERC721Received` callback): the
/// minter is a trusted role, and skipping the callback keeps {mintBatch} cheap and free of reentrancy.
/// DEFAULT_ADMIN_ROLE (the timelock in deployment) manages royalties and roles.
contract NestNFT is ERC721, ERC721URIStorage, ERC2981, AccessControl, ERC2771Context {
    /// @notice Role allowed to mint.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @notice Highest royalty any setter accepts, in basis points (1000 = 10%).
    uint96 public constant MAX_ROYALTY_BPS = 1000;

    /// @dev The id the next minted token gets.
    uint256 private _nextTokenId = 1;

    /// @notice Emitted once per minted token, after its `Transfer` and `MetadataUpdate` events.
    /// @param tokenId The new token's id.
    /// @param to The token's first owner.
    /// @param uri The token's metadata URI.
    event TokenMinted(uint256 indexed tokenId, address indexed to, string uri);

    /// @notice Emitted when the default royalty is set, or deleted (`receiver` 0 and `bps` 0).
    /// @param receiver The royalty receiver.
    /// @param bps The royalty in basis points of the sale price.
    event DefaultRoyaltySet(address indexed receiver, uint96 bps);

    /// @notice Emitted when a token's royalty is set, or reset to the default (`receiver` 0 and `bps` 0).
    /// @param tokenId The token id.
    /// @param receiver The royalty receiver.
    /// @param bps The royalty in basis points of the sale price.
    event TokenRoyaltySet(uint256 indexed tokenId, address indexed receiver, uint96 bps);

    /// @notice A royalty above {MAX_ROYALTY_BPS} was requested.
    /// @param bps The requested royalty.
    /// @param maxBps The cap ({MAX_ROYALTY_BPS}).
    error RoyaltyTooHigh(uint96 bps, uint96 maxBps);

    /// @notice {mintBatch} was called with no URIs.
    error EmptyBatch();

    /// @notice The constructor was given the zero address as admin.
    error ZeroAdmin();

    /// @notice Deploys the collection.
    /// @param name_ The ERC-721 name.
    /// @param symbol_ The ERC-721 symbol.
    /// @param admin Gets DEFAULT_ADMIN_ROLE (the timelock in deployment); must not be zero.
    /// @param minter Gets MINTER_ROLE (skipped when zero).
    /// @param trustedForwarder The ERC-2771 forwarder (NestForwarder); zero disables meta-transactions.
    /// @param defaultRoyaltyReceiver Receiver of the default royalty; zero together with a zero
    /// `defaultRoyaltyBps` means no default royalty.
    /// @param defaultRoyaltyBps The default royalty in basis points, at most {MAX_ROYALTY_BPS}.
    constructor(
        string memory name_,
        string memory symbol_,
        address admin,
        address minter,
        address trustedForwarder,
        address defaultRoyaltyReceiver,
        uint96 defaultRoyaltyBps
    ) ERC721(name_, symbol_) ERC2771Context(trustedForwarder) {
        if (admin == address(0)) revert ZeroAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (minter != address(0)) _grantRole(MINTER_ROLE, minter);
        if (defaultRoyaltyReceiver != address(0) || defaultRoyaltyBps != 0) {
            _setDefaultRoyaltyCapped(defaultRoyaltyReceiver, defaultRoyaltyBps);
        }
    }

    // ------------------------------------------------------------------ minting

    /// @notice Mints the next token id to `to` with metadata `uri`. MINTER_ROLE only.
    /// @param to The first owner (must not be zero).
    /// @param uri The token's metadata URI.
    /// @return tokenId The new token's id.
    function mint(address to, string calldata uri) external onlyRole(MINTER_ROLE) returns (uint256 tokenId) {
        tokenId = _nextTokenId++;
        _mintWithURI(to, tokenId, uri);
    }

    /// @notice Mints the next token id to `to` with metadata `uri` and its own royalty. MINTER_ROLE only.
    /// @param to The first owner (must not be zero).
    /// @param uri The token's metadata URI.
    /// @param royaltyReceiver The token's royalty receiver (must not be zero).
    /// @param royaltyBps The token's royalty in basis points, at most {MAX_ROYALTY_BPS}.
    /// @return tokenId The new token's id.
    function mintWithRoyalty(address to, string calldata uri, address royaltyReceiver, uint96 royaltyBps)
        external
        onlyRole(MINTER_ROLE)
        returns (uint256 tokenId)
    {
        tokenId = _nextTokenId++;
        _mintWithURI(to, tokenId, uri);
        _setTokenRoyaltyCapped(tokenId, royaltyReceiver, royaltyBps);
    }

    /// @notice Mints one token per URI to `to`, with consecutive ids. MINTER_ROLE only.
    /// @param to The first owner of every token (must not be zero).
    /// @param uris The metadata URIs, in id order; must not be empty.
    /// @return firstTokenId The id of the first minted token; the last is `firstTokenId + uris.length - 1`.
    function mintBatch(address to, string[] calldata uris)
        external
        onlyRole(MINTER_ROLE)
        returns (uint256 firstTokenId)
    {
        uint256 count = uris.length;
        if (count == 0) revert EmptyBatch();
        firstTokenId = _nextTokenId;
        unchecked {
            _nextTokenId = firstTokenId + count;
            for (uint256 i; i < count; ++i) {
                _mintWithURI(to, firstTokenId + i, uris[i]);
            }
        }
    }

    // ------------------------------------------------------------------ royalties

    /// @notice Sets the royalty every token without its own royalty pays. DEFAULT_ADMIN_ROLE only.
    /// @param receiver The royalty receiver (must not be zero).
    /// @param bps The royalty in basis points, at most {MAX_ROYALTY_BPS}.
    function setDefaultRoyalty(address receiver, uint96 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDefaultRoyaltyCapped(receiver, bps);
    }

    /// @notice Removes the default royalty. DEFAULT_ADMIN_ROLE only.
    function deleteDefaultRoyalty() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _deleteDefaultRoyalty();
        emit DefaultRoyaltySet(address(0), 0);
    }

    /// @notice Sets the royalty of an existing token, overriding the default. DEFAULT_ADMIN_ROLE only.
    /// @param tokenId The token id (must exist).
    /// @param receiver The royalty receiver (must not be zero).
    /// @param bps The royalty in basis points, at most {MAX_ROYALTY_BPS}.
    function setTokenRoyalty(uint256 tokenId, address receiver, uint96 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireOwned(tokenId);
        _setTokenRoyaltyCapped(tokenId, receiver, bps);
    }

    /// @notice Makes an existing token fall back to the default royalty. DEFAULT_ADMIN_ROLE only.
    /// @param tokenId The token id (must exist).
    function resetTokenRoyalty(uint256 tokenId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireOwned(tokenId);
        _resetTokenRoyalty(tokenId);
        emit TokenRoyaltySet(tokenId, address(0), 0);
    }

    // ------------------------------------------------------------------ views

    /// @notice The id the next minted token will get.
    /// @return The next token id (1 before any mint).
    function nextTokenId() external view returns (uint256) {
        return _nextTokenId;
    }

    /// @notice How many tokens were minted so far.
    /// @return The number of minted tokens.
    function totalMinted() external view returns (uint256) {
        return _nextTokenId - 1;
    }

    /// @notice The metadata URI of an existing token.
    /// @param tokenId The token id (must exist).
    /// @return The URI given at mint.
    function tokenURI(uint256 tokenId) public view override(ERC721, ERC721URIStorage) returns (string memory) {
        return super.tokenURI(tokenId);
    }

    /// @notice ERC-165: ERC-721 (+ metadata), ERC-4906, ERC-2981 and AccessControl.
    /// @param interfaceId The interface id.
    /// @return Whether the interface is supported.
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721, ERC721URIStorage, ERC2981, AccessControl)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Mints `tokenId` to `to` and stores its URI. Emits Transfer, MetadataUpdate, TokenMinted.
    function _mintWithURI(address to, uint256 tokenId, string calldata uri) private {
        _mint(to, tokenId);
        _setTokenURI(tokenId, uri);
        emit TokenMinted(tokenId, to, uri);
    }

    /// @dev {ERC2981-_setDefaultRoyalty} with the {MAX_ROYALTY_BPS} cap and an event.
    function _setDefaultRoyaltyCapped(address receiver, uint96 bps) private {
        if (bps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(bps, MAX_ROYALTY_BPS);
        _setDefaultRoyalty(receiver, bps);
        emit DefaultRoyaltySet(receiver, bps);
    }

    /// @dev {ERC2981-_setTokenRoyalty} with the {MAX_ROYALTY_BPS} cap and an event.
    function _setTokenRoyaltyCapped(uint256 tokenId, address receiver, uint96 bps) private {
        if (bps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(bps, MAX_ROYALTY_BPS);
        _setTokenRoyalty(tokenId, receiver, bps);
        emit TokenRoyaltySet(tokenId, receiver, bps);
    }

    /// @dev ERC-2771: the signer appended by the trusted forwarder, else `msg.sender`.
    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    /// @dev ERC-2771: calldata without the forwarder's suffix.
    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    /// @dev ERC-2771: the forwarder appends 20 bytes (the signer).
    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
