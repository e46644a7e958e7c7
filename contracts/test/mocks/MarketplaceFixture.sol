// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {NestTest} from "../utils/NestTest.sol";
import {NestMarketplace} from "../../src/NestMarketplace.sol";
import {NestForwarder} from "../../src/NestForwarder.sol";
import {MockERC20} from "./MockERC20.sol";
import {MockERC721, MockERC721Royalty} from "./MockERC721.sol";

/// @notice Shared deployment for the marketplace test suites: a marketplace (2.5% fee) trusting a
/// NestForwarder, an allow-listed ERC-20, a royalty collection (5% to `royaltyReceiver`) and a plain one.
abstract contract MarketplaceFixture is NestTest {
    uint16 internal constant FEE_BPS = 250;
    uint96 internal constant ROYALTY_BPS = 500;
    uint256 internal constant BPS = 10_000;

    address internal admin = makeAddr("admin");
    address internal guardian = makeAddr("guardian");
    address internal treasury = makeAddr("treasury");
    address internal royaltyReceiver = makeAddr("royaltyReceiver");
    address internal alice = makeAddr("alice"); // seller
    address internal bob = makeAddr("bob"); // buyer / bidder
    address internal carol = makeAddr("carol"); // bidder
    address internal stranger = makeAddr("stranger");

    NestForwarder internal forwarder;
    NestMarketplace internal market;
    MockERC20 internal token;
    MockERC721Royalty internal nft;
    MockERC721 internal plainNft;

    uint256 internal nextTokenId = 1;

    function setUp() public virtual {
        forwarder = new NestForwarder();
        market = new NestMarketplace(admin, guardian, address(forwarder), treasury, FEE_BPS);
        token = new MockERC20("Wrapped Ether", "WETH");
        nft = new MockERC721Royalty("Nest Test", "NTST");
        plainNft = new MockERC721("Plain", "PLN");
        nft.setDefaultRoyalty(royaltyReceiver, ROYALTY_BPS);

        vm.prank(admin);
        market.setPaymentToken(address(token), true);

        address[3] memory users = [alice, bob, carol];
        for (uint256 i = 0; i < users.length; i++) {
            vm.deal(users[i], 1_000 ether);
            token.mint(users[i], 1_000_000 ether);
            vm.prank(users[i]);
            token.approve(address(market), type(uint256).max);
        }
    }

    /// @dev Mints a royalty-collection token to `owner` and approves the marketplace for all.
    function _mint(address owner) internal returns (uint256 tokenId) {
        tokenId = nextTokenId++;
        nft.mint(owner, tokenId);
        vm.prank(owner);
        nft.setApprovalForAll(address(market), true);
    }

    function _list(address seller, address paymentToken, uint256 price)
        internal
        returns (uint256 listingId, uint256 id)
    {
        id = _mint(seller);
        vm.prank(seller);
        listingId = market.createListing(address(nft), id, paymentToken, price, 0);
    }

    function _auction(address seller, address paymentToken, uint256 reserve, uint64 duration)
        internal
        returns (uint256 auctionId, uint256 id)
    {
        id = _mint(seller);
        vm.prank(seller);
        auctionId = market.createAuction(address(nft), id, paymentToken, reserve, duration);
    }

    function _bidETH(address bidder, uint256 auctionId, uint256 amount) internal {
        vm.prank(bidder);
        market.bid{value: amount}(auctionId, amount);
    }

    function _fee(uint256 price) internal view returns (uint256) {
        return (price * market.feeBps()) / BPS;
    }

    function _royalty(uint256 price) internal pure returns (uint256) {
        return (price * ROYALTY_BPS) / BPS;
    }

    /// @dev The marketplace holds exactly what it owes, in ETH and in the test ERC-20.
    function _assertSolvent() internal view {
        assertEq(address(market).balance, market.totalOwed(address(0)), "ETH balance != totalOwed");
        assertEq(token.balanceOf(address(market)), market.totalOwed(address(token)), "ERC-20 balance != totalOwed");
    }

    // Struct getters flattened (fields in declaration order).

    function _listing(uint256 id)
        internal
        view
        returns (
            address seller,
            uint64 expiresAt,
            NestMarketplace.ListingStatus status,
            address nftAddr,
            uint256 tokenId,
            address paymentToken,
            uint256 price
        )
    {
        return market.listings(id);
    }

    function _listingStatus(uint256 id) internal view returns (NestMarketplace.ListingStatus status) {
        (,, status,,,,) = market.listings(id);
    }

    function _listingPrice(uint256 id) internal view returns (uint256 price) {
        (,,,,,, price) = market.listings(id);
    }

    function _auctionStatus(uint256 id) internal view returns (NestMarketplace.AuctionStatus status) {
        (,, status,,,,,,,) = market.auctions(id);
    }

    function _auctionEnd(uint256 id) internal view returns (uint64 endTime) {
        (,,,, endTime,,,,,) = market.auctions(id);
    }

    function _highest(uint256 id) internal view returns (address bidder, uint256 amount) {
        (,,,,,,,, bidder, amount) = market.auctions(id);
    }

    function _offerStatus(uint256 id) internal view returns (NestMarketplace.OfferStatus status) {
        (,, status,,,,) = market.offers(id);
    }
}
