// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {NestTest} from "./utils/NestTest.sol";
import {SigUtils} from "./utils/SigUtils.sol";
import {NestNFT} from "../src/NestNFT.sol";
import {NestForwarder} from "../src/NestForwarder.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";

/// @notice Gasless NFT actions: the token owner signs an EIP-712 ForwardRequest, a relayer pays the gas.
contract NFTMetaTxTest is NestTest {
    NestForwarder internal forwarder;
    NestNFT internal nft;

    address internal admin = makeAddr("admin");
    address internal minter = makeAddr("minter");
    address internal relayer = makeAddr("relayer");
    address internal recipient = makeAddr("recipient");
    address internal owner;
    uint256 internal ownerKey;
    uint256 internal tokenId;

    uint256 internal constant REQUEST_GAS = 200_000;

    function setUp() public {
        (owner, ownerKey) = makeAddrAndKey("owner");
        vm.warp(1_700_000_000);
        forwarder = new NestForwarder();
        nft = new NestNFT("Nest Art", "NART", admin, minter, address(forwarder), admin, 500);
        vm.prank(minter);
        tokenId = nft.mint(owner, "ipfs://gasless");
        vm.deal(owner, 0);
        vm.deal(relayer, 1 ether);
    }

    // ------------------------------------------------------------------ helpers

    function _request(address from, address to, bytes memory data, uint48 deadline)
        internal
        view
        returns (SigUtils.ForwardRequest memory)
    {
        return SigUtils.ForwardRequest({
            from: from,
            to: to,
            value: 0,
            gas: REQUEST_GAS,
            nonce: forwarder.nonces(from),
            deadline: deadline,
            data: data
        });
    }

    function _signed(SigUtils.ForwardRequest memory req, uint256 key)
        internal
        view
        returns (ERC2771Forwarder.ForwardRequestData memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, SigUtils.forwardRequestDigest(address(forwarder), req));
        return ERC2771Forwarder.ForwardRequestData({
            from: req.from,
            to: req.to,
            value: req.value,
            gas: req.gas,
            deadline: req.deadline,
            data: req.data,
            signature: abi.encodePacked(r, s, v)
        });
    }

    function _transferData(address from, address to, uint256 id) internal view returns (bytes memory) {
        return abi.encodeCall(nft.transferFrom, (from, to, id));
    }

    function _deadline() internal view returns (uint48) {
        return uint48(block.timestamp + 1 hours);
    }

    // ------------------------------------------------------------------ domain

    function test_ForwarderDomain() public view {
        (bytes1 fields, string memory name, string memory version, uint256 chainId, address verifying,,) =
            forwarder.eip712Domain();
        assertEq(uint8(fields), 0x0f);
        assertEq(name, "NestForwarder");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(forwarder));
        assertTrue(nft.isTrustedForwarder(address(forwarder)));
    }

    // ------------------------------------------------------------------ gasless transfer

    function test_GaslessTransfer() public {
        ERC2771Forwarder.ForwardRequestData memory request =
            _signed(_request(owner, address(nft), _transferData(owner, recipient, tokenId), _deadline()), ownerKey);
        assertTrue(forwarder.verify(request), "request verifies");
        assertEq(forwarder.nonces(owner), 0);

        vm.expectEmit(true, true, true, false, address(nft));
        emit IERC721.Transfer(owner, recipient, tokenId);
        vm.expectEmit(true, false, false, true, address(forwarder));
        emit ERC2771Forwarder.ExecutedForwardRequest(owner, 0, true);
        vm.prank(relayer);
        forwarder.execute(request);

        assertEq(nft.ownerOf(tokenId), recipient);
        assertEq(nft.balanceOf(owner), 0);
        assertEq(forwarder.nonces(owner), 1);
        assertEq(owner.balance, 0, "the owner never paid anything");
        assertFalse(forwarder.verify(request), "a used request no longer verifies");
    }

    function test_GaslessTransfer_ReplayFails() public {
        SigUtils.ForwardRequest memory req =
            _request(owner, address(nft), _transferData(owner, recipient, tokenId), _deadline());
        ERC2771Forwarder.ForwardRequestData memory request = _signed(req, ownerKey);
        vm.prank(relayer);
        forwarder.execute(request);

        // The forwarder hashes the current nonce (1), so the old signature recovers to another address.
        req.nonce = 1;
        address recovered = _recover(req, request.signature);
        assertTrue(recovered != owner, "replay must not recover to the owner");
        vm.expectRevert(
            abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, recovered, owner)
        );
        vm.prank(relayer);
        forwarder.execute(request);
        assertEq(forwarder.nonces(owner), 1);
        assertEq(nft.ownerOf(tokenId), recipient);
    }

    function test_GaslessTransfer_ExpiredDeadlineFails() public {
        uint48 deadline = _deadline();
        ERC2771Forwarder.ForwardRequestData memory request =
            _signed(_request(owner, address(nft), _transferData(owner, recipient, tokenId), deadline), ownerKey);
        vm.warp(uint256(deadline) + 1);
        assertFalse(forwarder.verify(request));
        vm.expectRevert(abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderExpiredRequest.selector, deadline));
        vm.prank(relayer);
        forwarder.execute(request);
        assertEq(nft.ownerOf(tokenId), owner);
        assertEq(forwarder.nonces(owner), 0);
    }

    function test_GaslessTransfer_AtDeadlineSucceeds() public {
        uint48 deadline = _deadline();
        ERC2771Forwarder.ForwardRequestData memory request =
            _signed(_request(owner, address(nft), _transferData(owner, recipient, tokenId), deadline), ownerKey);
        vm.warp(deadline);
        vm.prank(relayer);
        forwarder.execute(request);
        assertEq(nft.ownerOf(tokenId), recipient);
    }

    function test_TamperedRequestFails() public {
        SigUtils.ForwardRequest memory req =
            _request(owner, address(nft), _transferData(owner, recipient, tokenId), _deadline());
        ERC2771Forwarder.ForwardRequestData memory request = _signed(req, ownerKey);
        // The relayer redirects the token to itself.
        request.data = _transferData(owner, relayer, tokenId);
        req.data = request.data;
        address recovered = _recover(req, request.signature);
        assertTrue(recovered != owner, "tampered request must not recover to the owner");
        assertFalse(forwarder.verify(request));
        vm.expectRevert(
            abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, recovered, owner)
        );
        vm.prank(relayer);
        forwarder.execute(request);
        assertEq(nft.ownerOf(tokenId), owner);
    }

    function test_RequestSignedByAnotherKeyFails() public {
        (address mallory, uint256 malloryKey) = makeAddrAndKey("mallory");
        ERC2771Forwarder.ForwardRequestData memory request =
            _signed(_request(owner, address(nft), _transferData(owner, mallory, tokenId), _deadline()), malloryKey);
        vm.expectRevert(abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, mallory, owner));
        vm.prank(relayer);
        forwarder.execute(request);
    }

    function test_ForwardedCallRevertKeepsNonce() public {
        // The owner signs a transfer of a token it does not own: the inner call reverts, so does execute.
        vm.prank(minter);
        uint256 other = nft.mint(recipient, "ipfs://other");
        ERC2771Forwarder.ForwardRequestData memory request =
            _signed(_request(owner, address(nft), _transferData(recipient, owner, other), _deadline()), ownerKey);
        vm.expectRevert(Errors.FailedCall.selector);
        vm.prank(relayer);
        forwarder.execute(request);
        assertEq(forwarder.nonces(owner), 0);
        assertEq(nft.ownerOf(other), recipient);
    }

    function test_UntrustingTargetFails() public {
        NestNFT other = new NestNFT("Other", "OTH", admin, minter, address(0), admin, 0);
        vm.prank(minter);
        uint256 id = other.mint(owner, "ipfs://x");
        ERC2771Forwarder.ForwardRequestData memory request = _signed(
            _request(owner, address(other), abi.encodeCall(other.transferFrom, (owner, recipient, id)), _deadline()),
            ownerKey
        );
        vm.expectRevert(
            abi.encodeWithSelector(
                ERC2771Forwarder.ERC2771UntrustfulTarget.selector, address(other), address(forwarder)
            )
        );
        vm.prank(relayer);
        forwarder.execute(request);
    }

    function test_GaslessApprovalForAllThenOperatorTransfer() public {
        address operator = makeAddr("operator");
        ERC2771Forwarder.ForwardRequestData memory request = _signed(
            _request(owner, address(nft), abi.encodeCall(nft.setApprovalForAll, (operator, true)), _deadline()),
            ownerKey
        );
        vm.expectEmit(true, true, false, true, address(nft));
        emit IERC721.ApprovalForAll(owner, operator, true);
        vm.prank(relayer);
        forwarder.execute(request);
        assertTrue(nft.isApprovedForAll(owner, operator));

        vm.prank(operator);
        nft.transferFrom(owner, recipient, tokenId);
        assertEq(nft.ownerOf(tokenId), recipient);
    }

    function test_GaslessSequentialRequests() public {
        vm.prank(minter);
        uint256 second = nft.mint(owner, "ipfs://second");
        ERC2771Forwarder.ForwardRequestData memory first =
            _signed(_request(owner, address(nft), _transferData(owner, recipient, tokenId), _deadline()), ownerKey);
        vm.prank(relayer);
        forwarder.execute(first);

        ERC2771Forwarder.ForwardRequestData memory next =
            _signed(_request(owner, address(nft), _transferData(owner, recipient, second), _deadline()), ownerKey);
        vm.prank(relayer);
        forwarder.execute(next);

        assertEq(forwarder.nonces(owner), 2);
        assertEq(nft.balanceOf(recipient), 2);
    }

    /// @dev The address a 65-byte `signature` recovers to for `req`.
    function _recover(SigUtils.ForwardRequest memory req, bytes memory signature) private view returns (address) {
        bytes32 r;
        bytes32 s;
        assembly ("memory-safe") {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
        }
        return ecrecover(SigUtils.forwardRequestDigest(address(forwarder), req), uint8(signature[64]), r, s);
    }
}
