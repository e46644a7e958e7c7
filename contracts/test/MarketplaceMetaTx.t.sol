// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketplaceFixture} from "./mocks/MarketplaceFixture.sol";
import {NestMarketplace} from "../src/NestMarketplace.sol";
import {NestNFT} from "../src/NestNFT.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @notice Gasless marketplace use through NestForwarder: EIP-712 ForwardRequests signed by users who hold no
/// ETH, submitted (and paid for) by a relayer. The digest is built here from first principles (typehash +
/// the forwarder's ERC-5267 domain), independently of the forwarder's code.
contract MarketplaceMetaTxTest is MarketplaceFixture {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant FORWARD_REQUEST_TYPEHASH = keccak256(
        "ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)"
    );

    address internal relayer = makeAddr("relayer");
    address internal signer;
    uint256 internal signerKey;
    NestNFT internal nestNft;

    function setUp() public override {
        super.setUp();
        (signer, signerKey) = makeAddrAndKey("gasless seller");
        vm.deal(relayer, 10 ether);
        nestNft = new NestNFT("Nest", "NEST-NFT", admin, admin, address(forwarder), royaltyReceiver, 500);
    }

    // ------------------------------------------------------------------ helpers

    function _domainSeparator() internal view returns (bytes32) {
        (, string memory name, string memory version, uint256 chainId, address verifyingContract,,) =
            forwarder.eip712Domain();
        assertEq(name, "NestForwarder");
        assertEq(version, "1");
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(name)), keccak256(bytes(version)), chainId, verifyingContract)
        );
    }

    function _request(uint256 key, address from, address to, bytes memory data, uint256 value)
        internal
        view
        returns (ERC2771Forwarder.ForwardRequestData memory req)
    {
        req = ERC2771Forwarder.ForwardRequestData({
            from: from,
            to: to,
            value: value,
            gas: 500_000,
            deadline: uint48(block.timestamp + 1 hours),
            data: data,
            signature: ""
        });
        bytes32 structHash = keccak256(
            abi.encode(
                FORWARD_REQUEST_TYPEHASH,
                req.from,
                req.to,
                req.value,
                req.gas,
                forwarder.nonces(from),
                req.deadline,
                keccak256(req.data)
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", _domainSeparator(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        req.signature = abi.encodePacked(r, s, v);
    }

    function _relay(ERC2771Forwarder.ForwardRequestData memory req) internal {
        assertTrue(forwarder.verify(req), "request must verify");
        vm.prank(relayer);
        forwarder.execute{value: req.value}(req);
    }

    // ------------------------------------------------------------------ tests

    function test_gaslessListing_signerIsSeller() public {
        uint256 tokenId;
        vm.prank(admin);
        tokenId = nestNft.mint(signer, "ipfs://gasless");
        assertEq(signer.balance, 0, "the seller holds no ETH");

        // 1. Gasless approval on the NFT (NestNFT trusts the same forwarder).
        _relay(
            _request(
                signerKey,
                signer,
                address(nestNft),
                abi.encodeCall(nestNft.setApprovalForAll, (address(market), true)),
                0
            )
        );
        assertTrue(nestNft.isApprovedForAll(signer, address(market)));

        // 2. Gasless listing.
        bytes memory data =
            abi.encodeCall(market.createListing, (address(nestNft), tokenId, address(0), 3 ether, uint64(0)));
        vm.expectEmit(address(market));
        emit NestMarketplace.ListingCreated(1, signer, address(nestNft), tokenId, address(0), 3 ether, 0);
        ERC2771Forwarder.ForwardRequestData memory listReq = _request(signerKey, signer, address(market), data, 0);
        _relay(listReq);

        (address seller,,,,,, uint256 price) = market.listings(1);
        assertEq(seller, signer, "the signer, not the relayer or forwarder, is the seller");
        assertEq(price, 3 ether);
        assertEq(signer.balance, 0, "still no ETH spent");
        assertEq(forwarder.nonces(signer), 2);

        // 3. The listing is real: a buyer pays the signer.
        vm.prank(bob);
        market.buy{value: 3 ether}(1, 3 ether);
        assertEq(nestNft.ownerOf(tokenId), bob);
        assertEq(signer.balance, 3 ether - _fee(3 ether) - _royalty(3 ether));

        // 4. Replaying the signed listing request is rejected (its nonce was consumed).
        assertFalse(forwarder.verify(listReq), "replay must not verify");
        vm.expectRevert();
        vm.prank(relayer);
        forwarder.execute(listReq);
        assertEq(market.nextListingId(), 2);
    }

    function test_gaslessCancelAndPriceUpdate() public {
        uint256 tokenId = _mint(signer);
        vm.prank(signer);
        market.createListing(address(nft), tokenId, address(0), 1 ether, 0);

        _relay(_request(signerKey, signer, address(market), abi.encodeCall(market.updateListingPrice, (1, 2 ether)), 0));
        assertEq(_listingPrice(1), 2 ether);
        _relay(_request(signerKey, signer, address(market), abi.encodeCall(market.cancelListing, (1)), 0));
        assertEq(uint256(_listingStatus(1)), uint256(NestMarketplace.ListingStatus.Cancelled));
    }

    function test_gaslessAcceptOfferAndERC20Bid() public {
        // The signer owns a token and accepts bob's WETH offer without gas.
        uint256 tokenId = _mint(signer);
        vm.prank(bob);
        uint256 offerId = market.makeOffer(address(nft), tokenId, address(token), 10 ether, 0);
        _relay(_request(signerKey, signer, address(market), abi.encodeCall(market.acceptOffer, (offerId)), 0));
        assertEq(nft.ownerOf(tokenId), bob);
        assertEq(token.balanceOf(signer), 10 ether - _fee(10 ether) - _royalty(10 ether));

        // The signer (with WETH but no ETH) bids on an ERC-20 auction without gas.
        (uint256 auctionId,) = _auction(alice, address(token), 1 ether, 1 days);
        vm.prank(signer);
        token.approve(address(market), type(uint256).max);
        _relay(_request(signerKey, signer, address(market), abi.encodeCall(market.bid, (auctionId, 2 ether)), 0));
        (address bidder, uint256 amount) = _highest(auctionId);
        assertEq(bidder, signer);
        assertEq(amount, 2 ether);
        _assertSolvent();
    }

    function test_forgedRequestIsRejected() public {
        uint256 tokenId = _mint(alice);
        (address malloryAddr, uint256 mallory) = makeAddrAndKey("mallory");
        // Mallory signs a request claiming to be alice.
        ERC2771Forwarder.ForwardRequestData memory req = _request(
            mallory,
            alice,
            address(market),
            abi.encodeCall(market.createListing, (address(nft), tokenId, address(0), 1 wei, uint64(0))),
            0
        );
        assertFalse(forwarder.verify(req));
        vm.expectRevert(
            abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, malloryAddr, alice)
        );
        vm.prank(relayer);
        forwarder.execute(req);
        assertEq(market.nextListingId(), 1);
    }

    function test_untrustedCallerCannotSpoofSender() public {
        uint256 tokenId = _mint(alice);
        // A direct call with alice's address appended is just a call from the stranger.
        bytes memory data = abi.encodePacked(
            abi.encodeCall(market.createListing, (address(nft), tokenId, address(0), 1 wei, uint64(0))), alice
        );
        vm.prank(stranger);
        (bool ok, bytes memory ret) = address(market).call(data);
        assertFalse(ok);
        assertEq(ret, abi.encodeWithSelector(NestMarketplace.NotTokenOwner.selector, address(nft), tokenId, stranger));
    }
}
