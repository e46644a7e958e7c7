// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {NestTest} from "./utils/NestTest.sol";
import {NestMarketplace} from "../src/NestMarketplace.sol";
import {MockERC20} from "./mocks/MockERC20.sol";
import {MockERC721Royalty} from "./mocks/MockERC721.sol";
import {ETHRejecter} from "./mocks/ETHRejecter.sol";
import {MarketplaceHandler} from "./handlers/MarketplaceHandler.sol";

/// @notice Handler-based invariants: the marketplace always holds exactly what it owes (ETH and ERC-20), what
/// it owes is exactly the escrowed highest bids of open auctions plus everyone's pending withdrawals, and it
/// owns exactly the NFTs of its open auctions.
contract NestMarketplaceInvariantTest is NestTest {
    NestMarketplace internal market;
    MockERC721Royalty internal nft;
    MockERC20 internal token;
    MarketplaceHandler internal handler;
    address internal treasury = makeAddr("treasury");
    ETHRejecter internal royaltyReceiver;
    address[] internal accounts; // everyone who can ever be credited

    function setUp() public {
        address admin = makeAddr("admin");
        market = new NestMarketplace(admin, makeAddr("guardian"), address(0), treasury, 250);
        token = new MockERC20("Wrapped Ether", "WETH");
        nft = new MockERC721Royalty("Nest Test", "NTST");
        royaltyReceiver = new ETHRejecter();
        nft.setDefaultRoyalty(address(royaltyReceiver), 700);
        vm.prank(admin);
        market.setPaymentToken(address(token), true);

        address[] memory actors = new address[](4);
        actors[0] = makeAddr("actor0");
        actors[1] = makeAddr("actor1");
        actors[2] = makeAddr("actor2");
        actors[3] = makeAddr("actor3");
        handler = new MarketplaceHandler(market, nft, token, treasury, address(royaltyReceiver), actors);

        for (uint256 i = 0; i < actors.length; i++) {
            accounts.push(actors[i]);
        }
        accounts.push(treasury);
        accounts.push(address(royaltyReceiver));

        bytes4[] memory selectors = new bytes4[](12);
        selectors[0] = MarketplaceHandler.createListing.selector;
        selectors[1] = MarketplaceHandler.buy.selector;
        selectors[2] = MarketplaceHandler.cancelListing.selector;
        selectors[3] = MarketplaceHandler.createAuction.selector;
        selectors[4] = MarketplaceHandler.bid.selector;
        selectors[5] = MarketplaceHandler.settleAuction.selector;
        selectors[6] = MarketplaceHandler.cancelAuction.selector;
        selectors[7] = MarketplaceHandler.makeOffer.selector;
        selectors[8] = MarketplaceHandler.acceptOffer.selector;
        selectors[9] = MarketplaceHandler.withdraw.selector;
        selectors[10] = MarketplaceHandler.warp.selector;
        selectors[11] = MarketplaceHandler.bid.selector; // bids twice as likely
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev Sum of the highest bids of open auctions in `paymentToken`.
    function _escrowed(address paymentToken) internal view returns (uint256 total) {
        uint256 next = market.nextAuctionId();
        for (uint256 id = 1; id < next; id++) {
            (,, NestMarketplace.AuctionStatus status,,,, address pt,,, uint256 highestBid) = market.auctions(id);
            if (status == NestMarketplace.AuctionStatus.Active && pt == paymentToken) total += highestBid;
        }
    }

    function _pending(address paymentToken) internal view returns (uint256 total) {
        for (uint256 i = 0; i < accounts.length; i++) {
            total += market.pendingWithdrawal(accounts[i], paymentToken);
        }
    }

    /// forge-config: default.invariant.runs = 64
    /// forge-config: default.invariant.depth = 128
    function invariant_holdsExactlyWhatItOwes() public view {
        assertEq(address(market).balance, market.totalOwed(address(0)), "ETH balance != totalOwed");
        assertEq(token.balanceOf(address(market)), market.totalOwed(address(token)), "ERC-20 balance != totalOwed");
    }

    /// forge-config: default.invariant.runs = 64
    /// forge-config: default.invariant.depth = 128
    function invariant_totalOwedIsEscrowPlusPending() public view {
        assertEq(market.totalOwed(address(0)), _escrowed(address(0)) + _pending(address(0)), "ETH ledger");
        assertEq(
            market.totalOwed(address(token)), _escrowed(address(token)) + _pending(address(token)), "ERC-20 ledger"
        );
    }

    /// forge-config: default.invariant.runs = 64
    /// forge-config: default.invariant.depth = 128
    function invariant_ownsExactlyOpenAuctionNFTs() public view {
        uint256 tokenCount = handler.TOKEN_COUNT();
        bool[] memory inAuction = new bool[](tokenCount + 1);
        uint256 open;
        uint256 next = market.nextAuctionId();
        for (uint256 id = 1; id < next; id++) {
            (,, NestMarketplace.AuctionStatus status,,, uint256 tokenId,,,,) = market.auctions(id);
            if (status == NestMarketplace.AuctionStatus.Active) {
                assertFalse(inAuction[tokenId], "token in two open auctions");
                inAuction[tokenId] = true;
                open++;
            }
        }
        for (uint256 tokenId = 1; tokenId <= tokenCount; tokenId++) {
            assertEq(nft.ownerOf(tokenId) == address(market), inAuction[tokenId], "escrow mismatch");
        }
        assertEq(nft.balanceOf(address(market)), open, "escrowed NFT count");
    }
}
