// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";

/// @title NestMarketplace
/// @notice The Nest NFT marketplace: non-custodial fixed-price listings, escrowed English auctions and
/// ERC-20 offers, priced in ETH (`address(0)`) or an allow-listed ERC-20. Every sale pays the ERC-2981
/// royalty (capped at {MAX_ROYALTY_BPS}), the platform fee (to the treasury) and the seller in the same
/// transaction. ETH payouts a recipient refuses, and outbid auction bids, are credited to
/// {pendingWithdrawal} and pulled with {withdraw}.
/// @dev Accounting: `totalOwed[token]` is the sum of the escrowed highest bids of open auctions and of
/// every pending withdrawal in `token`; the contract always holds at least that much (exactly that much
/// unless someone sends tokens to it directly: it has no `receive`, so plain ETH transfers revert).
/// The marketplace owns exactly the NFTs of its open auctions.
/// Roles: DEFAULT_ADMIN_ROLE (the DAO timelock) configures and unpauses, GUARDIAN_ROLE may only pause.
/// While paused nothing new can be created, bought, bid on or accepted; cancels, settlements and
/// withdrawals keep working so funds and NFTs are never trapped.
/// Meta-transactions: every user-facing function reads the caller from {_msgSender} (ERC-2771).
contract NestMarketplace is AccessControl, Pausable, ReentrancyGuard, ERC2771Context {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ types

    /// @notice Lifecycle of a listing.
    enum ListingStatus {
        None,
        Active,
        Sold,
        Cancelled
    }

    /// @notice Lifecycle of an auction (`Settled` also covers an auction that ended without bids).
    enum AuctionStatus {
        None,
        Active,
        Settled,
        Cancelled
    }

    /// @notice Lifecycle of an offer.
    enum OfferStatus {
        None,
        Active,
        Accepted,
        Cancelled
    }

    /// @notice A fixed-price listing. The NFT stays in the seller's wallet until it is bought.
    /// @dev 5 storage slots: (seller, expiresAt, status), nft, tokenId, paymentToken, price.
    struct Listing {
        address seller;
        uint64 expiresAt; // 0 = never expires; otherwise valid while block.timestamp <= expiresAt
        ListingStatus status;
        address nft;
        uint256 tokenId;
        address paymentToken; // address(0) = ETH
        uint256 price;
    }

    /// @notice An English auction. The NFT is escrowed by the marketplace while the auction is open.
    /// @dev 7 storage slots: (seller, startTime, status), (nft, endTime), tokenId, paymentToken,
    /// reservePrice, highestBidder, highestBid.
    struct Auction {
        address seller;
        uint64 startTime;
        AuctionStatus status;
        address nft;
        uint64 endTime; // bids are accepted while block.timestamp < endTime
        uint256 tokenId;
        address paymentToken; // address(0) = ETH
        uint256 reservePrice;
        address highestBidder; // address(0) until the first bid
        uint256 highestBid;
    }

    /// @notice An ERC-20 offer on a token. The funds stay in the buyer's wallet (under an allowance to the
    /// marketplace) until the token's owner accepts.
    /// @dev 5 storage slots: (buyer, expiresAt, status), nft, tokenId, paymentToken, amount.
    struct Offer {
        address buyer;
        uint64 expiresAt; // 0 = never expires; otherwise valid while block.timestamp <= expiresAt
        OfferStatus status;
        address nft;
        uint256 tokenId;
        address paymentToken;
        uint256 amount;
    }

    /// @notice Auction parameters, changeable by the admin (applies to running auctions from then on).
    struct AuctionConfig {
        uint16 minBidIncrementBps; // a new bid must beat the highest by at least this share
        uint32 extensionWindow; // a bid placed less than this many seconds before the end extends it
        uint32 extensionDuration; // ... to block.timestamp + extensionDuration
    }

    /// @dev Everything the payout step of a sale needs (a struct keeps the stack shallow).
    struct SaleTerms {
        uint8 kind;
        uint256 refId;
        address nft;
        uint256 tokenId;
        address seller;
        address buyer;
        address paymentToken;
        uint256 price;
        address payer; // the buyer for listings/offers, address(this) (escrow) for auctions
    }

    // ------------------------------------------------------------------ constants

    /// @notice Role that may pause the marketplace (and nothing else).
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @notice Highest platform fee the admin can set, in basis points (1000 = 10%).
    uint16 public constant MAX_FEE_BPS = 1000;

    /// @notice Highest royalty paid on a sale, in basis points of the price (1000 = 10%); larger
    /// ERC-2981 royalties are capped to it.
    uint16 public constant MAX_ROYALTY_BPS = 1000;

    /// @notice The basis-point denominator (100%).
    uint16 public constant BPS = 10_000;

    /// @notice Longest auction that can be created, in seconds.
    uint64 public constant MAX_AUCTION_DURATION = 365 days;

    /// @notice Largest anti-sniping window or extension the admin can set, in seconds.
    uint32 public constant MAX_EXTENSION = 1 days;

    /// @dev `Sale.kind` values.
    uint8 private constant KIND_LISTING = 0;
    uint8 private constant KIND_AUCTION = 1;
    uint8 private constant KIND_OFFER = 2;

    /// @dev Gas forwarded with an in-sale ETH payout. Enough for contract wallets; a recipient that needs
    /// more (or rejects ETH) is credited instead and withdraws with all the gas it wants.
    uint256 private constant ETH_PAYOUT_GAS = 50_000;

    // ------------------------------------------------------------------ storage

    /// @notice Platform fee in basis points of every sale price.
    uint16 public feeBps;

    /// @notice Receiver of the platform fee.
    address public treasury;

    /// @notice Current auction parameters: `(minBidIncrementBps, extensionWindow, extensionDuration)`.
    AuctionConfig public auctionConfig;

    /// @notice The id the next listing gets (ids start at 1).
    uint256 public nextListingId = 1;

    /// @notice The id the next auction gets (ids start at 1).
    uint256 public nextAuctionId = 1;

    /// @notice The id the next offer gets (ids start at 1).
    uint256 public nextOfferId = 1;

    /// @notice Listings by id.
    mapping(uint256 listingId => Listing) public listings;

    /// @notice Auctions by id.
    mapping(uint256 auctionId => Auction) public auctions;

    /// @notice Offers by id.
    mapping(uint256 offerId => Offer) public offers;

    /// @notice Amount of `token` (address(0) = ETH) that `account` can pull with {withdraw}.
    mapping(address account => mapping(address token => uint256)) public pendingWithdrawal;

    /// @notice Everything the marketplace owes in `token`: escrowed highest bids of open auctions plus
    /// all pending withdrawals. The contract's balance of `token` is never below it.
    mapping(address token => uint256) public totalOwed;

    /// @dev ERC-20 allow-list (ETH is always allowed).
    mapping(address token => bool) private _allowedPaymentTokens;

    // ------------------------------------------------------------------ events

    /// @notice A listing was created.
    /// @param listingId The new listing's id.
    /// @param seller The seller (owner of the token).
    /// @param nft The ERC-721 contract.
    /// @param tokenId The token id.
    /// @param paymentToken The payment token (address(0) = ETH).
    /// @param price The price.
    /// @param expiresAt The expiry timestamp (0 = never).
    event ListingCreated(
        uint256 indexed listingId,
        address indexed seller,
        address indexed nft,
        uint256 tokenId,
        address paymentToken,
        uint256 price,
        uint64 expiresAt
    );

    /// @notice A listing's price changed.
    /// @param listingId The listing id.
    /// @param oldPrice The previous price.
    /// @param newPrice The new price.
    event ListingPriceUpdated(uint256 indexed listingId, uint256 oldPrice, uint256 newPrice);

    /// @notice A listing was cancelled by its seller.
    /// @param listingId The listing id.
    event ListingCancelled(uint256 indexed listingId);

    /// @notice A listing was bought (followed by a {Sale} event with the split).
    /// @param listingId The listing id.
    /// @param buyer The buyer.
    /// @param price The price paid.
    event ListingSold(uint256 indexed listingId, address indexed buyer, uint256 price);

    /// @notice An auction was created and its NFT escrowed.
    /// @param auctionId The new auction's id.
    /// @param seller The seller.
    /// @param nft The ERC-721 contract.
    /// @param tokenId The token id.
    /// @param paymentToken The payment token (address(0) = ETH).
    /// @param reservePrice The minimum first bid.
    /// @param startTime The creation timestamp.
    /// @param endTime The initial end timestamp.
    event AuctionCreated(
        uint256 indexed auctionId,
        address indexed seller,
        address indexed nft,
        uint256 tokenId,
        address paymentToken,
        uint256 reservePrice,
        uint64 startTime,
        uint64 endTime
    );

    /// @notice A bid became the highest bid.
    /// @param auctionId The auction id.
    /// @param bidder The new highest bidder.
    /// @param amount The new highest bid.
    /// @param previousBidder The outbid bidder (address(0) for the first bid), credited with a refund.
    /// @param previousAmount The outbid amount (0 for the first bid).
    /// @param endTime The auction's end after this bid (extended when the bid was in the window).
    event BidPlaced(
        uint256 indexed auctionId,
        address indexed bidder,
        uint256 amount,
        address previousBidder,
        uint256 previousAmount,
        uint64 endTime
    );

    /// @notice A late bid extended the auction (anti-sniping).
    /// @param auctionId The auction id.
    /// @param newEndTime The new end timestamp.
    event AuctionExtended(uint256 indexed auctionId, uint64 newEndTime);

    /// @notice An auction was settled (followed by a {Sale} event when there was a winner).
    /// @param auctionId The auction id.
    /// @param winner The winner (address(0) when there was no bid and the NFT went back to the seller).
    /// @param amount The winning bid (0 when there was no bid).
    event AuctionSettled(uint256 indexed auctionId, address indexed winner, uint256 amount);

    /// @notice An auction without bids was cancelled by its seller and the NFT returned.
    /// @param auctionId The auction id.
    event AuctionCancelled(uint256 indexed auctionId);

    /// @notice An offer was made.
    /// @param offerId The new offer's id.
    /// @param buyer The buyer.
    /// @param nft The ERC-721 contract.
    /// @param tokenId The token id.
    /// @param paymentToken The ERC-20 the offer is in.
    /// @param amount The offered amount.
    /// @param expiresAt The expiry timestamp (0 = never).
    event OfferCreated(
        uint256 indexed offerId,
        address indexed buyer,
        address indexed nft,
        uint256 tokenId,
        address paymentToken,
        uint256 amount,
        uint64 expiresAt
    );

    /// @notice An offer was cancelled by its buyer.
    /// @param offerId The offer id.
    event OfferCancelled(uint256 indexed offerId);

    /// @notice An offer was accepted (followed by a {Sale} event with the split).
    /// @param offerId The offer id.
    /// @param seller The token's owner who accepted.
    event OfferAccepted(uint256 indexed offerId, address indexed seller);

    /// @notice A sale happened and was paid out.
    /// @param kind 0 = listing, 1 = auction, 2 = offer.
    /// @param refId The listing, auction or offer id.
    /// @param nft The ERC-721 contract.
    /// @param tokenId The token id.
    /// @param seller The seller.
    /// @param buyer The buyer.
    /// @param paymentToken The payment token (address(0) = ETH).
    /// @param price The full price.
    /// @param fee The platform fee (to the treasury).
    /// @param royaltyReceiver The royalty receiver (address(0) when no royalty was paid).
    /// @param royalty The royalty paid (capped at {MAX_ROYALTY_BPS} of the price).
    event Sale(
        uint8 indexed kind,
        uint256 indexed refId,
        address indexed nft,
        uint256 tokenId,
        address seller,
        address buyer,
        address paymentToken,
        uint256 price,
        uint256 fee,
        address royaltyReceiver,
        uint256 royalty
    );

    /// @notice `amount` of `token` was credited to `account`'s pending withdrawal (outbid refund or a
    /// refused ETH payout).
    /// @param account The credited account.
    /// @param token The token (address(0) = ETH).
    /// @param amount The credited amount.
    event PaymentCredited(address indexed account, address indexed token, uint256 amount);

    /// @notice `account` withdrew its pending `amount` of `token`.
    /// @param account The account.
    /// @param token The token (address(0) = ETH).
    /// @param amount The amount paid out.
    event Withdrawn(address indexed account, address indexed token, uint256 amount);

    /// @notice The platform fee changed.
    /// @param oldFeeBps The previous fee.
    /// @param newFeeBps The new fee.
    event FeeUpdated(uint16 oldFeeBps, uint16 newFeeBps);

    /// @notice The treasury changed.
    /// @param oldTreasury The previous treasury.
    /// @param newTreasury The new treasury.
    event TreasuryUpdated(address oldTreasury, address newTreasury);

    /// @notice An ERC-20 was added to or removed from the payment allow-list.
    /// @param token The ERC-20.
    /// @param allowed Whether it is allowed now.
    event PaymentTokenUpdated(address indexed token, bool allowed);

    /// @notice The auction parameters changed.
    /// @param minBidIncrementBps The minimum bid increment in basis points.
    /// @param extensionWindow The anti-sniping window in seconds.
    /// @param extensionDuration The anti-sniping extension in seconds.
    event AuctionConfigUpdated(uint16 minBidIncrementBps, uint32 extensionWindow, uint32 extensionDuration);

    // ------------------------------------------------------------------ errors

    /// @notice A required address argument was zero.
    error ZeroAddress();

    /// @notice A price, reserve, bid or offer amount of zero.
    error ZeroAmount();

    /// @notice The fee exceeds {MAX_FEE_BPS}.
    /// @param feeBps The requested fee.
    /// @param maxFeeBps The cap.
    error FeeTooHigh(uint16 feeBps, uint16 maxFeeBps);

    /// @notice Auction parameters out of range (increment above {BPS}, window or extension above {MAX_EXTENSION}).
    /// @param minBidIncrementBps The requested increment.
    /// @param extensionWindow The requested window.
    /// @param extensionDuration The requested extension.
    error InvalidAuctionConfig(uint16 minBidIncrementBps, uint32 extensionWindow, uint32 extensionDuration);

    /// @notice `token` cannot be put on the allow-list (zero address, or no contract code when allowing).
    /// @param token The token.
    error InvalidPaymentToken(address token);

    /// @notice `token` is not an allowed payment token.
    /// @param token The token.
    error PaymentTokenNotAllowed(address token);

    /// @notice Offers must be in an ERC-20 (ETH cannot be held under an allowance).
    error EthOffersNotSupported();

    /// @notice `nft` does not report ERC-721 support through ERC-165.
    /// @param nft The contract.
    error NotERC721(address nft);

    /// @notice The token does not exist.
    /// @param nft The ERC-721 contract.
    /// @param tokenId The token id.
    error NonexistentToken(address nft, uint256 tokenId);

    /// @notice `account` does not own the token.
    /// @param nft The ERC-721 contract.
    /// @param tokenId The token id.
    /// @param account The account that was expected to own it.
    error NotTokenOwner(address nft, uint256 tokenId, address account);

    /// @notice The marketplace is not approved (`approve` or `setApprovalForAll`) for the token.
    /// @param nft The ERC-721 contract.
    /// @param tokenId The token id.
    error MarketplaceNotApproved(address nft, uint256 tokenId);

    /// @notice The token did not arrive in escrow.
    /// @param nft The ERC-721 contract.
    /// @param tokenId The token id.
    error EscrowFailed(address nft, uint256 tokenId);

    /// @notice A creation expiry that is not in the future (0 means "never expires").
    /// @param expiresAt The requested expiry.
    error InvalidExpiry(uint64 expiresAt);

    /// @notice An auction duration of zero or above {MAX_AUCTION_DURATION}.
    /// @param duration The requested duration.
    error InvalidDuration(uint64 duration);

    /// @notice Buyer and seller would be the same account.
    /// @param account The account.
    error SelfTrade(address account);

    /// @notice The ETH sent does not match what the call requires.
    /// @param expected The required `msg.value`.
    /// @param actual The `msg.value` sent.
    error InvalidPaymentValue(uint256 expected, uint256 actual);

    /// @notice The ERC-20 moved a different amount than requested (fee-on-transfer tokens are not supported).
    /// @param token The token.
    /// @param expected The requested amount.
    /// @param received The amount that arrived.
    error TokenTransferMismatch(address token, uint256 expected, uint256 received);

    /// @notice The listing does not exist or is no longer active.
    /// @param listingId The listing id.
    error ListingNotActive(uint256 listingId);

    /// @notice The listing expired.
    /// @param listingId The listing id.
    /// @param expiresAt Its expiry.
    error ListingExpired(uint256 listingId, uint64 expiresAt);

    /// @notice Only the listing's seller may do this.
    /// @param listingId The listing id.
    /// @param account The caller.
    error NotListingSeller(uint256 listingId, address account);

    /// @notice The listing is stale: its seller no longer owns the token.
    /// @param listingId The listing id.
    /// @param currentOwner The token's current owner (address(0) if it no longer exists).
    error StaleListing(uint256 listingId, address currentOwner);

    /// @notice The listing's price differs from the price the buyer expected.
    /// @param expectedPrice The price the buyer agreed to.
    /// @param actualPrice The listing's current price.
    error PriceMismatch(uint256 expectedPrice, uint256 actualPrice);

    /// @notice The auction does not exist or is no longer active.
    /// @param auctionId The auction id.
    error AuctionNotActive(uint256 auctionId);

    /// @notice The auction has ended: no more bids.
    /// @param auctionId The auction id.
    /// @param endTime Its end.
    error AuctionAlreadyEnded(uint256 auctionId, uint64 endTime);

    /// @notice The auction has not ended yet: it cannot be settled.
    /// @param auctionId The auction id.
    /// @param endTime Its end.
    error AuctionNotEnded(uint256 auctionId, uint64 endTime);

    /// @notice The auction has a bid: it can no longer be cancelled.
    /// @param auctionId The auction id.
    error AuctionHasBids(uint256 auctionId);

    /// @notice Only the auction's seller may do this.
    /// @param auctionId The auction id.
    /// @param account The caller.
    error NotAuctionSeller(uint256 auctionId, address account);

    /// @notice The bid is below the reserve (first bid) or the minimum increment over the highest bid.
    /// @param amount The bid.
    /// @param minimum The smallest acceptable bid.
    error BidTooLow(uint256 amount, uint256 minimum);

    /// @notice The offer does not exist or is no longer active.
    /// @param offerId The offer id.
    error OfferNotActive(uint256 offerId);

    /// @notice The offer expired.
    /// @param offerId The offer id.
    /// @param expiresAt Its expiry.
    error OfferExpired(uint256 offerId, uint64 expiresAt);

    /// @notice Only the offer's buyer may do this.
    /// @param offerId The offer id.
    /// @param account The caller.
    error NotOfferBuyer(uint256 offerId, address account);

    /// @notice The buyer's balance or allowance no longer covers the offer.
    /// @param offerId The offer id.
    /// @param amount The offered amount.
    /// @param available min(balance, allowance to the marketplace).
    error OfferNotFunded(uint256 offerId, uint256 amount, uint256 available);

    /// @notice The caller has nothing to withdraw in `token`.
    /// @param account The caller.
    /// @param token The token.
    error NothingToWithdraw(address account, address token);

    /// @notice The ETH withdrawal was refused by the recipient.
    /// @param account The recipient.
    /// @param amount The amount (still pending).
    error EthTransferFailed(address account, uint256 amount);

    /// @notice Only a guardian or the admin may pause.
    /// @param account The caller.
    error UnauthorizedPauser(address account);

    // ------------------------------------------------------------------ constructor

    /// @notice Deploys the marketplace.
    /// @param admin Gets DEFAULT_ADMIN_ROLE (the timelock in deployment); must not be zero.
    /// @param guardian Gets GUARDIAN_ROLE (skipped when zero).
    /// @param trustedForwarder The ERC-2771 forwarder (NestForwarder); zero disables meta-transactions.
    /// @param treasury_ Receiver of the platform fee; must not be zero.
    /// @param feeBps_ The platform fee in basis points, at most {MAX_FEE_BPS}.
    constructor(address admin, address guardian, address trustedForwarder, address treasury_, uint16 feeBps_)
        ERC2771Context(trustedForwarder)
    {
        if (admin == address(0) || treasury_ == address(0)) revert ZeroAddress();
        if (feeBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeBps_, MAX_FEE_BPS);

        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (guardian != address(0)) _grantRole(GUARDIAN_ROLE, guardian);

        treasury = treasury_;
        feeBps = feeBps_;
        auctionConfig = AuctionConfig({minBidIncrementBps: 500, extensionWindow: 600, extensionDuration: 600});

        emit TreasuryUpdated(address(0), treasury_);
        emit FeeUpdated(0, feeBps_);
        emit AuctionConfigUpdated(500, 600, 600);
    }

    // ------------------------------------------------------------------ admin

    /// @notice Sets the platform fee (DEFAULT_ADMIN_ROLE).
    /// @param newFeeBps The new fee in basis points, at most {MAX_FEE_BPS}.
    function setFeeBps(uint16 newFeeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newFeeBps > MAX_FEE_BPS) revert FeeTooHigh(newFeeBps, MAX_FEE_BPS);
        uint16 old = feeBps;
        feeBps = newFeeBps;
        emit FeeUpdated(old, newFeeBps);
    }

    /// @notice Sets the fee receiver (DEFAULT_ADMIN_ROLE).
    /// @param newTreasury The new treasury; must not be zero.
    function setTreasury(address newTreasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newTreasury == address(0)) revert ZeroAddress();
        address old = treasury;
        treasury = newTreasury;
        emit TreasuryUpdated(old, newTreasury);
    }

    /// @notice Adds an ERC-20 to, or removes it from, the payment allow-list (DEFAULT_ADMIN_ROLE).
    /// Removing a token blocks new listings, auctions, offers, buys, bids and accepts in it; cancels,
    /// settlements and withdrawals in it keep working.
    /// @dev Only plain ERC-20s belong here: fee-on-transfer or rebasing tokens break the accounting.
    /// @param token The ERC-20 (not zero: ETH is always allowed; must have code to be allowed).
    /// @param allowed Whether the token is allowed.
    function setPaymentToken(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token == address(0) || (allowed && token.code.length == 0)) revert InvalidPaymentToken(token);
        _allowedPaymentTokens[token] = allowed;
        emit PaymentTokenUpdated(token, allowed);
    }

    /// @notice Sets the auction parameters (DEFAULT_ADMIN_ROLE). They apply to running auctions too.
    /// @param minBidIncrementBps Minimum increment of a new bid over the highest, in basis points (at most {BPS}).
    /// @param extensionWindow A bid placed less than this many seconds before the end extends the auction
    /// (at most {MAX_EXTENSION}; 0 disables anti-sniping).
    /// @param extensionDuration The extended end is `block.timestamp + extensionDuration` (at most {MAX_EXTENSION}).
    function setAuctionConfig(uint16 minBidIncrementBps, uint32 extensionWindow, uint32 extensionDuration)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (minBidIncrementBps > BPS || extensionWindow > MAX_EXTENSION || extensionDuration > MAX_EXTENSION) {
            revert InvalidAuctionConfig(minBidIncrementBps, extensionWindow, extensionDuration);
        }
        auctionConfig = AuctionConfig(minBidIncrementBps, extensionWindow, extensionDuration);
        emit AuctionConfigUpdated(minBidIncrementBps, extensionWindow, extensionDuration);
    }

    /// @notice Pauses creating, buying, bidding and accepting (GUARDIAN_ROLE or DEFAULT_ADMIN_ROLE).
    function pause() external {
        address sender = _msgSender();
        if (!hasRole(GUARDIAN_ROLE, sender) && !hasRole(DEFAULT_ADMIN_ROLE, sender)) {
            revert UnauthorizedPauser(sender);
        }
        _pause();
    }

    /// @notice Lifts the pause (DEFAULT_ADMIN_ROLE only; a guardian cannot unpause).
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ views

    /// @notice Whether `token` can be used for payments (ETH, `address(0)`, always can).
    /// @param token The token.
    /// @return allowed True for ETH and allow-listed ERC-20s.
    function isPaymentTokenAllowed(address token) public view returns (bool allowed) {
        return token == address(0) || _allowedPaymentTokens[token];
    }

    // ------------------------------------------------------------------ listings

    /// @notice Lists a token you own at a fixed price. The token stays in your wallet; approve the
    /// marketplace for it (or for all) first.
    /// @param nft The ERC-721 contract.
    /// @param tokenId The token id.
    /// @param paymentToken address(0) for ETH or an allow-listed ERC-20.
    /// @param price The price (non-zero).
    /// @param expiresAt Expiry timestamp in the future, or 0 for none.
    /// @return listingId The new listing's id.
    function createListing(address nft, uint256 tokenId, address paymentToken, uint256 price, uint64 expiresAt)
        external
        whenNotPaused
        returns (uint256 listingId)
    {
        address seller = _msgSender();
        _requirePaymentToken(paymentToken);
        if (price == 0) revert ZeroAmount();
        _requireFutureExpiry(expiresAt);
        _requireERC721(nft);
        _requireOwnerAndApproval(nft, tokenId, seller);

        listingId = nextListingId++;
        listings[listingId] = Listing({
            seller: seller,
            expiresAt: expiresAt,
            status: ListingStatus.Active,
            nft: nft,
            tokenId: tokenId,
            paymentToken: paymentToken,
            price: price
        });
        emit ListingCreated(listingId, seller, nft, tokenId, paymentToken, price, expiresAt);
    }

    /// @notice Changes the price of your active, unexpired listing.
    /// @param listingId The listing id.
    /// @param newPrice The new price (non-zero).
    function updateListingPrice(uint256 listingId, uint256 newPrice) external whenNotPaused {
        Listing storage listing = listings[listingId];
        if (listing.status != ListingStatus.Active) revert ListingNotActive(listingId);
        address sender = _msgSender();
        if (listing.seller != sender) revert NotListingSeller(listingId, sender);
        if (_isExpired(listing.expiresAt)) revert ListingExpired(listingId, listing.expiresAt);
        if (newPrice == 0) revert ZeroAmount();

        uint256 oldPrice = listing.price;
        listing.price = newPrice;
        emit ListingPriceUpdated(listingId, oldPrice, newPrice);
    }

    /// @notice Cancels your active listing (also while paused or after expiry).
    /// @param listingId The listing id.
    function cancelListing(uint256 listingId) external {
        Listing storage listing = listings[listingId];
        if (listing.status != ListingStatus.Active) revert ListingNotActive(listingId);
        address sender = _msgSender();
        if (listing.seller != sender) revert NotListingSeller(listingId, sender);

        listing.status = ListingStatus.Cancelled;
        emit ListingCancelled(listingId);
    }

    /// @notice Buys a listed token. ETH: send exactly the price; ERC-20: the price is pulled from you (approve
    /// the marketplace first). The royalty, fee and seller are paid in this transaction.
    /// @param listingId The listing id.
    /// @param expectedPrice The price you agree to pay; the call reverts if the listing's price differs.
    function buy(uint256 listingId, uint256 expectedPrice) external payable nonReentrant whenNotPaused {
        Listing storage listing = listings[listingId];
        if (listing.status != ListingStatus.Active) revert ListingNotActive(listingId);
        if (_isExpired(listing.expiresAt)) revert ListingExpired(listingId, listing.expiresAt);
        uint256 price = listing.price;
        if (price != expectedPrice) revert PriceMismatch(expectedPrice, price);

        address buyer = _msgSender();
        address seller = listing.seller;
        address nft = listing.nft;
        uint256 tokenId = listing.tokenId;
        address paymentToken = listing.paymentToken;
        if (buyer == seller) revert SelfTrade(buyer);
        _requirePaymentToken(paymentToken);
        _requireValue(paymentToken, price);

        address owner = _ownerOf(nft, tokenId);
        if (owner != seller) revert StaleListing(listingId, owner);
        if (!_isApproved(nft, tokenId, seller)) revert MarketplaceNotApproved(nft, tokenId);

        listing.status = ListingStatus.Sold;
        emit ListingSold(listingId, buyer, price);

        _executeSale(
            SaleTerms({
                kind: KIND_LISTING,
                refId: listingId,
                nft: nft,
                tokenId: tokenId,
                seller: seller,
                buyer: buyer,
                paymentToken: paymentToken,
                price: price,
                payer: buyer
            }),
            true
        );
    }

    // ------------------------------------------------------------------ auctions

    /// @notice Starts an English auction of a token you own; the token is escrowed by the marketplace
    /// (approve it first). It starts now and ends `duration` seconds later (later if extended).
    /// @param nft The ERC-721 contract.
    /// @param tokenId The token id.
    /// @param paymentToken address(0) for ETH or an allow-listed ERC-20.
    /// @param reservePrice The minimum first bid (0 means any non-zero bid).
    /// @param duration Seconds until the end, in [1, {MAX_AUCTION_DURATION}].
    /// @return auctionId The new auction's id.
    function createAuction(address nft, uint256 tokenId, address paymentToken, uint256 reservePrice, uint64 duration)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 auctionId)
    {
        address seller = _msgSender();
        _requirePaymentToken(paymentToken);
        if (duration == 0 || duration > MAX_AUCTION_DURATION) revert InvalidDuration(duration);
        _requireERC721(nft);
        _requireOwnerAndApproval(nft, tokenId, seller);

        uint64 startTime = _now();
        uint64 endTime = startTime + duration;
        auctionId = nextAuctionId++;
        auctions[auctionId] = Auction({
            seller: seller,
            startTime: startTime,
            status: AuctionStatus.Active,
            nft: nft,
            endTime: endTime,
            tokenId: tokenId,
            paymentToken: paymentToken,
            reservePrice: reservePrice,
            highestBidder: address(0),
            highestBid: 0
        });
        emit AuctionCreated(auctionId, seller, nft, tokenId, paymentToken, reservePrice, startTime, endTime);

        IERC721(nft).transferFrom(seller, address(this), tokenId);
        if (_ownerOf(nft, tokenId) != address(this)) revert EscrowFailed(nft, tokenId);
    }

    /// @notice Bids on an open auction. ETH: send exactly `amount`; ERC-20: `amount` is pulled from you
    /// (approve the marketplace first). The first bid must reach the reserve, later bids must beat the
    /// highest by the minimum increment. The outbid bidder is credited a refund to {withdraw}. A bid in the
    /// last `extensionWindow` seconds moves the end to `block.timestamp + extensionDuration`.
    /// @param auctionId The auction id.
    /// @param amount The bid.
    function bid(uint256 auctionId, uint256 amount) external payable nonReentrant whenNotPaused {
        Auction storage auction = auctions[auctionId];
        if (auction.status != AuctionStatus.Active) revert AuctionNotActive(auctionId);
        uint64 endTime = auction.endTime;
        if (_now() >= endTime) revert AuctionAlreadyEnded(auctionId, endTime);

        address bidder = _msgSender();
        if (bidder == auction.seller) revert SelfTrade(bidder);
        address paymentToken = auction.paymentToken;
        _requirePaymentToken(paymentToken);

        address previousBidder = auction.highestBidder;
        uint256 previousAmount = auction.highestBid;
        AuctionConfig memory config = auctionConfig;
        uint256 minimum = _minimumBid(auction.reservePrice, previousBidder, previousAmount, config.minBidIncrementBps);
        if (amount < minimum) revert BidTooLow(amount, minimum);
        _requireValue(paymentToken, amount);

        // Effects: the new bid is escrowed, the previous one becomes a pull refund.
        auction.highestBidder = bidder;
        auction.highestBid = amount;
        totalOwed[paymentToken] += amount;
        if (previousBidder != address(0)) {
            totalOwed[paymentToken] -= previousAmount;
            _credit(previousBidder, paymentToken, previousAmount);
        }

        bool extended;
        if (uint256(_now()) + config.extensionWindow > endTime) {
            uint64 newEndTime = _now() + config.extensionDuration;
            if (newEndTime > endTime) {
                endTime = newEndTime;
                auction.endTime = newEndTime;
                extended = true;
            }
        }
        emit BidPlaced(auctionId, bidder, amount, previousBidder, previousAmount, endTime);
        if (extended) emit AuctionExtended(auctionId, endTime);

        // Interaction: pull ERC-20 bids into escrow (ETH arrived with the call).
        if (paymentToken != address(0)) _pullExact(paymentToken, bidder, amount);
    }

    /// @notice Settles an auction after its end (anyone may call, also while paused). With a bid: the NFT
    /// goes to the winner and the bid is split between royalty, fee and seller. Without: the NFT goes back
    /// to the seller.
    /// @dev The NFT leaves escrow with `transferFrom` (no receiver hook) so a bidder contract cannot block
    /// settlement; bidders must be able to hold ERC-721s.
    /// @param auctionId The auction id.
    function settleAuction(uint256 auctionId) external nonReentrant {
        Auction storage auction = auctions[auctionId];
        if (auction.status != AuctionStatus.Active) revert AuctionNotActive(auctionId);
        if (_now() < auction.endTime) revert AuctionNotEnded(auctionId, auction.endTime);

        auction.status = AuctionStatus.Settled;
        address winner = auction.highestBidder;
        uint256 amount = auction.highestBid;
        address seller = auction.seller;
        address nft = auction.nft;
        uint256 tokenId = auction.tokenId;
        emit AuctionSettled(auctionId, winner, amount);

        if (winner == address(0)) {
            IERC721(nft).transferFrom(address(this), seller, tokenId);
            return;
        }

        address paymentToken = auction.paymentToken;
        totalOwed[paymentToken] -= amount; // released from escrow; refused payouts are credited back
        _executeSale(
            SaleTerms({
                kind: KIND_AUCTION,
                refId: auctionId,
                nft: nft,
                tokenId: tokenId,
                seller: seller,
                buyer: winner,
                paymentToken: paymentToken,
                price: amount,
                payer: address(this)
            }),
            false
        );
    }

    /// @notice Cancels your auction before its first bid (also while paused) and returns the NFT.
    /// @param auctionId The auction id.
    function cancelAuction(uint256 auctionId) external nonReentrant {
        Auction storage auction = auctions[auctionId];
        if (auction.status != AuctionStatus.Active) revert AuctionNotActive(auctionId);
        address sender = _msgSender();
        address seller = auction.seller;
        if (seller != sender) revert NotAuctionSeller(auctionId, sender);
        if (auction.highestBidder != address(0)) revert AuctionHasBids(auctionId);

        auction.status = AuctionStatus.Cancelled;
        emit AuctionCancelled(auctionId);

        IERC721(auction.nft).transferFrom(address(this), seller, auction.tokenId);
    }

    // ------------------------------------------------------------------ offers

    /// @notice Offers an ERC-20 amount for a token. The funds stay in your wallet: approve the marketplace
    /// for at least `amount` and keep the balance until the offer is accepted, cancelled or expired.
    /// @param nft The ERC-721 contract.
    /// @param tokenId The token id (must exist and not be yours).
    /// @param paymentToken An allow-listed ERC-20 (ETH offers are not supported).
    /// @param amount The offered amount (non-zero).
    /// @param expiresAt Expiry timestamp in the future, or 0 for none.
    /// @return offerId The new offer's id.
    function makeOffer(address nft, uint256 tokenId, address paymentToken, uint256 amount, uint64 expiresAt)
        external
        whenNotPaused
        returns (uint256 offerId)
    {
        address buyer = _msgSender();
        if (paymentToken == address(0)) revert EthOffersNotSupported();
        _requirePaymentToken(paymentToken);
        if (amount == 0) revert ZeroAmount();
        _requireFutureExpiry(expiresAt);
        _requireERC721(nft);
        address owner = _ownerOf(nft, tokenId);
        if (owner == address(0)) revert NonexistentToken(nft, tokenId);
        if (owner == buyer) revert SelfTrade(buyer);

        offerId = nextOfferId++;
        offers[offerId] = Offer({
            buyer: buyer,
            expiresAt: expiresAt,
            status: OfferStatus.Active,
            nft: nft,
            tokenId: tokenId,
            paymentToken: paymentToken,
            amount: amount
        });
        emit OfferCreated(offerId, buyer, nft, tokenId, paymentToken, amount, expiresAt);
    }

    /// @notice Cancels your active offer (also while paused or after expiry).
    /// @param offerId The offer id.
    function cancelOffer(uint256 offerId) external {
        Offer storage offer = offers[offerId];
        if (offer.status != OfferStatus.Active) revert OfferNotActive(offerId);
        address sender = _msgSender();
        if (offer.buyer != sender) revert NotOfferBuyer(offerId, sender);

        offer.status = OfferStatus.Cancelled;
        emit OfferCancelled(offerId);
    }

    /// @notice Accepts an offer on a token you own (the marketplace must be approved for it). The amount is
    /// pulled from the buyer and split between royalty, fee and you; the token goes to the buyer.
    /// @param offerId The offer id.
    function acceptOffer(uint256 offerId) external nonReentrant whenNotPaused {
        Offer storage offer = offers[offerId];
        if (offer.status != OfferStatus.Active) revert OfferNotActive(offerId);
        if (_isExpired(offer.expiresAt)) revert OfferExpired(offerId, offer.expiresAt);

        address seller = _msgSender();
        address buyer = offer.buyer;
        address nft = offer.nft;
        uint256 tokenId = offer.tokenId;
        address paymentToken = offer.paymentToken;
        uint256 amount = offer.amount;
        _requirePaymentToken(paymentToken);
        if (seller == buyer) revert SelfTrade(seller);
        _requireOwnerAndApproval(nft, tokenId, seller);

        uint256 balance = IERC20(paymentToken).balanceOf(buyer);
        uint256 allowance = IERC20(paymentToken).allowance(buyer, address(this));
        uint256 available = balance < allowance ? balance : allowance;
        if (available < amount) revert OfferNotFunded(offerId, amount, available);

        offer.status = OfferStatus.Accepted;
        emit OfferAccepted(offerId, seller);

        _executeSale(
            SaleTerms({
                kind: KIND_OFFER,
                refId: offerId,
                nft: nft,
                tokenId: tokenId,
                seller: seller,
                buyer: buyer,
                paymentToken: paymentToken,
                price: amount,
                payer: buyer
            }),
            true
        );
    }

    // ------------------------------------------------------------------ withdrawals

    /// @notice Pays out your pending refunds and credits in `token` (also while paused).
    /// @param token The token (address(0) = ETH).
    function withdraw(address token) external nonReentrant {
        address account = _msgSender();
        uint256 amount = pendingWithdrawal[account][token];
        if (amount == 0) revert NothingToWithdraw(account, token);

        pendingWithdrawal[account][token] = 0;
        totalOwed[token] -= amount;
        emit Withdrawn(account, token, amount);

        if (token == address(0)) {
            bool ok;
            assembly ("memory-safe") {
                ok := call(gas(), account, amount, 0, 0, 0, 0)
            }
            if (!ok) revert EthTransferFailed(account, amount);
        } else {
            IERC20(token).safeTransfer(account, amount);
        }
    }

    // ------------------------------------------------------------------ internals: sales

    /// @dev Computes the split, emits {Sale}, moves the NFT (seller or escrow -> buyer) and pays out
    /// royalty, fee and seller proceeds. Status updates and their events happen before this call.
    function _executeSale(SaleTerms memory terms, bool fromSeller) private {
        (address royaltyReceiver, uint256 royalty) = _royalty(terms.nft, terms.tokenId, terms.price);
        uint256 fee = (terms.price * feeBps) / BPS;
        address feeReceiver = treasury;
        emit Sale(
            terms.kind,
            terms.refId,
            terms.nft,
            terms.tokenId,
            terms.seller,
            terms.buyer,
            terms.paymentToken,
            terms.price,
            fee,
            royaltyReceiver,
            royalty
        );

        if (fromSeller) {
            IERC721(terms.nft).safeTransferFrom(terms.seller, terms.buyer, terms.tokenId);
        } else {
            IERC721(terms.nft).transferFrom(address(this), terms.buyer, terms.tokenId);
        }

        _pay(terms.paymentToken, terms.payer, royaltyReceiver, royalty);
        _pay(terms.paymentToken, terms.payer, feeReceiver, fee);
        _pay(terms.paymentToken, terms.payer, terms.seller, terms.price - fee - royalty);
    }

    /// @dev ERC-2981 royalty for a sale at `price`, capped at {MAX_ROYALTY_BPS}; (0, 0) when the NFT does
    /// not support ERC-2981, the query fails, or the receiver is zero.
    function _royalty(address nft, uint256 tokenId, uint256 price)
        private
        view
        returns (address receiver, uint256 amount)
    {
        if (!ERC165Checker.supportsInterface(nft, type(IERC2981).interfaceId)) return (address(0), 0);
        try IERC2981(nft).royaltyInfo(tokenId, price) returns (address r, uint256 a) {
            // No receiver, nothing due, or the marketplace itself (which could never withdraw it): no royalty.
            if (r == address(0) || r == address(this) || a == 0) return (address(0), 0);
            uint256 cap = (price * MAX_ROYALTY_BPS) / BPS;
            return (r, a > cap ? cap : a);
        } catch {
            return (address(0), 0);
        }
    }

    /// @dev Pays `amount` of `token` from `payer` (a buyer, or this contract's escrow) to `to`.
    /// ETH (always from this contract): sent with a gas cap, credited to `to` if refused.
    /// ERC-20 from a buyer: transferred directly (reverts on failure). ERC-20 from escrow: credited if the
    /// transfer fails, so a settlement can never be blocked.
    function _pay(address token, address payer, address to, uint256 amount) private {
        if (amount == 0) return;
        if (token == address(0)) {
            bool ok;
            assembly ("memory-safe") {
                ok := call(ETH_PAYOUT_GAS, to, amount, 0, 0, 0, 0)
            }
            if (!ok) _credit(to, token, amount);
        } else if (payer == address(this)) {
            if (!IERC20(token).trySafeTransfer(to, amount)) _credit(to, token, amount);
        } else {
            IERC20(token).safeTransferFrom(payer, to, amount);
        }
    }

    /// @dev Credits a pull payment (the funds are already held by this contract).
    function _credit(address account, address token, uint256 amount) private {
        pendingWithdrawal[account][token] += amount;
        totalOwed[token] += amount;
        emit PaymentCredited(account, token, amount);
    }

    /// @dev Pulls exactly `amount` of `token` from `from` into escrow.
    function _pullExact(address token, address from, uint256 amount) private {
        uint256 balanceBefore = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(from, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert TokenTransferMismatch(token, amount, received);
    }

    // ------------------------------------------------------------------ internals: checks

    /// @dev Smallest acceptable bid: the reserve (at least 1) for the first bid, otherwise the highest bid
    /// plus `incrementBps` of it (at least 1 wei more).
    function _minimumBid(uint256 reservePrice, address highestBidder, uint256 highestBid, uint16 incrementBps)
        private
        pure
        returns (uint256)
    {
        if (highestBidder == address(0)) return reservePrice == 0 ? 1 : reservePrice;
        uint256 increment = (highestBid * incrementBps) / BPS;
        return highestBid + (increment == 0 ? 1 : increment);
    }

    /// @dev The block timestamp as uint64 (enough for ~5.8e11 years). Expiries and auction ends depend on it
    /// by design; a validator can only skew it by seconds, which the anti-sniping extension absorbs.
    function _now() private view returns (uint64) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(block.timestamp);
    }

    function _requirePaymentToken(address token) private view {
        if (!isPaymentTokenAllowed(token)) revert PaymentTokenNotAllowed(token);
    }

    function _requireValue(address paymentToken, uint256 amount) private view {
        uint256 expected = paymentToken == address(0) ? amount : 0;
        if (msg.value != expected) revert InvalidPaymentValue(expected, msg.value);
    }

    function _requireFutureExpiry(uint64 expiresAt) private view {
        if (expiresAt != 0 && expiresAt <= _now()) revert InvalidExpiry(expiresAt);
    }

    function _isExpired(uint64 expiresAt) private view returns (bool) {
        return expiresAt != 0 && _now() > expiresAt;
    }

    function _requireERC721(address nft) private view {
        if (!ERC165Checker.supportsInterface(nft, type(IERC721).interfaceId)) revert NotERC721(nft);
    }

    function _requireOwnerAndApproval(address nft, uint256 tokenId, address account) private view {
        if (_ownerOf(nft, tokenId) != account) revert NotTokenOwner(nft, tokenId, account);
        if (!_isApproved(nft, tokenId, account)) revert MarketplaceNotApproved(nft, tokenId);
    }

    /// @dev `ownerOf`, with address(0) for a token that does not exist (or a failing query).
    function _ownerOf(address nft, uint256 tokenId) private view returns (address) {
        try IERC721(nft).ownerOf(tokenId) returns (address owner) {
            return owner;
        } catch {
            return address(0);
        }
    }

    function _isApproved(address nft, uint256 tokenId, address owner) private view returns (bool) {
        return IERC721(nft).isApprovedForAll(owner, address(this)) || IERC721(nft).getApproved(tokenId) == address(this);
    }

    // ------------------------------------------------------------------ ERC-2771 plumbing

    /// @dev The signer of a forwarded request, otherwise `msg.sender`.
    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    /// @dev The calldata without the ERC-2771 suffix for forwarded requests.
    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    /// @dev ERC-2771 appends 20 bytes (the signer).
    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
