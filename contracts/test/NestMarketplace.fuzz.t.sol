// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketplaceFixture} from "./mocks/MarketplaceFixture.sol";
import {NestMarketplace} from "../src/NestMarketplace.sol";

/// @notice Fuzzed sale splits (price x fee x royalty, in ETH and ERC-20, for every sale kind) and bid sequences.
contract NestMarketplaceFuzzTest is MarketplaceFixture {
    uint256 internal constant MAX_PRICE = 1e30;

    /// @dev Sets the fee and the token's (uncapped) ERC-2981 royalty; returns the expected fee and royalty.
    function _configure(uint256 tokenId, uint256 price, uint256 feeBps, uint256 royaltyBps)
        internal
        returns (uint256 expectedFee, uint256 expectedRoyalty)
    {
        vm.prank(admin);
        // forge-lint: disable-next-line(unsafe-typecast)
        market.setFeeBps(uint16(feeBps)); // bounded to [0, 1000] by the callers
        // forge-lint: disable-next-line(unsafe-typecast)
        nft.setTokenRoyalty(tokenId, royaltyReceiver, uint96(royaltyBps)); // bounded to [0, 10000]
        expectedFee = (price * feeBps) / BPS;
        uint256 rawRoyalty = (price * royaltyBps) / BPS;
        uint256 cap = (price * 1000) / BPS;
        expectedRoyalty = rawRoyalty > cap ? cap : rawRoyalty;
    }

    /// @dev Checks the split from the recorded `Sale` event and the balances that moved.
    function _checkSplit(
        uint256 price,
        uint256 expectedFee,
        uint256 expectedRoyalty,
        uint256 sellerGain,
        uint256 treasuryGain,
        uint256 royaltyGain
    ) internal pure {
        assertEq(treasuryGain, expectedFee, "fee");
        assertEq(royaltyGain, expectedRoyalty, "royalty");
        assertEq(sellerGain + treasuryGain + royaltyGain, price, "split must add up to the price");
        assertLe(royaltyGain, (price * 1000) / BPS, "royalty above cap");
        assertLe(treasuryGain, (price * 1000) / BPS, "fee above cap");
    }

    function testFuzz_listingSplit_ETH(uint256 price, uint256 feeBps, uint256 royaltyBps) public {
        price = bound(price, 1, MAX_PRICE);
        feeBps = bound(feeBps, 0, 1000);
        royaltyBps = bound(royaltyBps, 0, BPS);
        (uint256 listingId, uint256 id) = _list(alice, address(0), price);
        (uint256 expectedFee, uint256 expectedRoyalty) = _configure(id, price, feeBps, royaltyBps);

        vm.deal(bob, price);
        uint256 aliceBefore = alice.balance;
        vm.prank(bob);
        market.buy{value: price}(listingId, price);

        _checkSplit(
            price, expectedFee, expectedRoyalty, alice.balance - aliceBefore, treasury.balance, royaltyReceiver.balance
        );
        assertEq(nft.ownerOf(id), bob);
        assertEq(bob.balance, 0);
        _assertSolvent();
    }

    function testFuzz_listingSplit_ERC20(uint256 price, uint256 feeBps, uint256 royaltyBps) public {
        price = bound(price, 1, MAX_PRICE);
        feeBps = bound(feeBps, 0, 1000);
        royaltyBps = bound(royaltyBps, 0, BPS);
        (uint256 listingId, uint256 id) = _list(alice, address(token), price);
        (uint256 expectedFee, uint256 expectedRoyalty) = _configure(id, price, feeBps, royaltyBps);

        token.mint(bob, price);
        uint256 bobBefore = token.balanceOf(bob);
        uint256 aliceBefore = token.balanceOf(alice);
        vm.prank(bob);
        market.buy(listingId, price);

        _checkSplit(
            price,
            expectedFee,
            expectedRoyalty,
            token.balanceOf(alice) - aliceBefore,
            token.balanceOf(treasury),
            token.balanceOf(royaltyReceiver)
        );
        assertEq(bobBefore - token.balanceOf(bob), price);
        _assertSolvent();
    }

    function testFuzz_offerSplit(uint256 amount, uint256 feeBps, uint256 royaltyBps) public {
        amount = bound(amount, 1, MAX_PRICE);
        feeBps = bound(feeBps, 0, 1000);
        royaltyBps = bound(royaltyBps, 0, BPS);
        uint256 id = _mint(alice);
        (uint256 expectedFee, uint256 expectedRoyalty) = _configure(id, amount, feeBps, royaltyBps);
        token.mint(bob, amount);
        vm.prank(bob);
        uint256 offerId = market.makeOffer(address(nft), id, address(token), amount, 0);

        uint256 aliceBefore = token.balanceOf(alice);
        vm.prank(alice);
        market.acceptOffer(offerId);

        _checkSplit(
            amount,
            expectedFee,
            expectedRoyalty,
            token.balanceOf(alice) - aliceBefore,
            token.balanceOf(treasury),
            token.balanceOf(royaltyReceiver)
        );
        assertEq(nft.ownerOf(id), bob);
        _assertSolvent();
    }

    function testFuzz_auctionSplit_ETH(uint256 amount, uint256 feeBps, uint256 royaltyBps) public {
        amount = bound(amount, 1, MAX_PRICE);
        feeBps = bound(feeBps, 0, 1000);
        royaltyBps = bound(royaltyBps, 0, BPS);
        (uint256 auctionId, uint256 id) = _auction(alice, address(0), 1, 1 days);
        (uint256 expectedFee, uint256 expectedRoyalty) = _configure(id, amount, feeBps, royaltyBps);
        vm.deal(bob, amount);
        _bidETH(bob, auctionId, amount);

        vm.warp(block.timestamp + 1 days);
        uint256 aliceBefore = alice.balance;
        market.settleAuction(auctionId);

        _checkSplit(
            amount, expectedFee, expectedRoyalty, alice.balance - aliceBefore, treasury.balance, royaltyReceiver.balance
        );
        assertEq(nft.ownerOf(id), bob);
        assertEq(market.totalOwed(address(0)), 0);
        _assertSolvent();
    }

    struct BidSeq {
        uint256 auctionId;
        uint256 tokenId;
        address paymentToken;
        uint256 reserve;
        uint16 incrementBps;
        address highestBidder;
        uint256 highest;
        uint256 refundBob;
        uint256 refundCarol;
    }

    /// @dev A sequence of bids, some below the minimum (which must revert with the exact minimum), others valid;
    /// checks the credited refunds, escrow accounting, the final split and that every refund is withdrawable.
    function testFuzz_bidSequence(uint256[8] memory raw, uint16 incrementBps, bool useERC20) public {
        BidSeq memory seq;
        seq.incrementBps = uint16(bound(incrementBps, 0, BPS));
        vm.prank(admin);
        market.setAuctionConfig(seq.incrementBps, 600, 600);
        seq.paymentToken = useERC20 ? address(token) : address(0);
        seq.reserve = bound(raw[0], 0, 10 ether);
        (seq.auctionId, seq.tokenId) = _auction(alice, seq.paymentToken, seq.reserve, 1 days);

        for (uint256 i = 0; i < raw.length; i++) {
            _bidStep(seq, raw[i]);
        }

        vm.warp(_auctionEnd(seq.auctionId));
        uint256 sellerBefore = _balance(seq.paymentToken, alice);
        market.settleAuction(seq.auctionId);

        if (seq.highestBidder == address(0)) {
            assertEq(nft.ownerOf(seq.tokenId), alice);
        } else {
            assertEq(nft.ownerOf(seq.tokenId), seq.highestBidder);
            uint256 sellerGain = _balance(seq.paymentToken, alice) - sellerBefore;
            assertEq(sellerGain, seq.highest - _fee(seq.highest) - _royalty(seq.highest), "seller proceeds");
        }
        assertEq(market.totalOwed(seq.paymentToken), seq.refundBob + seq.refundCarol);
        _assertSolvent();

        _withdrawAndCheck(bob, seq.paymentToken, seq.refundBob);
        _withdrawAndCheck(carol, seq.paymentToken, seq.refundCarol);
        assertEq(market.totalOwed(seq.paymentToken), 0);
        _assertSolvent();
    }

    function _bidStep(BidSeq memory seq, uint256 r) internal {
        uint256 minimum;
        if (seq.highestBidder == address(0)) {
            minimum = seq.reserve == 0 ? 1 : seq.reserve;
        } else {
            uint256 increment = (seq.highest * seq.incrementBps) / BPS;
            minimum = seq.highest + (increment == 0 ? 1 : increment);
        }
        address bidder = r % 2 == 0 ? bob : carol;
        bool tooLow = (r >> 8) % 4 == 0; // ~25% invalid bids
        uint256 amount = tooLow ? minimum - 1 : minimum + bound(r >> 16, 0, 5 ether);
        uint256 value = seq.paymentToken == address(0) ? amount : 0;
        vm.deal(bidder, value);

        if (tooLow) {
            vm.expectRevert(abi.encodeWithSelector(NestMarketplace.BidTooLow.selector, amount, minimum));
            vm.prank(bidder);
            market.bid{value: value}(seq.auctionId, amount);
            return;
        }
        vm.prank(bidder);
        market.bid{value: value}(seq.auctionId, amount);
        if (seq.highestBidder == bob) seq.refundBob += seq.highest;
        else if (seq.highestBidder == carol) seq.refundCarol += seq.highest;
        seq.highestBidder = bidder;
        seq.highest = amount;

        assertEq(market.pendingWithdrawal(bob, seq.paymentToken), seq.refundBob, "bob refund");
        assertEq(market.pendingWithdrawal(carol, seq.paymentToken), seq.refundCarol, "carol refund");
        assertEq(market.totalOwed(seq.paymentToken), seq.highest + seq.refundBob + seq.refundCarol, "totalOwed");
        _assertSolvent();
    }

    function _withdrawAndCheck(address account, address paymentToken, uint256 expected) internal {
        if (expected == 0) return;
        uint256 before = _balance(paymentToken, account);
        vm.prank(account);
        market.withdraw(paymentToken);
        assertEq(_balance(paymentToken, account) - before, expected, "withdrawn refund");
    }

    function _balance(address paymentToken, address account) internal view returns (uint256) {
        return paymentToken == address(0) ? account.balance : token.balanceOf(account);
    }

    /// @dev Anti-sniping: a bid `remaining` seconds before the end extends iff remaining < window, to
    /// max(end, now + extension).
    function testFuzz_antiSniping(uint256 remaining, uint32 window, uint32 extension) public {
        window = uint32(bound(window, 0, 1 days));
        extension = uint32(bound(extension, 0, 1 days));
        vm.prank(admin);
        market.setAuctionConfig(500, window, extension);
        (uint256 auctionId,) = _auction(alice, address(0), 1, 2 days);
        uint64 endTime = _auctionEnd(auctionId);
        remaining = bound(remaining, 1, 2 days);
        vm.warp(endTime - remaining);

        _bidETH(bob, auctionId, 1 ether);
        uint256 expected = endTime;
        // forge-lint: disable-next-line(block-timestamp)
        if (remaining < window && block.timestamp + extension > endTime) expected = block.timestamp + extension;
        assertEq(uint256(_auctionEnd(auctionId)), expected);
    }
}
