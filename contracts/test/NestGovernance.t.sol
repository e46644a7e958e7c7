// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {NestTest} from "./utils/NestTest.sol";
import {SigUtils} from "./utils/SigUtils.sol";
import {NestToken} from "../src/NestToken.sol";
import {NestTimelock} from "../src/NestTimelock.sol";
import {NestGovernor} from "../src/NestGovernor.sol";
import {NestNFT} from "../src/NestNFT.sol";
import {NestForwarder} from "../src/NestForwarder.sol";
import {NestMarketplace} from "../src/NestMarketplace.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";

/// @notice End-to-end governance: NEST holders govern the marketplace and the NFT through
/// NestGovernor and the NestTimelock that holds their admin roles.
contract NestGovernanceTest is NestTest {
    uint256 internal constant SUPPLY = 100_000_000 ether;
    uint256 internal constant MIN_DELAY = 2 days;
    uint48 internal constant VOTING_DELAY = 1 days;
    uint32 internal constant VOTING_PERIOD = 1 weeks;
    uint256 internal constant THRESHOLD = 100_000 ether;
    uint256 internal constant QUORUM_PERCENT = 4;

    uint8 internal constant AGAINST = 0;
    uint8 internal constant FOR = 1;
    uint8 internal constant ABSTAIN = 2;

    NestToken internal token;
    NestTimelock internal timelock;
    NestGovernor internal governor;
    NestForwarder internal forwarder;
    NestMarketplace internal marketplace;
    NestNFT internal nft;

    address internal deployer = address(this);
    address internal treasury = makeAddr("treasury");
    address internal guardian = makeAddr("guardian");
    address internal royaltyReceiver = makeAddr("royaltyReceiver");
    address internal relayer = makeAddr("relayer");
    address internal alice;
    uint256 internal aliceKey;
    address internal bob;
    uint256 internal bobKey;
    address internal carol = makeAddr("carol");
    address internal dave = makeAddr("dave");

    function setUp() public {
        (alice, aliceKey) = makeAddrAndKey("alice");
        (bob, bobKey) = makeAddrAndKey("bob");
        vm.warp(1_700_000_000);

        // Token: the deployer distributes the fixed supply.
        token = new NestToken(deployer, SUPPLY);
        assertTrue(token.transfer(alice, 30_000_000 ether));
        assertTrue(token.transfer(bob, 20_000_000 ether));
        assertTrue(token.transfer(carol, 5_000_000 ether));
        assertTrue(token.transfer(dave, 1_000_000 ether));
        assertTrue(token.transfer(treasury, token.balanceOf(deployer))); // 44M that never votes

        // Timelock: no proposer yet, execution open to anyone, the deployer is a temporary admin.
        address[] memory executors = new address[](1);
        executors[0] = address(0);
        timelock = new NestTimelock(MIN_DELAY, new address[](0), executors, deployer);

        governor =
            new NestGovernor(IVotes(address(token)), timelock, VOTING_DELAY, VOTING_PERIOD, THRESHOLD, QUORUM_PERCENT);

        timelock.grantRole(timelock.PROPOSER_ROLE(), address(governor));
        timelock.grantRole(timelock.CANCELLER_ROLE(), address(governor));
        timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), deployer);

        // The protocol contracts are administered by the timelock.
        forwarder = new NestForwarder();
        marketplace = new NestMarketplace(address(timelock), guardian, address(forwarder), treasury, 250);
        nft = new NestNFT("Nest Art", "NART", address(timelock), deployer, address(forwarder), royaltyReceiver, 500);

        // alice delegates on-chain; bob delegates gaslessly through a relayer.
        vm.prank(alice);
        token.delegate(alice);
        uint256 expiry = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(bobKey, SigUtils.delegationDigest(address(token), bob, token.nonces(bob), expiry));
        vm.prank(relayer);
        token.delegateBySig(bob, 0, expiry, v, r, s);
        vm.prank(carol);
        token.delegate(carol);
        vm.prank(dave);
        token.delegate(dave);

        // Proposing reads votes at `clock() - 1`.
        vm.warp(block.timestamp + 1);
    }

    // ------------------------------------------------------------------ helpers

    struct Proposal {
        address[] targets;
        uint256[] values;
        bytes[] calldatas;
        string description;
        bytes32 descriptionHash;
        uint256 id;
    }

    function _single(address target, bytes memory data, string memory description)
        internal
        pure
        returns (Proposal memory p)
    {
        p.targets = new address[](1);
        p.targets[0] = target;
        p.values = new uint256[](1);
        p.calldatas = new bytes[](1);
        p.calldatas[0] = data;
        p.description = description;
        p.descriptionHash = keccak256(bytes(description));
    }

    function _propose(address proposer, Proposal memory p) internal {
        vm.prank(proposer);
        p.id = governor.propose(p.targets, p.values, p.calldatas, p.description);
        assertEq(p.id, governor.hashProposal(p.targets, p.values, p.calldatas, p.descriptionHash));
    }

    function _state(uint256 id) internal view returns (uint256) {
        return uint256(governor.state(id));
    }

    function _warpToVoting(uint256 id) internal {
        vm.warp(governor.proposalSnapshot(id) + 1);
        assertEq(_state(id), uint256(IGovernor.ProposalState.Active), "active");
    }

    function _warpPastDeadline(uint256 id) internal {
        vm.warp(governor.proposalDeadline(id) + 1);
    }

    function _queue(Proposal memory p) internal {
        governor.queue(p.targets, p.values, p.calldatas, p.descriptionHash);
        assertEq(_state(p.id), uint256(IGovernor.ProposalState.Queued), "queued");
    }

    function _execute(Proposal memory p) internal {
        vm.warp(governor.proposalEta(p.id));
        vm.prank(relayer); // anyone may execute
        governor.execute(p.targets, p.values, p.calldatas, p.descriptionHash);
        assertEq(_state(p.id), uint256(IGovernor.ProposalState.Executed), "executed");
    }

    function _castVoteBySig(uint256 id, address voter, uint256 key, uint8 support) internal {
        bytes32 digest = SigUtils.ballotDigest(address(governor), id, support, voter, governor.nonces(voter));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        vm.prank(relayer);
        governor.castVoteBySig(id, support, voter, abi.encodePacked(r, s, v));
    }

    function _stateBitmap(IGovernor.ProposalState state) internal pure returns (bytes32) {
        return bytes32(2 ** uint256(state));
    }

    // ------------------------------------------------------------------ wiring

    function test_Setup_GovernorSettings() public view {
        assertEq(governor.name(), "NestGovernor");
        assertEq(governor.version(), "1");
        assertEq(address(governor.token()), address(token));
        assertEq(governor.timelock(), address(timelock));
        assertEq(governor.votingDelay(), VOTING_DELAY);
        assertEq(governor.votingPeriod(), VOTING_PERIOD);
        assertEq(governor.proposalThreshold(), THRESHOLD);
        assertEq(governor.quorumNumerator(), QUORUM_PERCENT);
        assertEq(governor.quorum(block.timestamp - 1), SUPPLY * QUORUM_PERCENT / 100);
        assertEq(governor.clock(), uint48(block.timestamp));
        assertEq(governor.CLOCK_MODE(), "mode=timestamp");
        assertEq(governor.COUNTING_MODE(), "support=bravo&quorum=for,abstain");
        assertTrue(governor.proposalNeedsQueuing(0));
        (, string memory name, string memory version,, address verifying,,) = governor.eip712Domain();
        assertEq(name, "NestGovernor");
        assertEq(version, "1");
        assertEq(verifying, address(governor));
    }

    function test_Setup_TimelockRoles() public view {
        assertEq(timelock.getMinDelay(), MIN_DELAY);
        assertTrue(timelock.hasRole(timelock.PROPOSER_ROLE(), address(governor)), "governor proposes");
        assertTrue(timelock.hasRole(timelock.CANCELLER_ROLE(), address(governor)), "governor cancels");
        assertTrue(timelock.hasRole(timelock.EXECUTOR_ROLE(), address(0)), "open execution");
        assertFalse(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), deployer), "deployer renounced");
        assertTrue(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(timelock)), "self-administered");
        assertFalse(timelock.hasRole(timelock.PROPOSER_ROLE(), deployer));

        assertTrue(marketplace.hasRole(0x00, address(timelock)), "timelock administers the marketplace");
        assertTrue(nft.hasRole(0x00, address(timelock)), "timelock administers the NFT");
        assertFalse(nft.hasRole(0x00, deployer));
        assertEq(token.getVotes(bob), 20_000_000 ether, "bob delegated by signature");
    }

    function test_Setup_AdminCallsBypassingGovernanceRevert() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, deployer, bytes32(0))
        );
        marketplace.setFeeBps(500);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, bytes32(0))
        );
        vm.prank(alice);
        nft.setDefaultRoyalty(alice, 1000);
        // Nobody but the governor can schedule on the timelock.
        bytes32 proposerRole = timelock.PROPOSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, deployer, proposerRole)
        );
        timelock.schedule(
            address(marketplace), 0, abi.encodeCall(marketplace.setFeeBps, (0)), bytes32(0), bytes32(0), MIN_DELAY
        );
    }

    // ------------------------------------------------------------------ full cycle: marketplace fee

    function test_FullCycle_MarketplaceFeeChange() public {
        assertEq(marketplace.feeBps(), 250);
        Proposal memory p = _single(
            address(marketplace), abi.encodeCall(marketplace.setFeeBps, (500)), "NIP-1: raise the platform fee to 5%"
        );
        _propose(alice, p);
        assertEq(_state(p.id), uint256(IGovernor.ProposalState.Pending), "pending");
        assertEq(governor.proposalSnapshot(p.id), block.timestamp + VOTING_DELAY);
        assertEq(governor.proposalDeadline(p.id), block.timestamp + VOTING_DELAY + VOTING_PERIOD);

        // Voting before the snapshot is not possible.
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                p.id,
                IGovernor.ProposalState.Pending,
                _stateBitmap(IGovernor.ProposalState.Active)
            )
        );
        vm.prank(alice);
        governor.castVote(p.id, FOR);

        _warpToVoting(p.id);
        vm.prank(alice);
        governor.castVote(p.id, FOR);
        // bob votes gaslessly: a relayer submits his EIP-712 Ballot signature.
        vm.expectEmit(true, false, false, true, address(governor));
        emit IGovernor.VoteCast(bob, p.id, FOR, 20_000_000 ether, "");
        _castVoteBySig(p.id, bob, bobKey, FOR);
        vm.prank(carol);
        governor.castVoteWithReason(p.id, AGAINST, "fees high enough");
        vm.prank(dave);
        governor.castVote(p.id, ABSTAIN);

        assertTrue(governor.hasVoted(p.id, bob), "bob voted");
        assertEq(governor.nonces(bob), 1);
        (uint256 against, uint256 forVotes, uint256 abstain) = governor.proposalVotes(p.id);
        assertEq(forVotes, 50_000_000 ether);
        assertEq(against, 5_000_000 ether);
        assertEq(abstain, 1_000_000 ether);

        _warpPastDeadline(p.id);
        assertEq(_state(p.id), uint256(IGovernor.ProposalState.Succeeded), "succeeded");

        _queue(p);
        uint256 eta = governor.proposalEta(p.id);
        assertEq(eta, block.timestamp + MIN_DELAY);

        // Executing before the timelock delay fails.
        bytes32 operationId = timelock.hashOperationBatch(
            p.targets, p.values, p.calldatas, 0, bytes20(address(governor)) ^ p.descriptionHash
        );
        assertTrue(timelock.isOperationPending(operationId), "operation pending");
        vm.expectRevert(
            abi.encodeWithSelector(
                TimelockController.TimelockUnexpectedOperationState.selector,
                operationId,
                bytes32(2 ** uint256(TimelockController.OperationState.Ready))
            )
        );
        governor.execute(p.targets, p.values, p.calldatas, p.descriptionHash);

        vm.expectEmit(false, false, false, true, address(marketplace));
        emit NestMarketplace.FeeUpdated(250, 500);
        _execute(p);

        assertEq(marketplace.feeBps(), 500);
        assertTrue(timelock.isOperationDone(operationId), "operation done");
    }

    // ------------------------------------------------------------------ full cycle: NFT royalty

    function test_FullCycle_NftDefaultRoyaltyChange() public {
        address newReceiver = makeAddr("creatorFund");
        Proposal memory p = _single(
            address(nft), abi.encodeCall(nft.setDefaultRoyalty, (newReceiver, 750)), "NIP-2: royalties to the fund"
        );
        _propose(bob, p);
        _warpToVoting(p.id);
        vm.prank(alice);
        governor.castVote(p.id, FOR);
        _warpPastDeadline(p.id);
        _queue(p);

        vm.expectEmit(true, false, false, true, address(nft));
        emit NestNFT.DefaultRoyaltySet(newReceiver, 750);
        _execute(p);

        (address receiver, uint256 amount) = nft.royaltyInfo(1, 1 ether);
        assertEq(receiver, newReceiver);
        assertEq(amount, 0.075 ether);
    }

    function test_FullCycle_NftRoyaltyAboveCapFailsAtExecution() public {
        Proposal memory p =
            _single(address(nft), abi.encodeCall(nft.setDefaultRoyalty, (alice, 2000)), "NIP-3: 20% royalties");
        _propose(alice, p);
        _warpToVoting(p.id);
        vm.prank(alice);
        governor.castVote(p.id, FOR);
        _warpPastDeadline(p.id);
        _queue(p);
        vm.warp(governor.proposalEta(p.id));
        // The timelock bubbles up the NFT's own error: governance cannot exceed the cap either.
        vm.expectRevert(abi.encodeWithSelector(NestNFT.RoyaltyTooHigh.selector, uint96(2000), uint96(1000)));
        governor.execute(p.targets, p.values, p.calldatas, p.descriptionHash);
        assertEq(_state(p.id), uint256(IGovernor.ProposalState.Queued));
    }

    // ------------------------------------------------------------------ failure paths

    function test_BelowQuorum_IsDefeated() public {
        Proposal memory p =
            _single(address(marketplace), abi.encodeCall(marketplace.setFeeBps, (0)), "NIP-4: zero fees");
        _propose(dave, p);
        _warpToVoting(p.id);
        vm.prank(dave);
        governor.castVote(p.id, FOR); // 1M For, quorum is 4M
        _warpPastDeadline(p.id);

        (, uint256 forVotes,) = governor.proposalVotes(p.id);
        assertEq(forVotes, 1_000_000 ether);
        assertLt(forVotes, governor.quorum(governor.proposalSnapshot(p.id)));
        assertEq(_state(p.id), uint256(IGovernor.ProposalState.Defeated), "defeated");

        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                p.id,
                IGovernor.ProposalState.Defeated,
                _stateBitmap(IGovernor.ProposalState.Succeeded)
            )
        );
        governor.queue(p.targets, p.values, p.calldatas, p.descriptionHash);
        assertEq(marketplace.feeBps(), 250);
    }

    function test_MajorityAgainst_IsDefeated() public {
        Proposal memory p =
            _single(address(marketplace), abi.encodeCall(marketplace.setFeeBps, (1000)), "NIP-5: 10% fees");
        _propose(bob, p);
        _warpToVoting(p.id);
        _castVoteBySig(p.id, bob, bobKey, FOR); // 20M
        vm.prank(alice);
        governor.castVote(p.id, AGAINST); // 30M
        _warpPastDeadline(p.id);
        assertEq(_state(p.id), uint256(IGovernor.ProposalState.Defeated));
    }

    function test_Propose_BelowThresholdReverts() public {
        address minnow = makeAddr("minnow");
        vm.prank(carol);
        assertTrue(token.transfer(minnow, THRESHOLD - 1));
        vm.prank(minnow);
        token.delegate(minnow);
        vm.warp(block.timestamp + 1);

        Proposal memory p = _single(address(marketplace), abi.encodeCall(marketplace.setFeeBps, (0)), "x");
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorInsufficientProposerVotes.selector, minnow, THRESHOLD - 1, THRESHOLD
            )
        );
        vm.prank(minnow);
        governor.propose(p.targets, p.values, p.calldatas, p.description);
    }

    function test_CastVoteBySig_ReplayAndForgeryFail() public {
        Proposal memory p = _single(address(marketplace), abi.encodeCall(marketplace.setFeeBps, (300)), "NIP-6");
        _propose(alice, p);
        _warpToVoting(p.id);

        bytes32 digest = SigUtils.ballotDigest(address(governor), p.id, FOR, bob, 0);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(bobKey, digest);
        bytes memory signature = abi.encodePacked(r, s, v);
        governor.castVoteBySig(p.id, FOR, bob, signature);

        // Replaying the same ballot: the nonce moved on, so the signature no longer matches.
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorInvalidSignature.selector, bob));
        governor.castVoteBySig(p.id, FOR, bob, signature);

        // alice's key cannot vote for carol.
        (v, r, s) = vm.sign(aliceKey, SigUtils.ballotDigest(address(governor), p.id, AGAINST, carol, 0));
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorInvalidSignature.selector, carol));
        governor.castVoteBySig(p.id, AGAINST, carol, abi.encodePacked(r, s, v));

        // A direct second vote is rejected too.
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorAlreadyCastVote.selector, bob));
        vm.prank(bob);
        governor.castVote(p.id, AGAINST);
    }

    function test_VotesAreSnapshotted() public {
        Proposal memory p = _single(address(marketplace), abi.encodeCall(marketplace.setFeeBps, (400)), "NIP-7");
        _propose(alice, p);
        _warpToVoting(p.id);
        // alice moves her tokens after the snapshot: they do not count twice.
        vm.prank(alice);
        assertTrue(token.transfer(carol, 30_000_000 ether));
        vm.prank(alice);
        governor.castVote(p.id, FOR);
        vm.prank(carol);
        governor.castVote(p.id, AGAINST);
        (uint256 against, uint256 forVotes,) = governor.proposalVotes(p.id);
        assertEq(forVotes, 30_000_000 ether);
        assertEq(against, 5_000_000 ether);
    }

    function test_ProposerCancelsPendingProposal() public {
        Proposal memory p = _single(address(marketplace), abi.encodeCall(marketplace.setFeeBps, (100)), "NIP-8");
        _propose(alice, p);
        vm.prank(alice);
        governor.cancel(p.targets, p.values, p.calldatas, p.descriptionHash);
        assertEq(_state(p.id), uint256(IGovernor.ProposalState.Canceled));
    }
}
