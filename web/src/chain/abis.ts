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
  // Its custom errors, so a revert is decoded and explained (chain/reason.ts).
  "error ZeroAddress()",
  "error ZeroAmount()",
  "error FeeTooHigh(uint16 feeBps, uint16 maxFeeBps)",
  "error InvalidAuctionConfig(uint16 minBidIncrementBps, uint32 extensionWindow, uint32 extensionDuration)",
  "error InvalidPaymentToken(address token)",
  "error PaymentTokenNotAllowed(address token)",
  "error EthOffersNotSupported()",
  "error NotERC721(address nft)",
  "error NonexistentToken(address nft, uint256 tokenId)",
  "error NotTokenOwner(address nft, uint256 tokenId, address account)",
  "error MarketplaceNotApproved(address nft, uint256 tokenId)",
  "error EscrowFailed(address nft, uint256 tokenId)",
  "error InvalidExpiry(uint64 expiresAt)",
  "error InvalidDuration(uint64 duration)",
  "error SelfTrade(address account)",
  "error InvalidPaymentValue(uint256 expected, uint256 actual)",
  "error TokenTransferMismatch(address token, uint256 expected, uint256 received)",
  "error ListingNotActive(uint256 listingId)",
  "error ListingExpired(uint256 listingId, uint64 expiresAt)",
  "error NotListingSeller(uint256 listingId, address account)",
  "error StaleListing(uint256 listingId, address currentOwner)",
  "error PriceMismatch(uint256 expectedPrice, uint256 actualPrice)",
  "error AuctionNotActive(uint256 auctionId)",
  "error AuctionAlreadyEnded(uint256 auctionId, uint64 endTime)",
  "error AuctionNotEnded(uint256 auctionId, uint64 endTime)",
  "error AuctionHasBids(uint256 auctionId)",
  "error NotAuctionSeller(uint256 auctionId, address account)",
  "error BidTooLow(uint256 amount, uint256 minimum)",
  "error OfferNotActive(uint256 offerId)",
  "error OfferExpired(uint256 offerId, uint64 expiresAt)",
  "error NotOfferBuyer(uint256 offerId, address account)",
  "error OfferNotFunded(uint256 offerId, uint256 amount, uint256 available)",
  "error NothingToWithdraw(address account, address token)",
  "error EthTransferFailed(address account, uint256 amount)",
  "error UnauthorizedPauser(address account)",
  "error EnforcedPause()",
  // The NEST token's and the NFT's errors, which a marketplace call passes on.
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
  "error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)",
  "error ERC721InsufficientApproval(address operator, uint256 tokenId)",
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
