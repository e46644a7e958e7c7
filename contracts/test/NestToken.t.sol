// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {NestTest} from "./utils/NestTest.sol";
import {SigUtils} from "./utils/SigUtils.sol";
import {NestToken} from "../src/NestToken.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

contract NestTokenTest is NestTest {
    uint256 internal constant SUPPLY = 1_000_000_000 ether;

    NestToken internal token;

    address internal treasury;
    uint256 internal treasuryKey;
    address internal alice;
    uint256 internal aliceKey;
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal relayer = makeAddr("relayer");

    function setUp() public {
        (treasury, treasuryKey) = makeAddrAndKey("treasury");
        (alice, aliceKey) = makeAddrAndKey("alice");
        vm.warp(1_700_000_000);
        token = new NestToken(treasury, SUPPLY);
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (uint8 v, bytes32 r, bytes32 s) {
        (v, r, s) = vm.sign(key, digest);
    }

    // ------------------------------------------------------------------ basics

    function test_Metadata_AndFixedSupply() public view {
        assertEq(token.name(), "Nest");
        assertEq(token.symbol(), "NEST");
        assertEq(token.decimals(), 18);
        assertEq(token.totalSupply(), SUPPLY);
        assertEq(token.balanceOf(treasury), SUPPLY);
        // Nobody has votes until they delegate.
        assertEq(token.getVotes(treasury), 0);
    }

    function test_Eip712Domain() public view {
        (bytes1 fields, string memory name, string memory version, uint256 chainId, address verifying,,) =
            token.eip712Domain();
        assertEq(uint8(fields), 0x0f);
        assertEq(name, "Nest");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(token));
        assertEq(token.DOMAIN_SEPARATOR(), SigUtils.domainSeparator(address(token)));
    }

    function test_Constructor_RevertsAboveVotesSupplyCap() public {
        uint256 tooMuch = uint256(type(uint208).max) + 1;
        vm.expectRevert(
            abi.encodeWithSelector(ERC20Votes.ERC20ExceededSafeSupply.selector, tooMuch, uint256(type(uint208).max))
        );
        new NestToken(treasury, tooMuch);
    }

    // ------------------------------------------------------------------ clock

    function test_Clock_IsTimestamp() public {
        assertEq(token.clock(), uint48(block.timestamp));
        assertEq(token.CLOCK_MODE(), "mode=timestamp");
        vm.warp(block.timestamp + 12 days);
        assertEq(token.clock(), uint48(block.timestamp));
        // Block numbers do not move the clock.
        uint48 before = token.clock();
        vm.roll(block.number + 1000);
        assertEq(token.clock(), before);
    }

    function test_Clock_CheckpointsAreTimestamps() public {
        vm.prank(treasury);
        token.delegate(treasury);
        uint256 t0 = block.timestamp;
        vm.warp(t0 + 100);
        vm.prank(treasury);
        assertTrue(token.transfer(alice, 1000 ether));
        vm.warp(t0 + 200);

        assertEq(token.getPastVotes(treasury, t0), SUPPLY);
        assertEq(token.getPastVotes(treasury, t0 + 99), SUPPLY);
        assertEq(token.getPastVotes(treasury, t0 + 100), SUPPLY - 1000 ether);
        assertEq(token.getPastTotalSupply(t0 + 150), SUPPLY);

        uint48 current = token.clock();
        assertEq(current, t0 + 200);
        vm.expectRevert(abi.encodeWithSelector(Votes.ERC5805FutureLookup.selector, uint256(current), current));
        token.getPastVotes(treasury, current);
    }

    // ------------------------------------------------------------------ permit

    function test_Permit_WithSignature() public {
        vm.prank(treasury);
        assertTrue(token.transfer(alice, 500 ether));

        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = SigUtils.permitDigest(address(token), alice, bob, 200 ether, 0, deadline);
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, digest);

        // Anyone may submit the permit: alice never sends a transaction.
        vm.prank(relayer);
        token.permit(alice, bob, 200 ether, deadline, v, r, s);

        assertEq(token.allowance(alice, bob), 200 ether);
        assertEq(token.nonces(alice), 1);

        vm.prank(bob);
        assertTrue(token.transferFrom(alice, carol, 200 ether));
        assertEq(token.balanceOf(carol), 200 ether);
        assertEq(token.balanceOf(alice), 300 ether);
        assertEq(token.allowance(alice, bob), 0);
    }

    function test_Permit_ReplayFails() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) =
            _sign(aliceKey, SigUtils.permitDigest(address(token), alice, bob, 1 ether, 0, deadline));
        token.permit(alice, bob, 1 ether, deadline, v, r, s);

        // The nonce moved on, so the same signature now recovers to some other address.
        address recovered = ecrecover(SigUtils.permitDigest(address(token), alice, bob, 1 ether, 1, deadline), v, r, s);
        assertTrue(recovered != alice, "replayed signature must not recover to alice");
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, recovered, alice));
        token.permit(alice, bob, 1 ether, deadline, v, r, s);
    }

    function test_Permit_ExpiredFails() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) =
            _sign(aliceKey, SigUtils.permitDigest(address(token), alice, bob, 1 ether, 0, deadline));
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612ExpiredSignature.selector, deadline));
        token.permit(alice, bob, 1 ether, deadline, v, r, s);
    }

    function test_Permit_WrongSignerFails() public {
        uint256 deadline = block.timestamp + 1 hours;
        // Signed by the treasury key but claims to be alice's permit.
        (uint8 v, bytes32 r, bytes32 s) =
            _sign(treasuryKey, SigUtils.permitDigest(address(token), alice, bob, 1 ether, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, treasury, alice));
        token.permit(alice, bob, 1 ether, deadline, v, r, s);
    }

    function testFuzz_Permit(uint256 value, uint256 rawDeadlineOffset) public {
        uint256 deadline = block.timestamp + bound(rawDeadlineOffset, 0, 365 days);
        (uint8 v, bytes32 r, bytes32 s) =
            _sign(aliceKey, SigUtils.permitDigest(address(token), alice, bob, value, 0, deadline));
        token.permit(alice, bob, value, deadline, v, r, s);
        assertEq(token.allowance(alice, bob), value);
        assertEq(token.nonces(alice), 1);
    }

    // ------------------------------------------------------------------ delegateBySig

    function test_DelegateBySig_GaslessDelegation() public {
        vm.prank(treasury);
        assertTrue(token.transfer(alice, 700 ether));
        vm.deal(alice, 0);

        uint256 expiry = block.timestamp + 1 days;
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, SigUtils.delegationDigest(address(token), bob, 0, expiry));

        vm.expectEmit(true, true, true, false, address(token));
        emit IVotes.DelegateChanged(alice, address(0), bob);
        vm.expectEmit(true, false, false, true, address(token));
        emit IVotes.DelegateVotesChanged(bob, 0, 700 ether);
        vm.prank(relayer);
        token.delegateBySig(bob, 0, expiry, v, r, s);

        assertEq(token.delegates(alice), bob);
        assertEq(token.getVotes(bob), 700 ether);
        assertEq(token.getVotes(alice), 0);
        assertEq(token.nonces(alice), 1);
        assertEq(alice.balance, 0);
    }

    function test_DelegateBySig_ReplayFails() public {
        uint256 expiry = block.timestamp + 1 days;
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, SigUtils.delegationDigest(address(token), bob, 0, expiry));
        token.delegateBySig(bob, 0, expiry, v, r, s);

        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, alice, 1));
        token.delegateBySig(bob, 0, expiry, v, r, s);
    }

    function test_DelegateBySig_ExpiredFails() public {
        uint256 expiry = block.timestamp + 1 days;
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, SigUtils.delegationDigest(address(token), bob, 0, expiry));
        vm.warp(expiry + 1);
        vm.expectRevert(abi.encodeWithSelector(IVotes.VotesExpiredSignature.selector, expiry));
        token.delegateBySig(bob, 0, expiry, v, r, s);
    }

    function test_PermitAndDelegateBySig_ShareNonces() public {
        uint256 deadline = block.timestamp + 1 days;
        (uint8 v, bytes32 r, bytes32 s) =
            _sign(aliceKey, SigUtils.permitDigest(address(token), alice, bob, 1 ether, 0, deadline));
        token.permit(alice, bob, 1 ether, deadline, v, r, s);

        // A delegation signed with nonce 0 is now stale.
        (v, r, s) = _sign(aliceKey, SigUtils.delegationDigest(address(token), carol, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, alice, 1));
        token.delegateBySig(carol, 0, deadline, v, r, s);

        (v, r, s) = _sign(aliceKey, SigUtils.delegationDigest(address(token), carol, 1, deadline));
        token.delegateBySig(carol, 1, deadline, v, r, s);
        assertEq(token.delegates(alice), carol);
        assertEq(token.nonces(alice), 2);
    }

    // ------------------------------------------------------------------ votes follow transfers

    function test_Votes_FollowTransfers() public {
        vm.prank(treasury);
        assertTrue(token.transfer(alice, 1000 ether));
        vm.prank(alice);
        token.delegate(alice);
        vm.prank(bob);
        token.delegate(carol); // bob delegates to carol before holding anything
        assertEq(token.getVotes(alice), 1000 ether);
        assertEq(token.getVotes(carol), 0);

        vm.prank(alice);
        assertTrue(token.transfer(bob, 400 ether));
        assertEq(token.getVotes(alice), 600 ether);
        assertEq(token.getVotes(bob), 0);
        assertEq(token.getVotes(carol), 400 ether);

        // To an account that never delegated: the votes disappear from circulation.
        vm.prank(alice);
        assertTrue(token.transfer(makeAddr("dave"), 100 ether));
        assertEq(token.getVotes(alice), 500 ether);

        // Re-delegation moves the whole balance.
        vm.prank(alice);
        token.delegate(carol);
        assertEq(token.getVotes(alice), 0);
        assertEq(token.getVotes(carol), 900 ether);
    }

    function testFuzz_Votes_FollowTransfers(uint256 fund, uint256 amount) public {
        fund = bound(fund, 1, SUPPLY);
        amount = bound(amount, 0, fund);
        vm.prank(treasury);
        assertTrue(token.transfer(alice, fund));
        vm.prank(alice);
        token.delegate(alice);
        vm.prank(bob);
        token.delegate(bob);

        vm.prank(alice);
        assertTrue(token.transfer(bob, amount));
        assertEq(token.getVotes(alice), fund - amount);
        assertEq(token.getVotes(bob), amount);
        assertEq(token.getVotes(alice) + token.getVotes(bob), fund);
    }
}
