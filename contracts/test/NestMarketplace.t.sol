// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketplaceFixture} from "./mocks/MarketplaceFixture.sol";
import {NestMarketplace} from "../src/NestMarketplace.sol";
import {MockERC20, MockFeeOnTransferERC20} from "./mocks/MockERC20.sol";
import {MockERC721} from "./mocks/MockERC721.sol";
import {ETHRejecter} from "./mocks/ETHRejecter.sol";
import {ReentrancyAttacker} from "./mocks/ReentrancyAttacker.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

contract NestMarketplaceTest is MarketplaceFixture {
    // ================================================================== constructor & admin

    function test_constructor_initialState() public view {
        assertTrue(market.hasRole(market.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(market.hasRole(market.GUARDIAN_ROLE(), guardian));
        assertFalse(market.hasRole(market.DEFAULT_ADMIN_ROLE(), guardian));
        assertEq(market.GUARDIAN_ROLE(), keccak256("GUARDIAN_ROLE"));
        assertEq(market.feeBps(), FEE_BPS);
        assertEq(market.treasury(), treasury);
        assertEq(market.MAX_FEE_BPS(), 1000);
        assertEq(market.MAX_ROYALTY_BPS(), 1000);
        assertEq(market.BPS(), 10_000);
        (uint16 inc, uint32 window, uint32 ext) = market.auctionConfig();
        assertEq(inc, 500);
        assertEq(window, 600);
        assertEq(ext, 600);
        assertEq(market.nextListingId(), 1);
        assertEq(market.nextAuctionId(), 1);
        assertEq(market.nextOfferId(), 1);
        assertTrue(market.isPaymentTokenAllowed(address(0)));
        assertTrue(market.isPaymentTokenAllowed(address(token)));
        assertFalse(market.isPaymentTokenAllowed(address(nft)));
        assertTrue(market.isTrustedForwarder(address(forwarder)));
        assertFalse(market.paused());
    }

    function test_constructor_revertsOnZeroAdmin() public {
        vm.expectRevert(NestMarketplace.ZeroAddress.selector);
        new NestMarketplace(address(0), guardian, address(forwarder), treasury, FEE_BPS);
    }

    function test_constructor_revertsOnZeroTreasury() public {
        vm.expectRevert(NestMarketplace.ZeroAddress.selector);
        new NestMarketplace(admin, guardian, address(forwarder), address(0), FEE_BPS);
    }

    function test_constructor_revertsOnFeeTooHigh() public {
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.FeeTooHigh.selector, uint16(1001), uint16(1000)));
        new NestMarketplace(admin, guardian, address(forwarder), treasury, 1001);
    }

    function test_constructor_zeroGuardianIsSkipped() public {
        NestMarketplace m = new NestMarketplace(admin, address(0), address(0), treasury, 0);
        assertFalse(m.hasRole(m.GUARDIAN_ROLE(), address(0)));
        assertEq(m.trustedForwarder(), address(0));
    }

    function test_setFeeBps() public {
        vm.expectEmit(address(market));
        emit NestMarketplace.FeeUpdated(FEE_BPS, 1000);
        vm.prank(admin);
        market.setFeeBps(1000);
        assertEq(market.feeBps(), 1000);
    }

    function test_setFeeBps_revertsAboveMax() public {
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.FeeTooHigh.selector, uint16(1001), uint16(1000)));
        vm.prank(admin);
        market.setFeeBps(1001);
    }

    function test_setFeeBps_revertsForGuardian() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, market.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(guardian);
        market.setFeeBps(100);
    }

    function test_setTreasury() public {
        vm.expectEmit(address(market));
        emit NestMarketplace.TreasuryUpdated(treasury, stranger);
        vm.prank(admin);
        market.setTreasury(stranger);
        assertEq(market.treasury(), stranger);
    }

    function test_setTreasury_revertsOnZero() public {
        vm.expectRevert(NestMarketplace.ZeroAddress.selector);
        vm.prank(admin);
        market.setTreasury(address(0));
    }

    function test_setTreasury_revertsForNonAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, market.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(stranger);
        market.setTreasury(stranger);
    }

    function test_setPaymentToken() public {
        MockERC20 usdc = new MockERC20("USD Coin", "USDC");
        vm.expectEmit(true, false, false, true, address(market));
        emit NestMarketplace.PaymentTokenUpdated(address(usdc), true);
        vm.prank(admin);
        market.setPaymentToken(address(usdc), true);
        assertTrue(market.isPaymentTokenAllowed(address(usdc)));

        vm.expectEmit(true, false, false, true, address(market));
        emit NestMarketplace.PaymentTokenUpdated(address(usdc), false);
        vm.prank(admin);
        market.setPaymentToken(address(usdc), false);
        assertFalse(market.isPaymentTokenAllowed(address(usdc)));
    }

    function test_setPaymentToken_revertsOnZeroOrNonContract() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.InvalidPaymentToken.selector, address(0)));
        market.setPaymentToken(address(0), true);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.InvalidPaymentToken.selector, stranger));
        market.setPaymentToken(stranger, true);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.InvalidPaymentToken.selector, address(0)));
        market.setPaymentToken(address(0), false);
        // A token without code (e.g. destroyed) can still be removed.
        market.setPaymentToken(stranger, false);
        vm.stopPrank();
    }

    function test_setPaymentToken_revertsForGuardian() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, market.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(guardian);
        market.setPaymentToken(address(token), false);
    }

    function test_setAuctionConfig() public {
        vm.expectEmit(address(market));
        emit NestMarketplace.AuctionConfigUpdated(1000, 300, 900);
        vm.prank(admin);
        market.setAuctionConfig(1000, 300, 900);
        (uint16 inc, uint32 window, uint32 ext) = market.auctionConfig();
        assertEq(inc, 1000);
        assertEq(window, 300);
        assertEq(ext, 900);
    }

    function test_setAuctionConfig_revertsOutOfRange() public {
        vm.startPrank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(
                NestMarketplace.InvalidAuctionConfig.selector, uint16(10_001), uint32(600), uint32(600)
            )
        );
        market.setAuctionConfig(10_001, 600, 600);
        vm.expectRevert(
            abi.encodeWithSelector(
                NestMarketplace.InvalidAuctionConfig.selector, uint16(500), uint32(1 days + 1), uint32(600)
            )
        );
        market.setAuctionConfig(500, 1 days + 1, 600);
        vm.expectRevert(
            abi.encodeWithSelector(
                NestMarketplace.InvalidAuctionConfig.selector, uint16(500), uint32(600), uint32(1 days + 1)
            )
        );
        market.setAuctionConfig(500, 600, 1 days + 1);
        vm.stopPrank();
    }

    function test_setAuctionConfig_revertsForNonAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, market.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(guardian);
        market.setAuctionConfig(0, 0, 0);
    }

    // ================================================================== pause

    function test_pause_byGuardian_unpause_byAdmin() public {
        vm.expectEmit(address(market));
        emit Pausable.Paused(guardian);
        vm.prank(guardian);
        market.pause();
        assertTrue(market.paused());

        vm.expectEmit(address(market));
        emit Pausable.Unpaused(admin);
        vm.prank(admin);
        market.unpause();
        assertFalse(market.paused());
    }

    function test_pause_byAdmin() public {
        vm.prank(admin);
        market.pause();
        assertTrue(market.paused());
    }

    function test_pause_revertsForStranger() public {
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.UnauthorizedPauser.selector, stranger));
        vm.prank(stranger);
        market.pause();
    }

    function test_guardianCannotUnpause() public {
        vm.prank(guardian);
        market.pause();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, market.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(guardian);
        market.unpause();
        assertTrue(market.paused());
    }

    function test_paused_blocksNewActivity() public {
        (uint256 listingId, uint256 listedId) = _list(alice, address(0), 1 ether);
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        uint256 freeId = _mint(alice);
        vm.prank(bob);
        uint256 offerId = market.makeOffer(address(nft), listedId, address(token), 1 ether, 0);

        vm.prank(guardian);
        market.pause();

        vm.startPrank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.createListing(address(nft), freeId, address(0), 1 ether, 0);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.updateListingPrice(listingId, 2 ether);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.createAuction(address(nft), freeId, address(0), 1 ether, 1 days);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.acceptOffer(offerId);
        vm.stopPrank();

        vm.startPrank(bob);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.buy{value: 1 ether}(listingId, 1 ether);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.bid{value: 1 ether}(auctionId, 1 ether);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.makeOffer(address(nft), freeId, address(token), 1 ether, 0);
        vm.stopPrank();
    }

    function test_paused_allowsCancelsSettlesAndWithdrawals() public {
        (uint256 listingId,) = _list(alice, address(0), 1 ether);
        (uint256 emptyAuction, uint256 emptyId) = _auction(alice, address(0), 1 ether, 1 days);
        (uint256 auctionId, uint256 auctionTokenId) = _auction(alice, address(0), 1 ether, 1 days);
        _bidETH(bob, auctionId, 1 ether);
        _bidETH(carol, auctionId, 2 ether);
        vm.prank(bob);
        uint256 offerId = market.makeOffer(address(nft), auctionTokenId, address(token), 1 ether, 0);

        vm.prank(guardian);
        market.pause();

        vm.prank(alice);
        market.cancelListing(listingId);
        vm.prank(alice);
        market.cancelAuction(emptyAuction);
        assertEq(nft.ownerOf(emptyId), alice);
        vm.prank(bob);
        market.cancelOffer(offerId);

        uint256 bobBefore = bob.balance;
        vm.prank(bob);
        market.withdraw(address(0));
        assertEq(bob.balance, bobBefore + 1 ether);

        vm.warp(block.timestamp + 1 days);
        vm.prank(stranger);
        market.settleAuction(auctionId);
        assertEq(nft.ownerOf(auctionTokenId), carol);
        _assertSolvent();
    }

    // ================================================================== listings: create / update / cancel

    function test_createListing_storesAndEmits() public {
        uint256 id = _mint(alice);
        uint64 expiresAt = uint64(block.timestamp + 7 days);
        vm.expectEmit(address(market));
        emit NestMarketplace.ListingCreated(1, alice, address(nft), id, address(0), 1 ether, expiresAt);
        vm.prank(alice);
        uint256 listingId = market.createListing(address(nft), id, address(0), 1 ether, expiresAt);

        assertEq(listingId, 1);
        assertEq(market.nextListingId(), 2);
        (
            address seller,
            uint64 exp,
            NestMarketplace.ListingStatus status,
            address nftAddr,
            uint256 tokenId,
            address paymentToken,
            uint256 price
        ) = _listing(listingId);
        assertEq(seller, alice);
        assertEq(uint256(exp), uint256(expiresAt));
        assertEq(uint256(status), uint256(NestMarketplace.ListingStatus.Active));
        assertEq(nftAddr, address(nft));
        assertEq(tokenId, id);
        assertEq(paymentToken, address(0));
        assertEq(price, 1 ether);
        assertEq(nft.ownerOf(id), alice, "listing is non-custodial");
    }

    function test_createListing_withSingleTokenApproval() public {
        nft.mint(alice, 99);
        vm.startPrank(alice);
        nft.approve(address(market), 99);
        uint256 listingId = market.createListing(address(nft), 99, address(token), 5 ether, 0);
        vm.stopPrank();
        assertEq(listingId, 1);
    }

    function test_createListing_revertsOnDisallowedToken() public {
        uint256 id = _mint(alice);
        MockERC20 other = new MockERC20("Other", "OTH");
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.PaymentTokenNotAllowed.selector, address(other)));
        vm.prank(alice);
        market.createListing(address(nft), id, address(other), 1 ether, 0);
    }

    function test_createListing_revertsOnZeroPrice() public {
        uint256 id = _mint(alice);
        vm.expectRevert(NestMarketplace.ZeroAmount.selector);
        vm.prank(alice);
        market.createListing(address(nft), id, address(0), 0, 0);
    }

    function test_createListing_revertsOnPastExpiry() public {
        uint256 id = _mint(alice);
        vm.warp(1000);
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.InvalidExpiry.selector, uint64(1000)));
        market.createListing(address(nft), id, address(0), 1 ether, 1000);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.InvalidExpiry.selector, uint64(999)));
        market.createListing(address(nft), id, address(0), 1 ether, 999);
        vm.stopPrank();
    }

    function test_createListing_revertsOnNonERC721() public {
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NotERC721.selector, address(token)));
        vm.prank(alice);
        market.createListing(address(token), 1, address(0), 1 ether, 0);

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NotERC721.selector, stranger));
        vm.prank(alice);
        market.createListing(stranger, 1, address(0), 1 ether, 0);
    }

    function test_createListing_revertsWhenNotOwner() public {
        uint256 id = _mint(alice);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NotTokenOwner.selector, address(nft), id, bob));
        vm.prank(bob);
        market.createListing(address(nft), id, address(0), 1 ether, 0);

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NotTokenOwner.selector, address(nft), 12345, bob));
        vm.prank(bob);
        market.createListing(address(nft), 12345, address(0), 1 ether, 0);
    }

    function test_createListing_revertsWhenNotApproved() public {
        nft.mint(alice, 77);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.MarketplaceNotApproved.selector, address(nft), 77));
        vm.prank(alice);
        market.createListing(address(nft), 77, address(0), 1 ether, 0);
    }

    function test_updateListingPrice() public {
        (uint256 listingId,) = _list(alice, address(0), 1 ether);
        vm.expectEmit(address(market));
        emit NestMarketplace.ListingPriceUpdated(listingId, 1 ether, 3 ether);
        vm.prank(alice);
        market.updateListingPrice(listingId, 3 ether);
        assertEq(_listingPrice(listingId), 3 ether);
    }

    function test_updateListingPrice_reverts() public {
        vm.warp(1000);
        uint256 id = _mint(alice);
        vm.prank(alice);
        uint256 listingId = market.createListing(address(nft), id, address(0), 1 ether, 2000);

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NotListingSeller.selector, listingId, bob));
        vm.prank(bob);
        market.updateListingPrice(listingId, 2 ether);

        vm.expectRevert(NestMarketplace.ZeroAmount.selector);
        vm.prank(alice);
        market.updateListingPrice(listingId, 0);

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.ListingNotActive.selector, 42));
        vm.prank(alice);
        market.updateListingPrice(42, 2 ether);

        vm.warp(2001);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.ListingExpired.selector, listingId, uint64(2000)));
        vm.prank(alice);
        market.updateListingPrice(listingId, 2 ether);
    }

    function test_cancelListing() public {
        (uint256 listingId,) = _list(alice, address(0), 1 ether);
        vm.expectEmit(address(market));
        emit NestMarketplace.ListingCancelled(listingId);
        vm.prank(alice);
        market.cancelListing(listingId);
        assertEq(uint256(_listingStatus(listingId)), uint256(NestMarketplace.ListingStatus.Cancelled));

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.ListingNotActive.selector, listingId));
        vm.prank(alice);
        market.cancelListing(listingId);

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.ListingNotActive.selector, listingId));
        vm.prank(bob);
        market.buy{value: 1 ether}(listingId, 1 ether);
    }

    function test_cancelListing_revertsForNonSeller() public {
        (uint256 listingId,) = _list(alice, address(0), 1 ether);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NotListingSeller.selector, listingId, bob));
        vm.prank(bob);
        market.cancelListing(listingId);
    }

    function test_cancelListing_afterExpiry() public {
        uint256 id = _mint(alice);
        vm.prank(alice);
        uint256 listingId = market.createListing(address(nft), id, address(0), 1 ether, uint64(block.timestamp + 10));
        vm.warp(block.timestamp + 100);
        vm.prank(alice);
        market.cancelListing(listingId);
        assertEq(uint256(_listingStatus(listingId)), uint256(NestMarketplace.ListingStatus.Cancelled));
    }

    // ================================================================== listings: buy

    function test_buy_ETH_paysExactSplit() public {
        uint256 price = 10 ether;
        (uint256 listingId, uint256 id) = _list(alice, address(0), price);
        uint256 fee = _fee(price); // 0.25 ether
        uint256 royalty = _royalty(price); // 0.5 ether
        uint256 aliceBefore = alice.balance;
        uint256 bobBefore = bob.balance;

        vm.expectEmit(address(market));
        emit NestMarketplace.ListingSold(listingId, bob, price);
        vm.expectEmit(address(market));
        emit NestMarketplace.Sale(
            0, listingId, address(nft), id, alice, bob, address(0), price, fee, royaltyReceiver, royalty
        );
        vm.prank(bob);
        market.buy{value: price}(listingId, price);

        assertEq(nft.ownerOf(id), bob);
        assertEq(alice.balance, aliceBefore + price - fee - royalty);
        assertEq(treasury.balance, fee);
        assertEq(royaltyReceiver.balance, royalty);
        assertEq(bob.balance, bobBefore - price);
        assertEq(address(market).balance, 0);
        assertEq(uint256(_listingStatus(listingId)), uint256(NestMarketplace.ListingStatus.Sold));
        _assertSolvent();

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.ListingNotActive.selector, listingId));
        vm.prank(carol);
        market.buy{value: price}(listingId, price);
    }

    function test_buy_ERC20_paysDirectlyFromBuyer() public {
        uint256 price = 1_000 ether;
        (uint256 listingId, uint256 id) = _list(alice, address(token), price);
        uint256 aliceBefore = token.balanceOf(alice);
        uint256 bobBefore = token.balanceOf(bob);

        vm.prank(bob);
        market.buy(listingId, price);

        assertEq(nft.ownerOf(id), bob);
        assertEq(token.balanceOf(alice), aliceBefore + price - _fee(price) - _royalty(price));
        assertEq(token.balanceOf(treasury), _fee(price));
        assertEq(token.balanceOf(royaltyReceiver), _royalty(price));
        assertEq(token.balanceOf(bob), bobBefore - price);
        assertEq(token.balanceOf(address(market)), 0);
        _assertSolvent();
    }

    function test_buy_withoutRoyaltySupport() public {
        plainNft.mint(alice, 1);
        vm.startPrank(alice);
        plainNft.setApprovalForAll(address(market), true);
        uint256 listingId = market.createListing(address(plainNft), 1, address(0), 1 ether, 0);
        vm.stopPrank();

        uint256 aliceBefore = alice.balance;
        vm.expectEmit(address(market));
        emit NestMarketplace.Sale(
            0, listingId, address(plainNft), 1, alice, bob, address(0), 1 ether, _fee(1 ether), address(0), 0
        );
        vm.prank(bob);
        market.buy{value: 1 ether}(listingId, 1 ether);
        assertEq(alice.balance, aliceBefore + 1 ether - _fee(1 ether));
        assertEq(plainNft.ownerOf(1), bob);
    }

    function test_buy_royaltyIsCappedAtMax() public {
        (uint256 listingId, uint256 id) = _list(alice, address(0), 10 ether);
        nft.setTokenRoyalty(id, royaltyReceiver, 5000); // 50%: capped to 10%
        vm.expectEmit(address(market));
        emit NestMarketplace.Sale(
            0, listingId, address(nft), id, alice, bob, address(0), 10 ether, _fee(10 ether), royaltyReceiver, 1 ether
        );
        vm.prank(bob);
        market.buy{value: 10 ether}(listingId, 10 ether);
        assertEq(royaltyReceiver.balance, 1 ether);
        assertEq(alice.balance, 1_000 ether + 10 ether - 1 ether - _fee(10 ether));
    }

    function test_buy_failingRoyaltyQueryPaysNoRoyalty() public {
        (uint256 listingId,) = _list(alice, address(0), 1 ether);
        nft.setRoyaltyReverts(true);
        vm.prank(bob);
        market.buy{value: 1 ether}(listingId, 1 ether);
        assertEq(royaltyReceiver.balance, 0);
        assertEq(alice.balance, 1_000 ether + 1 ether - _fee(1 ether));
    }

    function test_buy_zeroFee() public {
        vm.prank(admin);
        market.setFeeBps(0);
        (uint256 listingId,) = _list(alice, address(0), 1 ether);
        vm.prank(bob);
        market.buy{value: 1 ether}(listingId, 1 ether);
        assertEq(treasury.balance, 0);
        assertEq(alice.balance, 1_000 ether + 1 ether - _royalty(1 ether));
    }

    function test_buy_revertsOnPriceMismatch() public {
        (uint256 listingId,) = _list(alice, address(0), 1 ether);
        vm.prank(alice);
        market.updateListingPrice(listingId, 2 ether); // front-run
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.PriceMismatch.selector, 1 ether, 2 ether));
        vm.prank(bob);
        market.buy{value: 1 ether}(listingId, 1 ether);
    }

    function test_buy_revertsOnWrongValue() public {
        (uint256 listingId,) = _list(alice, address(0), 1 ether);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.InvalidPaymentValue.selector, 1 ether, 0.5 ether));
        vm.prank(bob);
        market.buy{value: 0.5 ether}(listingId, 1 ether);

        (uint256 erc20Listing,) = _list(alice, address(token), 1 ether);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.InvalidPaymentValue.selector, 0, 1 ether));
        vm.prank(bob);
        market.buy{value: 1 ether}(erc20Listing, 1 ether);
    }

    function test_buy_revertsWhenExpired() public {
        vm.warp(1000);
        uint256 id = _mint(alice);
        vm.prank(alice);
        uint256 listingId = market.createListing(address(nft), id, address(0), 1 ether, 2000);

        vm.warp(2000); // still valid at the expiry second
        uint256 snap = vm.snapshotState();
        vm.prank(bob);
        market.buy{value: 1 ether}(listingId, 1 ether);
        vm.revertToState(snap);

        vm.warp(2001);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.ListingExpired.selector, listingId, uint64(2000)));
        vm.prank(bob);
        market.buy{value: 1 ether}(listingId, 1 ether);
    }

    function test_buy_revertsOnStaleListing_sellerTransferredToken() public {
        (uint256 listingId, uint256 id) = _list(alice, address(0), 1 ether);
        vm.prank(alice);
        nft.transferFrom(alice, carol, id);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.StaleListing.selector, listingId, carol));
        vm.prank(bob);
        market.buy{value: 1 ether}(listingId, 1 ether);
    }

    function test_buy_revertsOnStaleListing_tokenBurned() public {
        (uint256 listingId, uint256 id) = _list(alice, address(0), 1 ether);
        nft.burn(id);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.StaleListing.selector, listingId, address(0)));
        vm.prank(bob);
        market.buy{value: 1 ether}(listingId, 1 ether);
    }

    function test_buy_revertsWhenApprovalRevoked() public {
        (uint256 listingId, uint256 id) = _list(alice, address(0), 1 ether);
        vm.prank(alice);
        nft.setApprovalForAll(address(market), false);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.MarketplaceNotApproved.selector, address(nft), id));
        vm.prank(bob);
        market.buy{value: 1 ether}(listingId, 1 ether);
    }

    function test_buy_revertsOnSelfTrade() public {
        (uint256 listingId,) = _list(alice, address(0), 1 ether);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.SelfTrade.selector, alice));
        vm.prank(alice);
        market.buy{value: 1 ether}(listingId, 1 ether);
    }

    function test_buy_revertsWhenTokenDelisted() public {
        (uint256 listingId,) = _list(alice, address(token), 1 ether);
        vm.prank(admin);
        market.setPaymentToken(address(token), false);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.PaymentTokenNotAllowed.selector, address(token)));
        vm.prank(bob);
        market.buy(listingId, 1 ether);
    }

    function test_buy_revertsOnNonexistentListing() public {
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.ListingNotActive.selector, 7));
        vm.prank(bob);
        market.buy{value: 1 ether}(7, 1 ether);
    }

    function test_buy_ethRejectingSellerIsCredited() public {
        ETHRejecter seller = new ETHRejecter();
        uint256 id = _mint(address(seller));
        seller.exec(address(nft), abi.encodeCall(nft.setApprovalForAll, (address(market), true)));
        bytes memory ret = seller.exec(
            address(market), abi.encodeCall(market.createListing, (address(nft), id, address(0), 2 ether, 0))
        );
        uint256 listingId = abi.decode(ret, (uint256));

        uint256 proceeds = 2 ether - _fee(2 ether) - _royalty(2 ether);
        vm.expectEmit(address(market));
        emit NestMarketplace.PaymentCredited(address(seller), address(0), proceeds);
        vm.prank(bob);
        market.buy{value: 2 ether}(listingId, 2 ether);

        assertEq(nft.ownerOf(id), bob, "sale went through");
        assertEq(treasury.balance, _fee(2 ether));
        assertEq(royaltyReceiver.balance, _royalty(2 ether));
        assertEq(market.pendingWithdrawal(address(seller), address(0)), proceeds);
        assertEq(market.totalOwed(address(0)), proceeds);
        _assertSolvent();

        // Still rejecting: the withdrawal fails and the credit stays.
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.EthTransferFailed.selector, address(seller), proceeds));
        seller.exec(address(market), abi.encodeCall(market.withdraw, (address(0))));

        seller.setAcceptETH(true);
        vm.expectEmit(address(market));
        emit NestMarketplace.Withdrawn(address(seller), address(0), proceeds);
        seller.exec(address(market), abi.encodeCall(market.withdraw, (address(0))));
        assertEq(address(seller).balance, proceeds);
        assertEq(market.pendingWithdrawal(address(seller), address(0)), 0);
        assertEq(market.totalOwed(address(0)), 0);
        _assertSolvent();
    }

    function test_buy_ethRejectingRoyaltyReceiverAndTreasuryAreCredited() public {
        ETHRejecter rejecter = new ETHRejecter();
        vm.prank(admin);
        market.setTreasury(address(rejecter));
        (uint256 listingId, uint256 id) = _list(alice, address(0), 4 ether);
        nft.setTokenRoyalty(id, address(rejecter), 1000);

        vm.prank(bob);
        market.buy{value: 4 ether}(listingId, 4 ether);
        assertEq(market.pendingWithdrawal(address(rejecter), address(0)), _fee(4 ether) + 0.4 ether);
        assertEq(alice.balance, 1_000 ether + 4 ether - _fee(4 ether) - 0.4 ether);
        _assertSolvent();
    }

    // ================================================================== reentrancy

    function test_reentrancy_buyerReenteringOnReceiptFails() public {
        ReentrancyAttacker attacker = new ReentrancyAttacker(address(market));
        vm.deal(address(attacker), 10 ether);
        (uint256 first, uint256 firstId) = _list(alice, address(0), 1 ether);
        (uint256 second, uint256 secondId) = _list(alice, address(0), 1 ether);

        attacker.arm(abi.encodeCall(market.buy, (second, 1 ether)));
        attacker.exec{value: 1 ether}(address(market), abi.encodeCall(market.buy, (first, 1 ether)));

        assertEq(attacker.attempts(), 1);
        assertFalse(attacker.reentered());
        assertEq(attacker.lastRevertSelector(), ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        assertEq(nft.ownerOf(firstId), address(attacker));
        assertEq(nft.ownerOf(secondId), alice);
        _assertSolvent();
    }

    function test_reentrancy_withdrawReentryFails() public {
        ReentrancyAttacker attacker = new ReentrancyAttacker(address(market));
        vm.deal(address(attacker), 10 ether);
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        attacker.exec{value: 1 ether}(address(market), abi.encodeCall(market.bid, (auctionId, 1 ether)));
        _bidETH(bob, auctionId, 2 ether);
        assertEq(market.pendingWithdrawal(address(attacker), address(0)), 1 ether);

        attacker.arm(abi.encodeCall(market.withdraw, (address(0))));
        attacker.exec(address(market), abi.encodeCall(market.withdraw, (address(0))));

        assertEq(attacker.attempts(), 1);
        assertFalse(attacker.reentered());
        assertEq(attacker.lastRevertSelector(), ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        // The bid's ETH came from this test (forwarded by exec): the attacker gains exactly one refund.
        assertEq(address(attacker).balance, 11 ether, "refunded exactly once");
        assertEq(market.pendingWithdrawal(address(attacker), address(0)), 0);
        _assertSolvent();
    }

    function test_reentrancy_sellerPayoutCannotReenter() public {
        ReentrancyAttacker attacker = new ReentrancyAttacker(address(market));
        uint256 id = _mint(address(attacker));
        attacker.exec(address(nft), abi.encodeCall(nft.setApprovalForAll, (address(market), true)));
        bytes memory ret = attacker.exec(
            address(market), abi.encodeCall(market.createListing, (address(nft), id, address(0), 1 ether, 0))
        );
        uint256 listingId = abi.decode(ret, (uint256));
        (uint256 other,) = _list(alice, address(0), 1 ether);

        attacker.arm(abi.encodeCall(market.buy, (other, 1 ether)));
        vm.prank(bob);
        market.buy{value: 1 ether}(listingId, 1 ether);

        assertFalse(attacker.reentered());
        assertEq(nft.ownerOf(id), bob);
        // Paid directly, or credited when the re-entry attempt exhausted the payout gas.
        uint256 proceeds = 1 ether - _fee(1 ether) - _royalty(1 ether);
        assertEq(address(attacker).balance + market.pendingWithdrawal(address(attacker), address(0)), proceeds);
        _assertSolvent();
    }

    // ================================================================== auctions: create

    function test_createAuction_escrowsAndEmits() public {
        uint256 id = _mint(alice);
        vm.warp(1_000_000);
        vm.expectEmit(address(market));
        emit NestMarketplace.AuctionCreated(
            1, alice, address(nft), id, address(0), 1 ether, uint64(1_000_000), uint64(1_000_000 + 1 days)
        );
        vm.prank(alice);
        uint256 auctionId = market.createAuction(address(nft), id, address(0), 1 ether, 1 days);

        assertEq(auctionId, 1);
        assertEq(market.nextAuctionId(), 2);
        assertEq(nft.ownerOf(id), address(market));
        (
            address seller,
            uint64 startTime,
            NestMarketplace.AuctionStatus status,
            address nftAddr,
            uint64 endTime,
            uint256 tokenId,
            address paymentToken,
            uint256 reservePrice,
            address highestBidder,
            uint256 highestBid
        ) = market.auctions(auctionId);
        assertEq(seller, alice);
        assertEq(uint256(startTime), 1_000_000);
        assertEq(uint256(status), uint256(NestMarketplace.AuctionStatus.Active));
        assertEq(nftAddr, address(nft));
        assertEq(uint256(endTime), 1_000_000 + 1 days);
        assertEq(tokenId, id);
        assertEq(paymentToken, address(0));
        assertEq(reservePrice, 1 ether);
        assertEq(highestBidder, address(0));
        assertEq(highestBid, 0);
    }

    function test_createAuction_reverts() public {
        uint256 id = _mint(alice);
        MockERC20 other = new MockERC20("Other", "OTH");
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.InvalidDuration.selector, uint64(0)));
        market.createAuction(address(nft), id, address(0), 1 ether, 0);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.InvalidDuration.selector, uint64(365 days + 1)));
        market.createAuction(address(nft), id, address(0), 1 ether, 365 days + 1);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.PaymentTokenNotAllowed.selector, address(other)));
        market.createAuction(address(nft), id, address(other), 1 ether, 1 days);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NotERC721.selector, address(token)));
        market.createAuction(address(token), id, address(0), 1 ether, 1 days);
        vm.stopPrank();

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NotTokenOwner.selector, address(nft), id, bob));
        vm.prank(bob);
        market.createAuction(address(nft), id, address(0), 1 ether, 1 days);

        nft.mint(stranger, 500); // stranger never approved the marketplace
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.MarketplaceNotApproved.selector, address(nft), 500));
        vm.prank(stranger);
        market.createAuction(address(nft), 500, address(0), 1 ether, 1 days);
    }

    function test_createAuction_revertsWhenEscrowFails() public {
        MockERC721 broken = new MockERC721("Broken", "BRK");
        broken.mint(alice, 1);
        vm.prank(alice);
        broken.setApprovalForAll(address(market), true);
        broken.setBrokenTransfers(true);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.EscrowFailed.selector, address(broken), 1));
        vm.prank(alice);
        market.createAuction(address(broken), 1, address(0), 1 ether, 1 days);
    }

    // ================================================================== auctions: bid

    function test_bid_firstBidMustReachReserve() public {
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.BidTooLow.selector, 0.9 ether, 1 ether));
        _bidETH(bob, auctionId, 0.9 ether);

        vm.expectEmit(address(market));
        emit NestMarketplace.BidPlaced(auctionId, bob, 1 ether, address(0), 0, _auctionEnd(auctionId));
        _bidETH(bob, auctionId, 1 ether);
        (address bidder, uint256 amount) = _highest(auctionId);
        assertEq(bidder, bob);
        assertEq(amount, 1 ether);
        assertEq(market.totalOwed(address(0)), 1 ether);
        _assertSolvent();
    }

    function test_bid_zeroReserveNeedsNonZeroBid() public {
        (uint256 auctionId,) = _auction(alice, address(0), 0, 1 days);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.BidTooLow.selector, 0, 1));
        _bidETH(bob, auctionId, 0);
        _bidETH(bob, auctionId, 1);
        // 5% of 1 wei rounds to 0: the next bid must still be strictly higher.
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.BidTooLow.selector, 1, 2));
        _bidETH(carol, auctionId, 1);
        _bidETH(carol, auctionId, 2);
    }

    function test_bid_incrementEnforcedAndOutbidCredited() public {
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        _bidETH(bob, auctionId, 2 ether);

        // minimum = 2 ether * 1.05
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.BidTooLow.selector, 2.1 ether - 1, 2.1 ether));
        _bidETH(carol, auctionId, 2.1 ether - 1);

        uint64 endTime = _auctionEnd(auctionId);
        vm.expectEmit(address(market));
        emit NestMarketplace.PaymentCredited(bob, address(0), 2 ether);
        vm.expectEmit(address(market));
        emit NestMarketplace.BidPlaced(auctionId, carol, 2.1 ether, bob, 2 ether, endTime);
        _bidETH(carol, auctionId, 2.1 ether);

        assertEq(market.pendingWithdrawal(bob, address(0)), 2 ether);
        assertEq(market.totalOwed(address(0)), 4.1 ether);
        _assertSolvent();

        uint256 bobBefore = bob.balance;
        vm.expectEmit(address(market));
        emit NestMarketplace.Withdrawn(bob, address(0), 2 ether);
        vm.prank(bob);
        market.withdraw(address(0));
        assertEq(bob.balance, bobBefore + 2 ether);
        assertEq(market.totalOwed(address(0)), 2.1 ether);
        _assertSolvent();

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NothingToWithdraw.selector, bob, address(0)));
        vm.prank(bob);
        market.withdraw(address(0));
    }

    function test_bid_customIncrement() public {
        vm.prank(admin);
        market.setAuctionConfig(1000, 600, 600); // 10%
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        _bidETH(bob, auctionId, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.BidTooLow.selector, 1.05 ether, 1.1 ether));
        _bidETH(carol, auctionId, 1.05 ether);
        _bidETH(carol, auctionId, 1.1 ether);
    }

    function test_bid_highestBidderCanRaise() public {
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        _bidETH(bob, auctionId, 1 ether);
        _bidETH(bob, auctionId, 2 ether);
        assertEq(market.pendingWithdrawal(bob, address(0)), 1 ether);
        (address bidder, uint256 amount) = _highest(auctionId);
        assertEq(bidder, bob);
        assertEq(amount, 2 ether);
        _assertSolvent();
    }

    function test_bid_revertsForSeller() public {
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.SelfTrade.selector, alice));
        _bidETH(alice, auctionId, 1 ether);
    }

    function test_bid_revertsOnWrongValue() public {
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.InvalidPaymentValue.selector, 1 ether, 2 ether));
        vm.prank(bob);
        market.bid{value: 2 ether}(auctionId, 1 ether);

        (uint256 erc20Auction,) = _auction(alice, address(token), 1 ether, 1 days);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.InvalidPaymentValue.selector, 0, 1 ether));
        vm.prank(bob);
        market.bid{value: 1 ether}(erc20Auction, 1 ether);
    }

    function test_bid_revertsAfterEnd() public {
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        uint64 endTime = _auctionEnd(auctionId);
        vm.warp(endTime);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.AuctionAlreadyEnded.selector, auctionId, endTime));
        _bidETH(bob, auctionId, 1 ether);
    }

    function test_bid_revertsOnInactiveAuction() public {
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.AuctionNotActive.selector, 9));
        _bidETH(bob, 9, 1 ether);

        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        vm.prank(alice);
        market.cancelAuction(auctionId);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.AuctionNotActive.selector, auctionId));
        _bidETH(bob, auctionId, 1 ether);
    }

    function test_bid_revertsWhenTokenDelisted() public {
        (uint256 auctionId,) = _auction(alice, address(token), 1 ether, 1 days);
        vm.prank(admin);
        market.setPaymentToken(address(token), false);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.PaymentTokenNotAllowed.selector, address(token)));
        vm.prank(bob);
        market.bid(auctionId, 1 ether);
    }

    function test_bid_ERC20_pullsIntoEscrow() public {
        (uint256 auctionId,) = _auction(alice, address(token), 100 ether, 1 days);
        uint256 bobBefore = token.balanceOf(bob);
        vm.prank(bob);
        market.bid(auctionId, 100 ether);
        assertEq(token.balanceOf(bob), bobBefore - 100 ether);
        assertEq(token.balanceOf(address(market)), 100 ether);
        vm.prank(carol);
        market.bid(auctionId, 200 ether);
        assertEq(market.pendingWithdrawal(bob, address(token)), 100 ether);
        assertEq(market.totalOwed(address(token)), 300 ether);
        _assertSolvent();

        vm.prank(bob);
        market.withdraw(address(token));
        assertEq(token.balanceOf(bob), bobBefore);
        _assertSolvent();
    }

    function test_bid_revertsOnFeeOnTransferToken() public {
        MockFeeOnTransferERC20 feeToken = new MockFeeOnTransferERC20();
        vm.prank(admin);
        market.setPaymentToken(address(feeToken), true);
        feeToken.mint(bob, 100 ether);
        vm.prank(bob);
        feeToken.approve(address(market), type(uint256).max);
        (uint256 auctionId,) = _auction(alice, address(feeToken), 1 ether, 1 days);

        vm.expectRevert(
            abi.encodeWithSelector(
                NestMarketplace.TokenTransferMismatch.selector, address(feeToken), 10 ether, 9.9 ether
            )
        );
        vm.prank(bob);
        market.bid(auctionId, 10 ether);
    }

    // ================================================================== auctions: anti-sniping

    function test_bid_inWindowExtendsAuction() public {
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        uint64 endTime = _auctionEnd(auctionId);

        vm.warp(endTime - 100); // inside the 600 s window
        uint64 expectedEnd = uint64(block.timestamp + 600);
        vm.expectEmit(address(market));
        emit NestMarketplace.BidPlaced(auctionId, bob, 1 ether, address(0), 0, expectedEnd);
        vm.expectEmit(address(market));
        emit NestMarketplace.AuctionExtended(auctionId, expectedEnd);
        _bidETH(bob, auctionId, 1 ether);
        assertEq(uint256(_auctionEnd(auctionId)), uint256(expectedEnd));

        // The old end no longer closes it.
        vm.warp(endTime);
        _bidETH(carol, auctionId, 2 ether);
        assertEq(uint256(_auctionEnd(auctionId)), uint256(endTime + 600));
    }

    function test_bid_outsideWindowDoesNotExtend() public {
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        uint64 endTime = _auctionEnd(auctionId);
        vm.warp(endTime - 600); // exactly the window: not inside it
        vm.recordLogs();
        _bidETH(bob, auctionId, 1 ether);
        assertEq(vm.getRecordedLogs().length, 1, "only BidPlaced");
        assertEq(uint256(_auctionEnd(auctionId)), uint256(endTime));
    }

    function test_bid_extensionNeverShortens() public {
        vm.prank(admin);
        market.setAuctionConfig(500, 3600, 60); // window 1 h, extension 1 min
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        uint64 endTime = _auctionEnd(auctionId);
        vm.warp(endTime - 1800);
        _bidETH(bob, auctionId, 1 ether);
        assertEq(uint256(_auctionEnd(auctionId)), uint256(endTime));
        vm.warp(endTime - 30);
        _bidETH(carol, auctionId, 2 ether);
        assertEq(uint256(_auctionEnd(auctionId)), uint256(endTime + 30));
    }

    function test_bid_antiSnipingDisabled() public {
        vm.prank(admin);
        market.setAuctionConfig(500, 0, 0);
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        uint64 endTime = _auctionEnd(auctionId);
        vm.warp(endTime - 1);
        _bidETH(bob, auctionId, 1 ether);
        assertEq(uint256(_auctionEnd(auctionId)), uint256(endTime));
    }

    // ================================================================== auctions: settle / cancel

    function test_settle_withBids_paysSplitAndTransfersNFT() public {
        (uint256 auctionId, uint256 id) = _auction(alice, address(0), 1 ether, 1 days);
        _bidETH(bob, auctionId, 1 ether);
        _bidETH(carol, auctionId, 4 ether);

        vm.expectRevert(
            abi.encodeWithSelector(NestMarketplace.AuctionNotEnded.selector, auctionId, _auctionEnd(auctionId))
        );
        market.settleAuction(auctionId);

        vm.warp(_auctionEnd(auctionId));
        uint256 aliceBefore = alice.balance;
        vm.expectEmit(address(market));
        emit NestMarketplace.AuctionSettled(auctionId, carol, 4 ether);
        vm.expectEmit(address(market));
        emit NestMarketplace.Sale(
            1,
            auctionId,
            address(nft),
            id,
            alice,
            carol,
            address(0),
            4 ether,
            _fee(4 ether),
            royaltyReceiver,
            _royalty(4 ether)
        );
        vm.prank(stranger);
        market.settleAuction(auctionId);

        assertEq(nft.ownerOf(id), carol);
        assertEq(alice.balance, aliceBefore + 4 ether - _fee(4 ether) - _royalty(4 ether));
        assertEq(treasury.balance, _fee(4 ether));
        assertEq(royaltyReceiver.balance, _royalty(4 ether));
        assertEq(market.totalOwed(address(0)), 1 ether, "bob's refund remains");
        assertEq(uint256(_auctionStatus(auctionId)), uint256(NestMarketplace.AuctionStatus.Settled));
        _assertSolvent();

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.AuctionNotActive.selector, auctionId));
        market.settleAuction(auctionId);
    }

    function test_settle_ERC20_paysFromEscrow() public {
        (uint256 auctionId, uint256 id) = _auction(alice, address(token), 10 ether, 1 hours);
        vm.prank(bob);
        market.bid(auctionId, 10 ether);
        vm.warp(block.timestamp + 1 hours);
        uint256 aliceBefore = token.balanceOf(alice);
        market.settleAuction(auctionId);
        assertEq(nft.ownerOf(id), bob);
        assertEq(token.balanceOf(alice), aliceBefore + 10 ether - _fee(10 ether) - _royalty(10 ether));
        assertEq(token.balanceOf(treasury), _fee(10 ether));
        assertEq(token.balanceOf(royaltyReceiver), _royalty(10 ether));
        assertEq(token.balanceOf(address(market)), 0);
        _assertSolvent();
    }

    function test_settle_ERC20_blockedRecipientIsCredited() public {
        (uint256 auctionId,) = _auction(alice, address(token), 10 ether, 1 hours);
        vm.prank(bob);
        market.bid(auctionId, 10 ether);
        token.setBlocked(alice, true);
        vm.warp(block.timestamp + 1 hours);
        market.settleAuction(auctionId);
        uint256 proceeds = 10 ether - _fee(10 ether) - _royalty(10 ether);
        assertEq(market.pendingWithdrawal(alice, address(token)), proceeds);
        _assertSolvent();

        token.setBlocked(alice, false);
        vm.prank(alice);
        market.withdraw(address(token));
        assertEq(market.totalOwed(address(token)), 0);
        _assertSolvent();
    }

    function test_settle_noBids_returnsNFT() public {
        (uint256 auctionId, uint256 id) = _auction(alice, address(0), 1 ether, 1 days);
        vm.warp(block.timestamp + 1 days);
        vm.expectEmit(address(market));
        emit NestMarketplace.AuctionSettled(auctionId, address(0), 0);
        market.settleAuction(auctionId);
        assertEq(nft.ownerOf(id), alice);
        assertEq(uint256(_auctionStatus(auctionId)), uint256(NestMarketplace.AuctionStatus.Settled));
    }

    function test_settle_ethRejectingSellerIsCredited() public {
        ETHRejecter seller = new ETHRejecter();
        uint256 id = _mint(address(seller));
        seller.exec(address(nft), abi.encodeCall(nft.setApprovalForAll, (address(market), true)));
        bytes memory ret = seller.exec(
            address(market), abi.encodeCall(market.createAuction, (address(nft), id, address(0), 1 ether, 1 days))
        );
        uint256 auctionId = abi.decode(ret, (uint256));
        _bidETH(bob, auctionId, 3 ether);
        vm.warp(block.timestamp + 1 days);
        market.settleAuction(auctionId);
        assertEq(nft.ownerOf(id), bob);
        assertEq(market.pendingWithdrawal(address(seller), address(0)), 3 ether - _fee(3 ether) - _royalty(3 ether));
        _assertSolvent();
    }

    function test_settle_winnerContractWithoutReceiverStillGetsNFT() public {
        ETHRejecter noHook = new ETHRejecter(); // implements the hook, but settle uses transferFrom anyway
        vm.deal(address(noHook), 5 ether);
        (uint256 auctionId, uint256 id) = _auction(alice, address(0), 1 ether, 1 days);
        noHook.exec{value: 1 ether}(address(market), abi.encodeCall(market.bid, (auctionId, 1 ether)));
        vm.warp(block.timestamp + 1 days);
        market.settleAuction(auctionId);
        assertEq(nft.ownerOf(id), address(noHook));
    }

    function test_cancelAuction_beforeBids() public {
        (uint256 auctionId, uint256 id) = _auction(alice, address(0), 1 ether, 1 days);
        vm.expectEmit(address(market));
        emit NestMarketplace.AuctionCancelled(auctionId);
        vm.prank(alice);
        market.cancelAuction(auctionId);
        assertEq(nft.ownerOf(id), alice);
        assertEq(uint256(_auctionStatus(auctionId)), uint256(NestMarketplace.AuctionStatus.Cancelled));

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.AuctionNotActive.selector, auctionId));
        vm.prank(alice);
        market.cancelAuction(auctionId);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.AuctionNotActive.selector, auctionId));
        market.settleAuction(auctionId);
    }

    function test_cancelAuction_revertsAfterFirstBid() public {
        (uint256 auctionId, uint256 id) = _auction(alice, address(0), 1 ether, 1 days);
        _bidETH(bob, auctionId, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.AuctionHasBids.selector, auctionId));
        vm.prank(alice);
        market.cancelAuction(auctionId);
        assertEq(nft.ownerOf(id), address(market));
    }

    function test_cancelAuction_revertsForNonSeller() public {
        (uint256 auctionId,) = _auction(alice, address(0), 1 ether, 1 days);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NotAuctionSeller.selector, auctionId, bob));
        vm.prank(bob);
        market.cancelAuction(auctionId);
    }

    // ================================================================== offers

    function test_makeOffer_storesAndEmits() public {
        uint256 id = _mint(alice);
        uint64 expiresAt = uint64(block.timestamp + 1 days);
        vm.expectEmit(address(market));
        emit NestMarketplace.OfferCreated(1, bob, address(nft), id, address(token), 5 ether, expiresAt);
        vm.prank(bob);
        uint256 offerId = market.makeOffer(address(nft), id, address(token), 5 ether, expiresAt);
        assertEq(offerId, 1);
        assertEq(market.nextOfferId(), 2);
        (
            address buyer,
            uint64 exp,
            NestMarketplace.OfferStatus status,
            address nftAddr,
            uint256 tokenId,
            address paymentToken,
            uint256 amount
        ) = market.offers(offerId);
        assertEq(buyer, bob);
        assertEq(uint256(exp), uint256(expiresAt));
        assertEq(uint256(status), uint256(NestMarketplace.OfferStatus.Active));
        assertEq(nftAddr, address(nft));
        assertEq(tokenId, id);
        assertEq(paymentToken, address(token));
        assertEq(amount, 5 ether);
        assertEq(token.balanceOf(address(market)), 0, "funds stay with the buyer");
    }

    function test_makeOffer_reverts() public {
        uint256 id = _mint(alice);
        MockERC20 other = new MockERC20("Other", "OTH");
        vm.startPrank(bob);
        vm.expectRevert(NestMarketplace.EthOffersNotSupported.selector);
        market.makeOffer(address(nft), id, address(0), 1 ether, 0);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.PaymentTokenNotAllowed.selector, address(other)));
        market.makeOffer(address(nft), id, address(other), 1 ether, 0);
        vm.expectRevert(NestMarketplace.ZeroAmount.selector);
        market.makeOffer(address(nft), id, address(token), 0, 0);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.InvalidExpiry.selector, uint64(block.timestamp)));
        market.makeOffer(address(nft), id, address(token), 1 ether, uint64(block.timestamp));
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NotERC721.selector, address(token)));
        market.makeOffer(address(token), id, address(token), 1 ether, 0);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NonexistentToken.selector, address(nft), 4242));
        market.makeOffer(address(nft), 4242, address(token), 1 ether, 0);
        vm.stopPrank();

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.SelfTrade.selector, alice));
        vm.prank(alice);
        market.makeOffer(address(nft), id, address(token), 1 ether, 0);
    }

    function test_cancelOffer() public {
        uint256 id = _mint(alice);
        vm.prank(bob);
        uint256 offerId = market.makeOffer(address(nft), id, address(token), 1 ether, 0);

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NotOfferBuyer.selector, offerId, carol));
        vm.prank(carol);
        market.cancelOffer(offerId);

        vm.expectEmit(address(market));
        emit NestMarketplace.OfferCancelled(offerId);
        vm.prank(bob);
        market.cancelOffer(offerId);
        assertEq(uint256(_offerStatus(offerId)), uint256(NestMarketplace.OfferStatus.Cancelled));

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.OfferNotActive.selector, offerId));
        vm.prank(bob);
        market.cancelOffer(offerId);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.OfferNotActive.selector, offerId));
        vm.prank(alice);
        market.acceptOffer(offerId);
    }

    function test_acceptOffer_paysSplitFromBuyer() public {
        uint256 id = _mint(alice);
        uint256 amount = 50 ether;
        vm.prank(bob);
        uint256 offerId = market.makeOffer(address(nft), id, address(token), amount, 0);
        uint256 aliceBefore = token.balanceOf(alice);
        uint256 bobBefore = token.balanceOf(bob);

        vm.expectEmit(address(market));
        emit NestMarketplace.OfferAccepted(offerId, alice);
        vm.expectEmit(address(market));
        emit NestMarketplace.Sale(
            2,
            offerId,
            address(nft),
            id,
            alice,
            bob,
            address(token),
            amount,
            _fee(amount),
            royaltyReceiver,
            _royalty(amount)
        );
        vm.prank(alice);
        market.acceptOffer(offerId);

        assertEq(nft.ownerOf(id), bob);
        assertEq(token.balanceOf(bob), bobBefore - amount);
        assertEq(token.balanceOf(alice), aliceBefore + amount - _fee(amount) - _royalty(amount));
        assertEq(token.balanceOf(treasury), _fee(amount));
        assertEq(token.balanceOf(royaltyReceiver), _royalty(amount));
        assertEq(uint256(_offerStatus(offerId)), uint256(NestMarketplace.OfferStatus.Accepted));
        _assertSolvent();

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.OfferNotActive.selector, offerId));
        vm.prank(bob);
        market.acceptOffer(offerId);
    }

    function test_acceptOffer_byNewOwner() public {
        uint256 id = _mint(alice);
        vm.prank(bob);
        uint256 offerId = market.makeOffer(address(nft), id, address(token), 1 ether, 0);
        vm.prank(alice);
        nft.transferFrom(alice, carol, id);

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NotTokenOwner.selector, address(nft), id, alice));
        vm.prank(alice);
        market.acceptOffer(offerId);

        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.MarketplaceNotApproved.selector, address(nft), id));
        vm.prank(carol);
        market.acceptOffer(offerId);

        vm.startPrank(carol);
        nft.approve(address(market), id);
        market.acceptOffer(offerId);
        vm.stopPrank();
        assertEq(nft.ownerOf(id), bob);
    }

    function test_acceptOffer_revertsWhenExpired() public {
        vm.warp(1000);
        uint256 id = _mint(alice);
        vm.prank(bob);
        uint256 offerId = market.makeOffer(address(nft), id, address(token), 1 ether, 1500);
        vm.warp(1501);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.OfferExpired.selector, offerId, uint64(1500)));
        vm.prank(alice);
        market.acceptOffer(offerId);

        // An expired offer can still be cancelled.
        vm.prank(bob);
        market.cancelOffer(offerId);
    }

    function test_acceptOffer_revertsWhenUnfunded() public {
        uint256 id = _mint(alice);
        vm.prank(bob);
        uint256 offerId = market.makeOffer(address(nft), id, address(token), 10 ether, 0);

        vm.prank(bob);
        token.approve(address(market), 3 ether);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.OfferNotFunded.selector, offerId, 10 ether, 3 ether));
        vm.prank(alice);
        market.acceptOffer(offerId);

        vm.startPrank(bob);
        token.approve(address(market), type(uint256).max);
        assertTrue(token.transfer(carol, token.balanceOf(bob) - 1 ether));
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.OfferNotFunded.selector, offerId, 10 ether, 1 ether));
        vm.prank(alice);
        market.acceptOffer(offerId);
    }

    function test_acceptOffer_revertsOnSelfTrade() public {
        uint256 id = _mint(alice);
        vm.prank(bob);
        uint256 offerId = market.makeOffer(address(nft), id, address(token), 1 ether, 0);
        vm.prank(alice);
        nft.transferFrom(alice, bob, id);
        vm.prank(bob);
        nft.setApprovalForAll(address(market), true);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.SelfTrade.selector, bob));
        vm.prank(bob);
        market.acceptOffer(offerId);
    }

    function test_acceptOffer_revertsWhenTokenDelisted() public {
        uint256 id = _mint(alice);
        vm.prank(bob);
        uint256 offerId = market.makeOffer(address(nft), id, address(token), 1 ether, 0);
        vm.prank(admin);
        market.setPaymentToken(address(token), false);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.PaymentTokenNotAllowed.selector, address(token)));
        vm.prank(alice);
        market.acceptOffer(offerId);
    }

    function test_acceptOffer_tokenInAuctionEscrowCannotBeSold() public {
        (, uint256 id) = _auction(alice, address(0), 1 ether, 1 days);
        vm.prank(bob);
        uint256 offerId = market.makeOffer(address(nft), id, address(token), 1 ether, 0);
        vm.expectRevert(abi.encodeWithSelector(NestMarketplace.NotTokenOwner.selector, address(nft), id, alice));
        vm.prank(alice);
        market.acceptOffer(offerId);
    }

    // ================================================================== misc

    function test_rejectsPlainETHTransfers() public {
        vm.prank(bob);
        (bool ok,) = address(market).call{value: 1 ether}("");
        assertFalse(ok);
    }

    function test_supportsAccessControlInterface() public view {
        assertTrue(market.supportsInterface(type(IAccessControl).interfaceId));
    }
}
