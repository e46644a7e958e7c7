// The marketplace and DAO actions, composed from wallet transactions and relayed requests, each
// with the api state that proves it was indexed.
import type { Address } from "viem";
import { config, ETH } from "../lib/config";
import { endpoints } from "../api/endpoints";
import { erc20Abi, governorAbi, marketplaceAbi, nftAbi, tokenAbi } from "./abis";
import { chainNow, refuse, relayCall, relaySigned, sendTx, walletClient } from "./tx";
import { ballotTypes, delegateBody, delegationTypes, domain, extendedBallotTypes, voteBody } from "./relay";
import { shortOfFunds } from "./funds";
import { i18next } from "../i18n";
import type { Listing, Offer } from "../api/types";

const market = () => config.contracts.marketplace;
const same = (a?: string, b?: string) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

export interface Labels {
  rejected: string;
  approve: string;
  main: string;
}

/** The wallet's balance of `token` (ETH or an ERC-20). */
async function balanceOf(token: Address): Promise<bigint> {
  const client = await walletClient();
  const me = client.account.address;
  if (same(token, ETH)) return client.getBalance({ address: me });
  return client.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [me] });
}

/** A translated refusal when the wallet holds less than `amount` of `token`, else null. */
async function shortfall(token: Address, amount: bigint): Promise<string | null> {
  return shortOfFunds(await balanceOf(token), amount, token, i18next.language, (k, p) => i18next.t(k, p));
}

/** Lets the marketplace spend `amount` of `token` from the wallet when it may not yet. */
async function ensureAllowance(token: Address, amount: bigint, labels: Labels): Promise<boolean> {
  const client = await walletClient();
  const allowance = await client.readContract({
    address: token,
    abi: erc20Abi,
    functionName: "allowance",
    args: [client.account.address, market()],
  });
  if (allowance >= amount) return true;
  return sendTx(labels.approve, { address: token, abi: erc20Abi, functionName: "approve", args: [market(), amount] }, labels.rejected);
}

export async function buy(listing: Listing, me: Address, labels: Labels): Promise<boolean> {
  const price = BigInt(listing.price);
  const eth = same(listing.paymentToken, ETH);
  const short = await shortfall(listing.paymentToken as Address, price).catch(() => null);
  if (short) return refuse(labels.main, short);
  if (!eth && !(await ensureAllowance(listing.paymentToken as Address, price, labels))) return false;
  return sendTx(
    labels.main,
    { address: market(), abi: marketplaceAbi, functionName: "buy", args: [BigInt(listing.id), price], value: eth ? price : undefined },
    labels.rejected,
    async () => same((await endpoints.nft(listing.nft, listing.tokenId)).owner, me),
  );
}

export async function bid(auctionId: string, paymentToken: string, amount: bigint, me: Address, labels: Labels): Promise<boolean> {
  const eth = same(paymentToken, ETH);
  const short = await shortfall(paymentToken as Address, amount).catch(() => null);
  if (short) return refuse(labels.main, short);
  if (!eth && !(await ensureAllowance(paymentToken as Address, amount, labels))) return false;
  return sendTx(
    labels.main,
    { address: market(), abi: marketplaceAbi, functionName: "bid", args: [BigInt(auctionId), amount], value: eth ? amount : undefined },
    labels.rejected,
    async () => same((await endpoints.auction(auctionId)).highestBidder, me),
  );
}

/** Lists gaslessly: the approval (once per wallet) and the listing are both relayed. */
export async function listGasless(
  nft: Address,
  tokenId: string,
  paymentToken: Address,
  price: bigint,
  labels: Labels,
): Promise<boolean> {
  const client = await walletClient();
  const approved = await client.readContract({
    address: nft,
    abi: nftAbi,
    functionName: "isApprovedForAll",
    args: [client.account.address, market()],
  });
  if (!approved) {
    const ok = await relayCall(labels.approve, nft, nftAbi, "setApprovalForAll", [market(), true], labels.rejected, undefined, 120_000n);
    if (!ok) return false;
  }
  const expiresAt = BigInt((await chainNow()) + 30 * 86_400);
  return relayCall(
    labels.main,
    market(),
    marketplaceAbi,
    "createListing",
    [nft, BigInt(tokenId), paymentToken, price, expiresAt],
    labels.rejected,
    async () => {
      const page = await endpoints.listings({ nft, status: "active", limit: 100 });
      return page.items.some((l) => l.tokenId === tokenId && same(l.seller, client.account.address));
    },
  );
}

export function cancelListing(listing: Listing, labels: Labels): Promise<boolean> {
  return relayCall(labels.main, market(), marketplaceAbi, "cancelListing", [BigInt(listing.id)], labels.rejected, async () => {
    return (await endpoints.listing(listing.id)).status === "cancelled";
  }, 200_000n);
}

export function updatePrice(listing: Listing, price: bigint, labels: Labels): Promise<boolean> {
  return relayCall(labels.main, market(), marketplaceAbi, "updateListingPrice", [BigInt(listing.id), price], labels.rejected, async () => {
    return (await endpoints.listing(listing.id)).price === price.toString();
  }, 200_000n);
}

/** Settles an ended auction (anyone may): the NFT goes to the winner, the bid to the seller. */
export function settle(auctionId: string, labels: Labels): Promise<boolean> {
  return sendTx(labels.main, { address: market(), abi: marketplaceAbi, functionName: "settleAuction", args: [BigInt(auctionId)] }, labels.rejected, async () => {
    return (await endpoints.auction(auctionId)).status === "settled";
  });
}

/**
 * Accepts `offer` on an NFT the wallet owns, gaslessly: the NFT approval (once per wallet) and
 * the acceptance are relayed; done when the api shows the buyer as the owner.
 */
export async function acceptOfferGasless(offer: Offer, labels: Labels): Promise<boolean> {
  const nft = offer.nft as Address;
  const client = await walletClient();
  const approved = await client.readContract({ address: nft, abi: nftAbi, functionName: "isApprovedForAll", args: [client.account.address, market()] });
  if (!approved) {
    const ok = await relayCall(labels.approve, nft, nftAbi, "setApprovalForAll", [market(), true], labels.rejected, undefined, 120_000n);
    if (!ok) return false;
  }
  return relayCall(labels.main, market(), marketplaceAbi, "acceptOffer", [BigInt(offer.id)], labels.rejected, async () => {
    return same((await endpoints.nft(offer.nft, offer.tokenId)).owner, offer.buyer);
  }, 400_000n);
}

/**
 * Offers `amount` NEST for an NFT (offers are in NEST: the marketplace escrows no ETH for them).
 * The wallet approves the marketplace if needed and sends the offer; done when the api lists it.
 */
export async function makeOffer(nft: Address, tokenId: string, amount: bigint, me: Address, labels: Labels): Promise<boolean> {
  const token = config.contracts.token;
  const short = await shortfall(token, amount).catch(() => null);
  if (short) return refuse(labels.main, short);
  const before = new Set((await endpoints.offersByBuyer(me).catch(() => [])).map((o) => o.id));
  if (!(await ensureAllowance(token, amount, labels))) return false;
  const expiresAt = BigInt((await chainNow()) + 7 * 86_400);
  return sendTx(labels.main, { address: market(), abi: marketplaceAbi, functionName: "makeOffer", args: [nft, BigInt(tokenId), token, amount, expiresAt] }, labels.rejected, async () => {
    const offers = await endpoints.offersByBuyer(me);
    return offers.some((o) => !before.has(o.id) && o.status === "open" && same(o.nft, nft) && o.tokenId === tokenId && o.amount === amount.toString());
  });
}

export function cancelOffer(offer: Offer, labels: Labels): Promise<boolean> {
  return relayCall(labels.main, market(), marketplaceAbi, "cancelOffer", [BigInt(offer.id)], labels.rejected, async () => {
    const offers = await endpoints.offersByBuyer(offer.buyer);
    return offers.some((o) => o.id === offer.id && o.status === "cancelled");
  }, 200_000n);
}

export function withdraw(token: Address, labels: Labels): Promise<boolean> {
  return relayCall(labels.main, market(), marketplaceAbi, "withdraw", [token], labels.rejected, undefined, 200_000n);
}

export async function pendingRefund(token: Address): Promise<bigint> {
  const client = await walletClient();
  return client.readContract({ address: market(), abi: marketplaceAbi, functionName: "pendingWithdrawal", args: [client.account.address, token] });
}

/**
 * Votes gaslessly: the wallet signs a Ballot (castVoteBySig), or with a reason an ExtendedBallot
 * (castVoteWithReasonAndParamsBySig, the reason kept on chain); the relayer pays.
 */
export function voteGasless(proposalId: string, support: 0 | 1 | 2, me: string, labels: Labels, reason?: string): Promise<boolean> {
  return relaySigned(
    labels.main,
    async () => {
      const client = await walletClient();
      const voter = client.account.address;
      const governor = config.contracts.governor;
      const nonce = await client.readContract({ address: governor, abi: governorAbi, functionName: "nonces", args: [voter] });
      const message = { proposalId: BigInt(proposalId), support, voter, nonce };
      const signature = reason
        ? await client.signTypedData({
            account: client.account,
            domain: domain("NestGovernor", config.chainId, governor),
            types: extendedBallotTypes,
            primaryType: "ExtendedBallot",
            message: { ...message, reason, params: "0x" },
          })
        : await client.signTypedData({
            account: client.account,
            domain: domain("NestGovernor", config.chainId, governor),
            types: ballotTypes,
            primaryType: "Ballot",
            message,
          });
      return voteBody(voter, BigInt(proposalId), support, nonce, signature, config.chainId, reason || undefined);
    },
    labels.rejected,
    async () => (await endpoints.proposal(proposalId)).votes.some((v) => same(v.voter, me)),
  );
}

/** Delegates voting power gaslessly (delegateBySig through the relayer). */
export function delegateGasless(delegatee: Address, labels: Labels): Promise<boolean> {
  return relaySigned(
    labels.main,
    async () => {
      const client = await walletClient();
      const from = client.account.address;
      const token = config.contracts.token;
      const nonce = await client.readContract({ address: token, abi: tokenAbi, functionName: "nonces", args: [from] });
      const expiry = BigInt((await chainNow()) + 3600);
      const signature = await client.signTypedData({
        account: client.account,
        domain: domain("Nest", config.chainId, token),
        types: delegationTypes,
        primaryType: "Delegation",
        message: { delegatee, nonce, expiry },
      });
      return delegateBody(from, delegatee, nonce, expiry, signature, config.chainId);
    },
    labels.rejected,
  );
}

/** How far the chain's clock runs ahead of this computer's (a dev chain may have been moved on). */
export async function chainClockOffset(): Promise<number> {
  return (await chainNow()) - Date.now() / 1000;
}

export async function votingPower(): Promise<{ votes: bigint; delegate: Address }> {
  const client = await walletClient();
  const me = client.account.address;
  const token = config.contracts.token;
  const [votes, delegate] = await Promise.all([
    client.readContract({ address: token, abi: tokenAbi, functionName: "getVotes", args: [me] }),
    client.readContract({ address: token, abi: tokenAbi, functionName: "delegates", args: [me] }),
  ]);
  return { votes, delegate };
}
