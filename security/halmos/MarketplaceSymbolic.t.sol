// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {NestMarketplace} from "../../src/NestMarketplace.sol";
import {MockERC721Royalty} from "../mocks/MockERC721.sol";

/// @notice The cheatcodes halmos supports that these checks use.
interface HalmosVm {
    function prank(address sender) external;
    function deal(address account, uint256 newBalance) external;
    function warp(uint256 newTimestamp) external;
    function assume(bool condition) external pure;
}

/// @notice Symbolic checks of the marketplace's money invariants, run by halmos (`scripts/security`),
/// not by forge: the functions are named `check_*`, which `forge test` does not run. Every argument of
/// a `check_*` function is a symbolic value, so each check covers all inputs (within the stated bounds).
/// Failures are Solidity `assert`s (Panic 0x01), which is what halmos reports as a counterexample.
contract MarketplaceSymbolic {
    HalmosVm internal constant vm = HalmosVm(address(uint160(uint256(keccak256("hevm cheat code")))));

    address internal constant ADMIN = address(0xA11CE0);
    address internal constant TREASURY = address(0x7EA5);
    address internal constant ROYALTY = address(0x2071);
    address internal constant SELLER = address(0x5E11);
    address internal constant BUYER = address(0xB0B);
    address internal constant CAROL = address(0xCA201);

    uint256 internal constant TOKEN_ID = 1;
    uint256 internal constant MAX_PRICE = 1e30; // far above any ETH supply; keeps price * bps < 2^256

    NestMarketplace internal market;
    MockERC721Royalty internal nft;

    function setUp() public {
        market = new NestMarketplace(ADMIN, ADMIN, address(0), TREASURY, 250);
        nft = new MockERC721Royalty("Nest Halmos", "NHLM");
        nft.mint(SELLER, TOKEN_ID);
        vm.prank(SELLER);
        nft.setApprovalForAll(address(market), true);
    }

    function _setTerms(uint16 feeBps, uint96 royaltyBps) internal {
        vm.assume(feeBps <= market.MAX_FEE_BPS());
        vm.assume(royaltyBps <= 10_000); // ERC-2981's own bound; the marketplace caps it at 10%
        vm.prank(ADMIN);
        market.setFeeBps(feeBps);
        nft.setTokenRoyalty(TOKEN_ID, ROYALTY, royaltyBps);
    }

    /// @notice (a) A fixed-price ETH sale: the buyer pays exactly the price, and royalty + platform fee +
    /// seller proceeds add up to exactly the price; nothing stays in the marketplace.
    function check_listingSaleSplitsExactlyThePrice(uint256 price, uint16 feeBps, uint96 royaltyBps) public {
        vm.assume(price > 0 && price <= MAX_PRICE);
        _setTerms(feeBps, royaltyBps);

        vm.prank(SELLER);
        uint256 listingId = market.createListing(address(nft), TOKEN_ID, address(0), price, 0);

        vm.deal(BUYER, price);
        uint256 sellerBefore = SELLER.balance;
        uint256 treasuryBefore = TREASURY.balance;
        uint256 royaltyBefore = ROYALTY.balance;

        vm.prank(BUYER);
        market.buy{value: price}(listingId, price);

        uint256 paid = (SELLER.balance - sellerBefore) + (TREASURY.balance - treasuryBefore)
            + (ROYALTY.balance - royaltyBefore);
        assert(BUYER.balance == 0); // the buyer paid exactly `price`
        assert(paid == price); // royalty + fee + seller == price
        assert(ROYALTY.balance - royaltyBefore <= price / 10); // royalty capped at MAX_ROYALTY_BPS
        assert(TREASURY.balance - treasuryBefore == price * feeBps / 10_000);
        assert(address(market).balance == 0 && market.totalOwed(address(0)) == 0);
        assert(nft.ownerOf(TOKEN_ID) == BUYER);
    }

    /// @dev Bids `amount` from `bidder` with a low-level call: a rejected bid is simply skipped, so the
    /// sequence explores accepted and rejected bids alike.
    function _tryBid(uint256 auctionId, address bidder, uint256 amount) internal {
        vm.deal(bidder, bidder.balance + amount);
        vm.prank(bidder);
        (bool ok,) = address(market).call{value: amount}(abi.encodeCall(NestMarketplace.bid, (auctionId, amount)));
        if (!ok) vm.deal(bidder, bidder.balance - amount);
    }

    function _bidder(uint8 choices, uint8 bit) internal pure returns (address) {
        return (choices >> bit) & 1 == 1 ? CAROL : BUYER;
    }

    function _assertEscrow(uint256 auctionId) internal view {
        (,, NestMarketplace.AuctionStatus status,,,,,,, uint256 highestBid) = market.auctions(auctionId);
        uint256 held = status == NestMarketplace.AuctionStatus.Active ? highestBid : 0;
        uint256 pending = market.pendingWithdrawal(BUYER, address(0)) + market.pendingWithdrawal(CAROL, address(0))
            + market.pendingWithdrawal(SELLER, address(0)) + market.pendingWithdrawal(TREASURY, address(0))
            + market.pendingWithdrawal(ROYALTY, address(0));
        assert(market.totalOwed(address(0)) == held + pending);
        assert(address(market).balance == held + pending);
    }

    /// @notice (b) Auction escrow: after a symbolic sequence of three bids (each from either bidder, any
    /// amount, accepted or rejected), an optional withdrawal and an optional settlement, the marketplace
    /// holds exactly what it owes: the open auction's highest bid plus every pending refund.
    function check_auctionEscrowEqualsOwed(
        uint256 reserve,
        uint256 bid1,
        uint256 bid2,
        uint256 bid3,
        uint8 choices, // bits 0-2: bid i comes from Carol (else Bob); bit 3: Bob withdraws; bit 4: settle
        uint16 feeBps,
        uint96 royaltyBps
    ) public {
        vm.assume(reserve <= MAX_PRICE && bid1 <= MAX_PRICE && bid2 <= MAX_PRICE && bid3 <= MAX_PRICE);
        _setTerms(feeBps, royaltyBps);

        vm.prank(SELLER);
        uint256 auctionId = market.createAuction(address(nft), TOKEN_ID, address(0), reserve, 1 days);

        _tryBid(auctionId, _bidder(choices, 0), bid1);
        _assertEscrow(auctionId);
        _tryBid(auctionId, _bidder(choices, 1), bid2);
        _assertEscrow(auctionId);
        _tryBid(auctionId, _bidder(choices, 2), bid3);
        _assertEscrow(auctionId);

        if (choices & 8 != 0 && market.pendingWithdrawal(BUYER, address(0)) > 0) {
            vm.prank(BUYER);
            market.withdraw(address(0));
            _assertEscrow(auctionId);
        }

        if (choices & 16 != 0) {
            vm.warp(block.timestamp + 1 days);
            market.settleAuction(auctionId);
            _assertEscrow(auctionId);
        }
    }
}
