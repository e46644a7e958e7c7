// Gasless requests: EIP-712 messages the user signs and the relayer pays for (POST /v1/relay).
// - forward: an ERC-2771 ForwardRequest for Nest's forwarder (marketplace and NFT calls)
// - vote: a governor Ballot (castVoteBySig), or an ExtendedBallot when the voter gives a reason
//   (castVoteWithReasonAndParamsBySig, params empty)
// - delegate: a token Delegation (delegateBySig)
import type { Address, Hex } from "viem";

export const forwardTypes = {
  ForwardRequest: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "gas", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint48" },
    { name: "data", type: "bytes" },
  ],
} as const;

export const ballotTypes = {
  Ballot: [
    { name: "proposalId", type: "uint256" },
    { name: "support", type: "uint8" },
    { name: "voter", type: "address" },
    { name: "nonce", type: "uint256" },
  ],
} as const;

export const extendedBallotTypes = {
  ExtendedBallot: [
    { name: "proposalId", type: "uint256" },
    { name: "support", type: "uint8" },
    { name: "voter", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "reason", type: "string" },
    { name: "params", type: "bytes" },
  ],
} as const;

/** Longest reason the relayer puts on chain, in UTF-8 bytes (relayer/src/request.rs). */
export const MAX_VOTE_REASON_BYTES = 1000;

export const delegationTypes = {
  Delegation: [
    { name: "delegatee", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
} as const;

export function domain(name: string, chainId: number, verifyingContract: Address) {
  return { name, version: "1", chainId, verifyingContract } as const;
}

export interface ForwardMessage {
  from: Address;
  to: Address;
  value: bigint;
  gas: bigint;
  nonce: bigint;
  deadline: number;
  data: Hex;
}

/** The forward request for `data` on `to`, valid for `ttl` seconds from `now`. */
export function forwardMessage(
  from: Address,
  to: Address,
  data: Hex,
  nonce: bigint,
  gas = 400_000n,
  now = Math.floor(Date.now() / 1000),
  ttl = 3600,
): ForwardMessage {
  return { from, to, value: 0n, gas, nonce, deadline: now + ttl, data };
}

/** The body of `POST /v1/relay` for a signed forward request (numbers as decimal strings). */
export function forwardBody(m: ForwardMessage, signature: Hex, chainId: number): Record<string, unknown> {
  return {
    kind: "forward",
    from: m.from,
    to: m.to,
    value: m.value.toString(),
    gas: m.gas.toString(),
    nonce: m.nonce.toString(),
    deadline: m.deadline.toString(),
    data: m.data,
    signature,
    chainId,
  };
}

export function voteBody(
  voter: Address,
  proposalId: bigint,
  support: 0 | 1 | 2,
  nonce: bigint,
  signature: Hex,
  chainId: number,
  reason?: string,
): Record<string, unknown> {
  return {
    kind: "vote",
    voter,
    proposalId: proposalId.toString(),
    support,
    nonce: nonce.toString(),
    signature,
    chainId,
    ...(reason === undefined ? {} : { reason }),
  };
}

export function delegateBody(
  from: Address,
  delegatee: Address,
  nonce: bigint,
  expiry: bigint,
  signature: Hex,
  chainId: number,
): Record<string, unknown> {
  return {
    kind: "delegate",
    from,
    delegatee,
    nonce: nonce.toString(),
    expiry: expiry.toString(),
    signature,
    chainId,
  };
}

/** Relay job states in lifecycle order; `failed`/`expired` end it. */
export function relayStage(status: string): "submitted" | "mined" | "failed" {
  if (status === "mined" || status === "confirmed") return "mined";
  if (status === "failed" || status === "expired") return "failed";
  return "submitted";
}
