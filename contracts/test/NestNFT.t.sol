// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {NestTest} from "./utils/NestTest.sol";
import {NestNFT} from "../src/NestNFT.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";

contract NestNFTTest is NestTest {
    NestNFT internal nft;

    address internal admin = makeAddr("admin");
    address internal minter = makeAddr("minter");
    address internal forwarder = makeAddr("forwarder");
    address internal royaltyReceiver = makeAddr("royaltyReceiver");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal stranger = makeAddr("stranger");

    uint96 internal constant DEFAULT_BPS = 500;
    uint96 internal constant MAX_BPS = 1000;

    bytes32 internal constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 internal constant ADMIN_ROLE = 0x00;

    function setUp() public {
        nft = new NestNFT("Nest Art", "NART", admin, minter, forwarder, royaltyReceiver, DEFAULT_BPS);
    }

    // ------------------------------------------------------------------ helpers

    function _mint(address to, string memory uri) internal returns (uint256 id) {
        vm.prank(minter);
        id = nft.mint(to, uri);
    }

    function _uris(uint256 count) internal pure returns (string[] memory uris) {
        uris = new string[](count);
        for (uint256 i; i < count; ++i) {
            uris[i] = string.concat("ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/", _toString(i));
        }
    }

    function _toString(uint256 value) internal pure returns (string memory) {
        if (value == 0) return "0";
        uint256 digits;
        for (uint256 v = value; v != 0; v /= 10) {
            digits++;
        }
        bytes memory buffer = new bytes(digits);
        while (value != 0) {
            digits -= 1;
            buffer[digits] = bytes1(uint8(48 + (value % 10)));
            value /= 10;
        }
        return string(buffer);
    }

    function _unauthorized(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    // ------------------------------------------------------------------ constructor

    function test_Constructor_SetsMetadataRolesAndRoyalty() public view {
        assertEq(nft.name(), "Nest Art");
        assertEq(nft.symbol(), "NART");
        assertEq(nft.MINTER_ROLE(), MINTER_ROLE);
        assertEq(nft.MAX_ROYALTY_BPS(), MAX_BPS);
        assertTrue(nft.hasRole(ADMIN_ROLE, admin), "admin role");
        assertTrue(nft.hasRole(MINTER_ROLE, minter), "minter role");
        assertFalse(nft.hasRole(MINTER_ROLE, admin), "admin is not a minter");
        assertFalse(nft.hasRole(ADMIN_ROLE, minter), "minter is not admin");
        assertEq(nft.trustedForwarder(), forwarder);
        assertTrue(nft.isTrustedForwarder(forwarder));
        assertFalse(nft.isTrustedForwarder(stranger));
        assertEq(nft.nextTokenId(), 1);
        assertEq(nft.totalMinted(), 0);
        (address receiver, uint256 amount) = nft.royaltyInfo(1, 10_000);
        assertEq(receiver, royaltyReceiver);
        assertEq(amount, DEFAULT_BPS);
    }

    function test_Constructor_EmitsDefaultRoyaltySet() public {
        vm.expectEmit(true, false, false, true);
        emit NestNFT.DefaultRoyaltySet(royaltyReceiver, 250);
        new NestNFT("N", "N", admin, minter, forwarder, royaltyReceiver, 250);
    }

    function test_Constructor_NoDefaultRoyalty() public {
        NestNFT plain = new NestNFT("N", "N", admin, address(0), address(0), address(0), 0);
        (address receiver, uint256 amount) = plain.royaltyInfo(1, 1 ether);
        assertEq(receiver, address(0));
        assertEq(amount, 0);
        assertFalse(plain.hasRole(MINTER_ROLE, address(0)), "no minter role for the zero address");
        assertEq(plain.trustedForwarder(), address(0));
    }

    function test_Constructor_RevertsOnZeroAdmin() public {
        vm.expectRevert(NestNFT.ZeroAdmin.selector);
        new NestNFT("N", "N", address(0), minter, forwarder, royaltyReceiver, DEFAULT_BPS);
    }

    function test_Constructor_RevertsOnRoyaltyAboveCap() public {
        vm.expectRevert(abi.encodeWithSelector(NestNFT.RoyaltyTooHigh.selector, MAX_BPS + 1, MAX_BPS));
        new NestNFT("N", "N", admin, minter, forwarder, royaltyReceiver, MAX_BPS + 1);
    }

    function test_Constructor_RevertsOnZeroRoyaltyReceiverWithBps() public {
        vm.expectRevert(abi.encodeWithSelector(ERC2981.ERC2981InvalidDefaultRoyaltyReceiver.selector, address(0)));
        new NestNFT("N", "N", admin, minter, forwarder, address(0), DEFAULT_BPS);
    }

    // ------------------------------------------------------------------ mint

    function test_Mint_AssignsOwnerUriAndSequentialIds() public {
        uint256 first = _mint(alice, "ipfs://one");
        uint256 second = _mint(bob, "ipfs://two");
        assertEq(first, 1);
        assertEq(second, 2);
        assertEq(nft.ownerOf(1), alice);
        assertEq(nft.ownerOf(2), bob);
        assertEq(nft.balanceOf(alice), 1);
        assertEq(nft.tokenURI(1), "ipfs://one");
        assertEq(nft.tokenURI(2), "ipfs://two");
        assertEq(nft.nextTokenId(), 3);
        assertEq(nft.totalMinted(), 2);
    }

    function test_Mint_EmitsTransferMetadataUpdateAndTokenMinted() public {
        vm.expectEmit(true, true, true, true, address(nft));
        emit IERC721.Transfer(address(0), alice, 1);
        vm.expectEmit(false, false, false, true, address(nft));
        emit IERC4906.MetadataUpdate(1);
        vm.expectEmit(true, true, false, true, address(nft));
        emit NestNFT.TokenMinted(1, alice, "ipfs://one");
        _mint(alice, "ipfs://one");
    }

    function test_Mint_UsesDefaultRoyalty() public {
        uint256 id = _mint(alice, "ipfs://one");
        (address receiver, uint256 amount) = nft.royaltyInfo(id, 1 ether);
        assertEq(receiver, royaltyReceiver);
        assertEq(amount, 0.05 ether);
    }

    function test_Mint_RevertsForNonMinter() public {
        vm.expectRevert(_unauthorized(stranger, MINTER_ROLE));
        vm.prank(stranger);
        nft.mint(alice, "ipfs://one");
    }

    function test_Mint_RevertsForAdminWithoutMinterRole() public {
        vm.expectRevert(_unauthorized(admin, MINTER_ROLE));
        vm.prank(admin);
        nft.mint(alice, "ipfs://one");
    }

    function test_Mint_RevertsToZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(0)));
        _mint(address(0), "ipfs://one");
    }

    function test_Mint_ByNewlyGrantedMinter() public {
        vm.prank(admin);
        nft.grantRole(MINTER_ROLE, bob);
        vm.prank(bob);
        assertEq(nft.mint(alice, "ipfs://one"), 1);

        vm.prank(admin);
        nft.revokeRole(MINTER_ROLE, bob);
        vm.expectRevert(_unauthorized(bob, MINTER_ROLE));
        vm.prank(bob);
        nft.mint(alice, "ipfs://two");
    }

    // ------------------------------------------------------------------ mintWithRoyalty

    function test_MintWithRoyalty_SetsTokenRoyalty() public {
        address artist = makeAddr("artist");
        vm.expectEmit(true, true, false, true, address(nft));
        emit NestNFT.TokenMinted(1, alice, "ipfs://art");
        vm.expectEmit(true, true, false, true, address(nft));
        emit NestNFT.TokenRoyaltySet(1, artist, 750);
        vm.prank(minter);
        uint256 id = nft.mintWithRoyalty(alice, "ipfs://art", artist, 750);

        assertEq(id, 1);
        assertEq(nft.ownerOf(id), alice);
        assertEq(nft.tokenURI(id), "ipfs://art");
        (address receiver, uint256 amount) = nft.royaltyInfo(id, 2 ether);
        assertEq(receiver, artist);
        assertEq(amount, 0.15 ether);
        // Other tokens still use the default.
        uint256 other = _mint(alice, "ipfs://other");
        (receiver,) = nft.royaltyInfo(other, 1 ether);
        assertEq(receiver, royaltyReceiver);
    }

    function test_MintWithRoyalty_AtCap() public {
        vm.prank(minter);
        uint256 id = nft.mintWithRoyalty(alice, "ipfs://art", bob, MAX_BPS);
        (, uint256 amount) = nft.royaltyInfo(id, 1 ether);
        assertEq(amount, 0.1 ether);
    }

    function test_MintWithRoyalty_RevertsAboveCap() public {
        vm.expectRevert(abi.encodeWithSelector(NestNFT.RoyaltyTooHigh.selector, MAX_BPS + 1, MAX_BPS));
        vm.prank(minter);
        nft.mintWithRoyalty(alice, "ipfs://art", bob, MAX_BPS + 1);
        assertEq(nft.nextTokenId(), 1, "the failed mint left no trace");
    }

    function test_MintWithRoyalty_RevertsOnZeroReceiver() public {
        vm.expectRevert(abi.encodeWithSelector(ERC2981.ERC2981InvalidTokenRoyaltyReceiver.selector, 1, address(0)));
        vm.prank(minter);
        nft.mintWithRoyalty(alice, "ipfs://art", address(0), 100);
    }

    function test_MintWithRoyalty_RevertsForNonMinter() public {
        vm.expectRevert(_unauthorized(stranger, MINTER_ROLE));
        vm.prank(stranger);
        nft.mintWithRoyalty(alice, "ipfs://art", bob, 100);
    }

    // ------------------------------------------------------------------ mintBatch

    function test_MintBatch_SequentialIdsAndUris() public {
        _mint(bob, "ipfs://zero"); // id 1
        string[] memory uris = _uris(5);
        vm.prank(minter);
        uint256 first = nft.mintBatch(alice, uris);
        assertEq(first, 2);
        for (uint256 i; i < 5; ++i) {
            assertEq(nft.ownerOf(first + i), alice);
            assertEq(nft.tokenURI(first + i), uris[i]);
        }
        assertEq(nft.balanceOf(alice), 5);
        assertEq(nft.nextTokenId(), 7);
        assertEq(nft.totalMinted(), 6);
        assertEq(_mint(bob, "ipfs://after"), 7);
    }

    function test_MintBatch_EmitsPerTokenEvents() public {
        string[] memory uris = _uris(3);
        for (uint256 i; i < 3; ++i) {
            vm.expectEmit(true, true, true, true, address(nft));
            emit IERC721.Transfer(address(0), alice, i + 1);
            vm.expectEmit(false, false, false, true, address(nft));
            emit IERC4906.MetadataUpdate(i + 1);
            vm.expectEmit(true, true, false, true, address(nft));
            emit NestNFT.TokenMinted(i + 1, alice, uris[i]);
        }
        vm.prank(minter);
        nft.mintBatch(alice, uris);
    }

    function test_MintBatch_HundredTokensFitInOneTransaction() public {
        string[] memory uris = _uris(150);
        vm.prank(minter);
        uint256 gasBefore = gasleft();
        nft.mintBatch(alice, uris);
        uint256 used = gasBefore - gasleft();
        assertEq(nft.balanceOf(alice), 150);
        assertEq(nft.ownerOf(150), alice);
        // ~70-byte URIs cost 4 storage slots each; with the owner slot and the events that is
        // about 119k gas per token, so 150 tokens take ~18M gas: comfortably inside a 30M block.
        assertLe(used, 20_000_000, "gas for 150 tokens");
        assertLe(used / 150, 125_000, "gas per token");
    }

    function test_MintBatch_RevertsOnEmpty() public {
        vm.expectRevert(NestNFT.EmptyBatch.selector);
        vm.prank(minter);
        nft.mintBatch(alice, new string[](0));
    }

    function test_MintBatch_RevertsForNonMinter() public {
        string[] memory uris = _uris(2);
        vm.expectRevert(_unauthorized(stranger, MINTER_ROLE));
        vm.prank(stranger);
        nft.mintBatch(alice, uris);
    }

    function test_MintBatch_RevertsToZeroAddress() public {
        string[] memory uris = _uris(2);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(0)));
        vm.prank(minter);
        nft.mintBatch(address(0), uris);
    }

    function testFuzz_MintBatch_IdsSequential(uint8 rawCount, uint8 rawPrior) public {
        uint256 count = bound(rawCount, 1, 40);
        uint256 prior = bound(rawPrior, 0, 5);
        for (uint256 i; i < prior; ++i) {
            _mint(bob, "ipfs://prior");
        }
        string[] memory uris = _uris(count);
        vm.prank(minter);
        uint256 first = nft.mintBatch(alice, uris);
        assertEq(first, prior + 1);
        assertEq(nft.nextTokenId(), prior + count + 1);
        assertEq(nft.totalMinted(), prior + count);
        assertEq(nft.balanceOf(alice), count);
        assertEq(nft.ownerOf(first), alice);
        assertEq(nft.ownerOf(first + count - 1), alice);
        assertEq(nft.tokenURI(first + count - 1), uris[count - 1]);
    }

    // ------------------------------------------------------------------ tokenURI

    function test_TokenURI_RevertsForNonexistentToken() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 1));
        nft.tokenURI(1);
    }

    function test_TokenURI_EmptyUriIsAllowed() public {
        uint256 id = _mint(alice, "");
        assertEq(nft.tokenURI(id), "");
    }

    // ------------------------------------------------------------------ default royalty

    function test_SetDefaultRoyalty_UpdatesAndEmits() public {
        vm.expectEmit(true, false, false, true, address(nft));
        emit NestNFT.DefaultRoyaltySet(bob, 1000);
        vm.prank(admin);
        nft.setDefaultRoyalty(bob, 1000);
        (address receiver, uint256 amount) = nft.royaltyInfo(42, 1 ether);
        assertEq(receiver, bob);
        assertEq(amount, 0.1 ether);
    }

    function test_SetDefaultRoyalty_ZeroBpsAllowed() public {
        vm.prank(admin);
        nft.setDefaultRoyalty(bob, 0);
        (address receiver, uint256 amount) = nft.royaltyInfo(1, 1 ether);
        assertEq(receiver, bob);
        assertEq(amount, 0);
    }

    function test_SetDefaultRoyalty_RevertsAboveCap() public {
        vm.expectRevert(abi.encodeWithSelector(NestNFT.RoyaltyTooHigh.selector, 1001, MAX_BPS));
        vm.prank(admin);
        nft.setDefaultRoyalty(bob, 1001);
    }

    function test_SetDefaultRoyalty_RevertsOnZeroReceiver() public {
        vm.expectRevert(abi.encodeWithSelector(ERC2981.ERC2981InvalidDefaultRoyaltyReceiver.selector, address(0)));
        vm.prank(admin);
        nft.setDefaultRoyalty(address(0), 100);
    }

    function test_SetDefaultRoyalty_RevertsForNonAdmin() public {
        vm.expectRevert(_unauthorized(minter, ADMIN_ROLE));
        vm.prank(minter);
        nft.setDefaultRoyalty(bob, 100);
    }

    function test_DeleteDefaultRoyalty_ClearsAndEmitsZeros() public {
        vm.expectEmit(true, false, false, true, address(nft));
        emit NestNFT.DefaultRoyaltySet(address(0), 0);
        vm.prank(admin);
        nft.deleteDefaultRoyalty();
        (address receiver, uint256 amount) = nft.royaltyInfo(1, 1 ether);
        assertEq(receiver, address(0));
        assertEq(amount, 0);
    }

    function test_DeleteDefaultRoyalty_RevertsForNonAdmin() public {
        vm.expectRevert(_unauthorized(stranger, ADMIN_ROLE));
        vm.prank(stranger);
        nft.deleteDefaultRoyalty();
    }

    // ------------------------------------------------------------------ token royalty

    function test_SetTokenRoyalty_OverridesDefaultAndEmits() public {
        uint256 id = _mint(alice, "ipfs://one");
        uint256 other = _mint(alice, "ipfs://two");
        vm.expectEmit(true, true, false, true, address(nft));
        emit NestNFT.TokenRoyaltySet(id, bob, 300);
        vm.prank(admin);
        nft.setTokenRoyalty(id, bob, 300);

        (address receiver, uint256 amount) = nft.royaltyInfo(id, 1 ether);
        assertEq(receiver, bob);
        assertEq(amount, 0.03 ether);
        (receiver, amount) = nft.royaltyInfo(other, 1 ether);
        assertEq(receiver, royaltyReceiver);
        assertEq(amount, 0.05 ether);
    }

    function test_SetTokenRoyalty_SurvivesDefaultDeletion() public {
        uint256 id = _mint(alice, "ipfs://one");
        vm.startPrank(admin);
        nft.setTokenRoyalty(id, bob, 300);
        nft.deleteDefaultRoyalty();
        vm.stopPrank();
        (address receiver, uint256 amount) = nft.royaltyInfo(id, 1 ether);
        assertEq(receiver, bob);
        assertEq(amount, 0.03 ether);
    }

    function test_SetTokenRoyalty_RevertsAboveCap() public {
        uint256 id = _mint(alice, "ipfs://one");
        vm.expectRevert(abi.encodeWithSelector(NestNFT.RoyaltyTooHigh.selector, 5000, MAX_BPS));
        vm.prank(admin);
        nft.setTokenRoyalty(id, bob, 5000);
    }

    function test_SetTokenRoyalty_RevertsOnZeroReceiver() public {
        uint256 id = _mint(alice, "ipfs://one");
        vm.expectRevert(abi.encodeWithSelector(ERC2981.ERC2981InvalidTokenRoyaltyReceiver.selector, id, address(0)));
        vm.prank(admin);
        nft.setTokenRoyalty(id, address(0), 100);
    }

    function test_SetTokenRoyalty_RevertsForNonexistentToken() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 7));
        vm.prank(admin);
        nft.setTokenRoyalty(7, bob, 100);
    }

    function test_SetTokenRoyalty_RevertsForNonAdmin() public {
        uint256 id = _mint(alice, "ipfs://one");
        vm.expectRevert(_unauthorized(alice, ADMIN_ROLE));
        vm.prank(alice);
        nft.setTokenRoyalty(id, alice, 100);
    }

    function test_ResetTokenRoyalty_FallsBackToDefaultAndEmitsZeros() public {
        vm.prank(minter);
        uint256 id = nft.mintWithRoyalty(alice, "ipfs://art", bob, 900);
        vm.expectEmit(true, true, false, true, address(nft));
        emit NestNFT.TokenRoyaltySet(id, address(0), 0);
        vm.prank(admin);
        nft.resetTokenRoyalty(id);
        (address receiver, uint256 amount) = nft.royaltyInfo(id, 1 ether);
        assertEq(receiver, royaltyReceiver);
        assertEq(amount, 0.05 ether);
    }

    function test_ResetTokenRoyalty_RevertsForNonexistentToken() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 3));
        vm.prank(admin);
        nft.resetTokenRoyalty(3);
    }

    function test_ResetTokenRoyalty_RevertsForNonAdmin() public {
        uint256 id = _mint(alice, "ipfs://one");
        vm.expectRevert(_unauthorized(minter, ADMIN_ROLE));
        vm.prank(minter);
        nft.resetTokenRoyalty(id);
    }

    // ------------------------------------------------------------------ royalty fuzz

    function testFuzz_RoyaltyInfo_DefaultMath(uint96 rawBps, uint256 rawPrice) public {
        uint96 bps = uint96(bound(rawBps, 0, MAX_BPS));
        uint256 price = bound(rawPrice, 0, type(uint256).max / MAX_BPS);
        vm.prank(admin);
        nft.setDefaultRoyalty(bob, bps);
        (address receiver, uint256 amount) = nft.royaltyInfo(1, price);
        assertEq(receiver, bob);
        assertEq(amount, price * bps / 10_000);
        assertLe(amount, price / 10, "royalty within the 10% cap");
    }

    function testFuzz_RoyaltyInfo_TokenMath(uint96 rawBps, uint256 rawPrice) public {
        uint96 bps = uint96(bound(rawBps, 0, MAX_BPS));
        uint256 price = bound(rawPrice, 0, type(uint256).max / MAX_BPS);
        vm.prank(minter);
        uint256 id = nft.mintWithRoyalty(alice, "ipfs://art", bob, bps);
        (address receiver, uint256 amount) = nft.royaltyInfo(id, price);
        assertEq(receiver, bob);
        assertEq(amount, price * bps / 10_000);
        assertLe(amount, price / 10, "royalty within the 10% cap");
    }

    function testFuzz_RoyaltyInfo_HugePriceDoesNotOverflow(uint96 rawBps, uint256 price) public {
        uint96 bps = uint96(bound(rawBps, 0, MAX_BPS));
        vm.prank(admin);
        nft.setDefaultRoyalty(bob, bps);
        (, uint256 amount) = nft.royaltyInfo(1, price);
        assertLe(amount, price / 10 + 1, "royalty within the 10% cap");
    }

    function testFuzz_SetDefaultRoyalty_CapEnforced(uint96 bps) public {
        vm.prank(admin);
        if (bps > MAX_BPS) {
            vm.expectRevert(abi.encodeWithSelector(NestNFT.RoyaltyTooHigh.selector, bps, MAX_BPS));
            nft.setDefaultRoyalty(bob, bps);
        } else {
            nft.setDefaultRoyalty(bob, bps);
            (, uint256 amount) = nft.royaltyInfo(1, 10_000);
            assertEq(amount, bps);
        }
    }

    function testFuzz_SetTokenRoyalty_CapEnforced(uint96 bps) public {
        uint256 id = _mint(alice, "ipfs://one");
        vm.prank(admin);
        if (bps > MAX_BPS) {
            vm.expectRevert(abi.encodeWithSelector(NestNFT.RoyaltyTooHigh.selector, bps, MAX_BPS));
            nft.setTokenRoyalty(id, bob, bps);
        } else {
            nft.setTokenRoyalty(id, bob, bps);
            (, uint256 amount) = nft.royaltyInfo(id, 10_000);
            assertEq(amount, bps);
        }
    }

    function testFuzz_Mint_RevertsForAnyNonMinter(address caller) public {
        vm.assume(caller != minter);
        vm.expectRevert(_unauthorized(caller, MINTER_ROLE));
        vm.prank(caller);
        nft.mint(alice, "ipfs://one");
    }

    function testFuzz_RoyaltySetters_RevertForAnyNonAdmin(address caller) public {
        vm.assume(caller != admin);
        vm.startPrank(caller);
        vm.expectRevert(_unauthorized(caller, ADMIN_ROLE));
        nft.setDefaultRoyalty(bob, 100);
        vm.expectRevert(_unauthorized(caller, ADMIN_ROLE));
        nft.deleteDefaultRoyalty();
        vm.expectRevert(_unauthorized(caller, ADMIN_ROLE));
        nft.setTokenRoyalty(1, bob, 100);
        vm.expectRevert(_unauthorized(caller, ADMIN_ROLE));
        nft.resetTokenRoyalty(1);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ ERC-721 behaviour

    function test_Transfer_ByOwnerAndApproved() public {
        uint256 id = _mint(alice, "ipfs://one");
        vm.prank(alice);
        nft.transferFrom(alice, bob, id);
        assertEq(nft.ownerOf(id), bob);

        vm.prank(bob);
        nft.approve(stranger, id);
        vm.prank(stranger);
        nft.safeTransferFrom(bob, alice, id);
        assertEq(nft.ownerOf(id), alice);
    }

    function test_Transfer_RevertsForUnapprovedCaller() public {
        uint256 id = _mint(alice, "ipfs://one");
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, stranger, id));
        vm.prank(stranger);
        nft.transferFrom(alice, stranger, id);
    }

    // ------------------------------------------------------------------ ERC-2771 context

    function test_MsgSender_FromTrustedForwarderSuffix() public {
        uint256 id = _mint(alice, "ipfs://one");
        // The trusted forwarder appends the signer: the call acts as alice.
        vm.prank(forwarder);
        (bool ok,) = address(nft).call(abi.encodePacked(abi.encodeCall(nft.transferFrom, (alice, bob, id)), alice));
        assertTrue(ok, "forwarded transfer");
        assertEq(nft.ownerOf(id), bob);
    }

    function test_MsgSender_SuffixIgnoredFromUntrustedCaller() public {
        uint256 id = _mint(alice, "ipfs://one");
        // An untrusted caller appending alice's address is still itself.
        vm.prank(stranger);
        (bool ok,) = address(nft).call(abi.encodePacked(abi.encodeCall(nft.transferFrom, (alice, bob, id)), alice));
        assertFalse(ok, "spoofed transfer must fail");
        assertEq(nft.ownerOf(id), alice);
    }

    function test_MsgSender_ForwardedRoleCheck() public {
        // A minter can mint through the forwarder; a forwarded stranger cannot.
        vm.prank(forwarder);
        (bool ok,) = address(nft).call(abi.encodePacked(abi.encodeCall(nft.mint, (alice, "ipfs://fw")), minter));
        assertTrue(ok, "forwarded mint by minter");
        assertEq(nft.ownerOf(1), alice);

        vm.prank(forwarder);
        (ok,) = address(nft).call(abi.encodePacked(abi.encodeCall(nft.mint, (alice, "ipfs://fw")), stranger));
        assertFalse(ok, "forwarded mint by stranger");
    }

    // ------------------------------------------------------------------ ERC-165

    function test_SupportsInterface() public view {
        assertTrue(nft.supportsInterface(type(IERC165).interfaceId), "ERC165");
        assertTrue(nft.supportsInterface(0x01ffc9a7), "ERC165 literal");
        assertTrue(nft.supportsInterface(type(IERC721).interfaceId), "ERC721");
        assertTrue(nft.supportsInterface(0x80ac58cd), "ERC721 literal");
        assertTrue(nft.supportsInterface(type(IERC721Metadata).interfaceId), "ERC721Metadata");
        assertTrue(nft.supportsInterface(0x5b5e139f), "ERC721Metadata literal");
        assertTrue(nft.supportsInterface(type(IERC2981).interfaceId), "ERC2981");
        assertTrue(nft.supportsInterface(0x2a55205a), "ERC2981 literal");
        assertTrue(nft.supportsInterface(type(IAccessControl).interfaceId), "AccessControl");
        assertTrue(nft.supportsInterface(0x7965db0b), "AccessControl literal");
        assertTrue(nft.supportsInterface(0x49064906), "ERC4906");
        assertFalse(nft.supportsInterface(0xffffffff), "0xffffffff");
        assertFalse(nft.supportsInterface(0xd9b67a26), "ERC1155");
    }

    // ------------------------------------------------------------------ roles

    function test_AdminCanHandOverAdminRole() public {
        address timelock = makeAddr("timelock");
        vm.startPrank(admin);
        nft.grantRole(ADMIN_ROLE, timelock);
        nft.renounceRole(ADMIN_ROLE, admin);
        vm.stopPrank();
        assertTrue(nft.hasRole(ADMIN_ROLE, timelock));
        assertFalse(nft.hasRole(ADMIN_ROLE, admin));

        vm.expectRevert(_unauthorized(admin, ADMIN_ROLE));
        vm.prank(admin);
        nft.setDefaultRoyalty(bob, 100);
        vm.prank(timelock);
        nft.setDefaultRoyalty(bob, 100);
    }
}
