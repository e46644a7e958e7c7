// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "../utils/NestTest.sol";
import {NestMarketplace} from "../../src/NestMarketplace.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {MockERC721Royalty} from "../mocks/MockERC721.sol";

/// @notice Invariant-test handler: drives the marketplace through bounded, mostly-valid actions (listings,
/// auctions, offers and withdrawals, in ETH and an ERC-20) by a fixed set of actors over a fixed set of tokens.
/// The royalty receiver is a contract that rejects ETH, so ETH sales also exercise the credit fallback.
contract MarketplaceHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 public constant TOKEN_COUNT = 12;

    NestMarketplace public immutable market;
    MockERC721Royalty public immutable nft;
    MockERC20 public immutable token;
    address public immutable treasury;
    address public immutable royaltyReceiver;

    address[] internal _actors;

    /// @dev Call counters, for a quick look at how well the run explored the state space.
    mapping(bytes32 action => uint256) public calls;

    constructor(
        NestMarketplace market_,
        MockERC721Royalty nft_,
        MockERC20 token_,
        address treasury_,
        address royaltyReceiver_,
        address[] memory actors_
    ) {
        market = market_;
        nft = nft_;
        token = token_;
        treasury = treasury_;
        royaltyReceiver = royaltyReceiver_;
        _actors = actors_;
        for (uint256 i = 0; i < actors_.length; i++) {
            vm.prank(actors_[i]);
            nft.setApprovalForAll(address(market_), true);
            vm.prank(actors_[i]);
            token.approve(address(market_), type(uint256).max);
        }
        for (uint256 id = 1; id <= TOKEN_COUNT; id++) {
            nft.mint(actors_[id % actors_.length], id);
        }
    }

    // ------------------------------------------------------------------ views for the invariants

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    // ------------------------------------------------------------------ listings

    function createListing(uint256 tokenSeed, uint256 price, bool useERC20, uint256 expirySeed) external {
        uint256 id = _tokenId(tokenSeed);
        address owner = nft.ownerOf(id);
        if (owner == address(market)) return;
        price = _bound(price, 1, 100 ether);
        uint64 expiresAt = expirySeed % 3 == 0 ? 0 : uint64(block.timestamp + _bound(expirySeed, 1, 3 days));
        vm.prank(owner);
        market.createListing(address(nft), id, _paymentToken(useERC20), price, expiresAt);
        calls["createListing"]++;
    }

    function buy(uint256 actorSeed, uint256 listingSeed) external {
        uint256 listingId = _activeListing(listingSeed);
        if (listingId == 0) return;
        (address seller,,,,, address paymentToken, uint256 price) = market.listings(listingId);
        address buyer = _actor(actorSeed);
        if (buyer == seller) buyer = _actor((actorSeed % _actors.length) + 1);
        uint256 value = _fund(buyer, paymentToken, price);
        vm.prank(buyer);
        market.buy{value: value}(listingId, price); // may revert: stale or expired listing
        calls["buy"]++;
    }

    function cancelListing(uint256 listingSeed) external {
        uint256 listingId = _activeListing(listingSeed);
        if (listingId == 0) return;
        (address seller,,,,,,) = market.listings(listingId);
        vm.prank(seller);
        market.cancelListing(listingId);
        calls["cancelListing"]++;
    }

    // ------------------------------------------------------------------ auctions

    function createAuction(uint256 tokenSeed, uint256 reserve, bool useERC20, uint256 duration) external {
        uint256 id = _tokenId(tokenSeed);
        address owner = nft.ownerOf(id);
        if (owner == address(market)) return;
        reserve = _bound(reserve, 0, 10 ether);
        vm.prank(owner);
        market.createAuction(address(nft), id, _paymentToken(useERC20), reserve, uint64(_bound(duration, 1, 2 days)));
        calls["createAuction"]++;
    }

    function bid(uint256 actorSeed, uint256 auctionSeed, uint256 extra) external {
        uint256 auctionId = _activeAuction(auctionSeed);
        if (auctionId == 0) return;
        (
            address seller,,,,
            uint64 endTime,,
            address paymentToken,
            uint256 reservePrice,
            address highestBidder,
            uint256 highestBid
        ) = market.auctions(auctionId);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= endTime) return;
        address bidder = _actor(actorSeed);
        if (bidder == seller) bidder = _actor((actorSeed % _actors.length) + 1);

        uint256 minimum;
        if (highestBidder == address(0)) {
            minimum = reservePrice == 0 ? 1 : reservePrice;
        } else {
            (uint16 incrementBps,,) = market.auctionConfig();
            uint256 increment = (highestBid * incrementBps) / 10_000;
            minimum = highestBid + (increment == 0 ? 1 : increment);
        }
        uint256 amount = minimum + _bound(extra, 0, 5 ether);
        uint256 value = _fund(bidder, paymentToken, amount);
        vm.prank(bidder);
        market.bid{value: value}(auctionId, amount);
        calls["bid"]++;
    }

    function settleAuction(uint256 auctionSeed) external {
        uint256 auctionId = _activeAuction(auctionSeed);
        if (auctionId == 0) return;
        (,,,, uint64 endTime,,,,,) = market.auctions(auctionId);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < endTime) vm.warp(endTime);
        market.settleAuction(auctionId);
        calls["settleAuction"]++;
    }

    function cancelAuction(uint256 auctionSeed) external {
        uint256 auctionId = _activeAuction(auctionSeed);
        if (auctionId == 0) return;
        (address seller,,,,,,,, address highestBidder,) = market.auctions(auctionId);
        if (highestBidder != address(0)) return;
        vm.prank(seller);
        market.cancelAuction(auctionId);
        calls["cancelAuction"]++;
    }

    // ------------------------------------------------------------------ offers

    function makeOffer(uint256 actorSeed, uint256 tokenSeed, uint256 amount) external {
        uint256 id = _tokenId(tokenSeed);
        address buyer = _actor(actorSeed);
        if (nft.ownerOf(id) == buyer) buyer = _actor((actorSeed % _actors.length) + 1);
        if (nft.ownerOf(id) == buyer) return;
        amount = _bound(amount, 1, 100 ether);
        vm.prank(buyer);
        market.makeOffer(address(nft), id, address(token), amount, 0);
        calls["makeOffer"]++;
    }

    function acceptOffer(uint256 offerSeed) external {
        uint256 offerId = _activeOffer(offerSeed);
        if (offerId == 0) return;
        (address buyer,,,, uint256 tokenId,, uint256 amount) = market.offers(offerId);
        address owner = nft.ownerOf(tokenId);
        if (owner == address(market) || owner == buyer) return;
        _fund(buyer, address(token), amount);
        vm.prank(owner);
        market.acceptOffer(offerId);
        calls["acceptOffer"]++;
    }

    // ------------------------------------------------------------------ withdrawals & time

    function withdraw(uint256 actorSeed, bool useERC20) external {
        address account = _actor(actorSeed);
        address paymentToken = _paymentToken(useERC20);
        if (market.pendingWithdrawal(account, paymentToken) == 0) return;
        vm.prank(account);
        market.withdraw(paymentToken);
        calls["withdraw"]++;
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + _bound(seconds_, 1, 1 days));
        calls["warp"]++;
    }

    // ------------------------------------------------------------------ helpers

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % _actors.length];
    }

    function _tokenId(uint256 seed) internal pure returns (uint256) {
        return (seed % TOKEN_COUNT) + 1;
    }

    function _paymentToken(bool useERC20) internal view returns (address) {
        return useERC20 ? address(token) : address(0);
    }

    /// @dev The first active listing at or after a seed-chosen id (wrapping around), or 0 when there is none.
    function _activeListing(uint256 seed) internal view returns (uint256) {
        uint256 count = market.nextListingId() - 1;
        for (uint256 i = 0; i < count; i++) {
            uint256 id = (((seed % count) + i) % count) + 1;
            (,, NestMarketplace.ListingStatus status,,,,) = market.listings(id);
            if (status == NestMarketplace.ListingStatus.Active) return id;
        }
        return 0;
    }

    /// @dev The first open auction at or after a seed-chosen id (wrapping around), or 0 when there is none.
    function _activeAuction(uint256 seed) internal view returns (uint256) {
        uint256 count = market.nextAuctionId() - 1;
        for (uint256 i = 0; i < count; i++) {
            uint256 id = (((seed % count) + i) % count) + 1;
            (,, NestMarketplace.AuctionStatus status,,,,,,,) = market.auctions(id);
            if (status == NestMarketplace.AuctionStatus.Active) return id;
        }
        return 0;
    }

    /// @dev The first active offer at or after a seed-chosen id (wrapping around), or 0 when there is none.
    function _activeOffer(uint256 seed) internal view returns (uint256) {
        uint256 count = market.nextOfferId() - 1;
        for (uint256 i = 0; i < count; i++) {
            uint256 id = (((seed % count) + i) % count) + 1;
            (,, NestMarketplace.OfferStatus status,,,,) = market.offers(id);
            if (status == NestMarketplace.OfferStatus.Active) return id;
        }
        return 0;
    }

    /// @dev Gives `account` what it needs to pay `amount`; returns the msg.value to send.
    function _fund(address account, address paymentToken, uint256 amount) internal returns (uint256 value) {
        if (paymentToken == address(0)) {
            vm.deal(account, account.balance + amount);
            return amount;
        }
        uint256 balance = token.balanceOf(account);
        if (balance < amount) token.mint(account, amount - balance);
        return 0;
    }

    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (x >= min && x <= max) return x;
        return min + (x % (max - min + 1));
    }
}
