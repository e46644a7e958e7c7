// The few contract functions the dApp calls (human-readable ABI: small, and checked by viem).
import { parseAbi } from "viem";

export const marketplaceAbi = parseAbi([
  "function buy(uint256 listingId, uint256 expectedPrice) payable",
  "function createListing(address nft, uint256 tokenId, address paymentToken, uint256 price, uint64 expiresAt) returns (uint256)",
  "function cancelListing(uint256 listingId)",
  "function updateListingPrice(uint256 listingId, uint256 newPrice)",
  "function bid(uint256 auctionId, uint256 amount) payable",
  "function settleAuction(uint256 auctionId)",
  "function makeOffer(address nft, uint256 tokenId, address paymentToken, uint256 amount, uint64 expiresAt) returns (uint256)",
  "function cancelOffer(uint256 offerId)",
  "function acceptOffer(uint256 offerId)",
  "function withdraw(address token)",
  "function pendingWithdrawal(address account, address token) view returns (uint256)",
  "function auctionConfig() view returns (uint16 minBidIncrementBps, uint32 extensionWindow, uint32 extensionDuration)",
  "function feeBps() view returns (uint16)",
]);

export const nftAbi = parseAbi([
  "function setApprovalForAll(address operator, bool approved)",
  "function isApprovedForAll(address owner, address operator) view returns (bool)",
]);

export const erc20Abi = parseAbi([
  "function approve(address spender, uint256 amount) returns (bool)",
  "function allowance(address owner, address spender) view returns (uint256)",
  "function balanceOf(address account) view returns (uint256)",
]);

export const tokenAbi = parseAbi([
  "function nonces(address owner) view returns (uint256)",
  "function getVotes(address account) view returns (uint256)",
  "function delegates(address account) view returns (address)",
]);

export const governorAbi = parseAbi([
  "function nonces(address owner) view returns (uint256)",
  "function castVoteWithReason(uint256 proposalId, uint8 support, string reason) returns (uint256)",
  "function hasVoted(uint256 proposalId, address account) view returns (bool)",
]);

export const forwarderAbi = parseAbi(["function nonces(address owner) view returns (uint256)"]);
