// Every on-chain action the dApp starts, with its lifecycle shown to the user:
// signing → submitted → mined → indexed (the api shows the change), or failed with the reason
// in the user's language. Wallet transactions and relayed (gasless) requests share it.
import { getConnectorClient } from "wagmi/actions";
import { publicActions, walletActions, type Abi, type Address, type Hex, encodeFunctionData } from "viem";
import { start, update } from "./txStore";
import { reasonOf } from "./reason";
import { wagmiConfig } from "./wagmi";
import { endpoints } from "../api/endpoints";
import { config } from "../lib/config";
import { domain, forwardBody, forwardMessage, forwardTypes, relayStage } from "./relay";
import { forwarderAbi } from "./abis";

export async function walletClient() {
  const client = await getConnectorClient(wagmiConfig);
  return client.extend(walletActions).extend(publicActions);
}

/** The chain's clock: the later of the wall clock and the latest block (a dev chain may be ahead). */
export async function chainNow(): Promise<number> {
  const client = await walletClient();
  const block = await client.getBlock();
  return Math.max(Math.floor(Date.now() / 1000), Number(block.timestamp));
}

async function waitIndexed(indexed: (() => Promise<boolean>) | undefined, timeoutMs = 30_000): Promise<void> {
  if (!indexed) return;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await indexed().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("indexing timeout");
}

export interface Call {
  address: Address;
  abi: Abi;
  functionName: string;
  args?: readonly unknown[];
  value?: bigint;
}

/** Shows `label` as refused with `reason` before anything is signed (e.g. too little to pay). */
export function refuse(label: string, reason: string): false {
  const id = start(label, false);
  update(id, { stage: "failed", error: reason });
  return false;
}

/** Sends `call` from the wallet and follows it to `indexed`. */
export async function sendTx(label: string, call: Call, rejected: string, indexed?: () => Promise<boolean>): Promise<boolean> {
  const id = start(label, false);
  try {
    const client = await walletClient();
    const hash = await client.writeContract({
      address: call.address,
      abi: call.abi,
      functionName: call.functionName,
      args: call.args ?? [],
      value: call.value,
      account: client.account,
      chain: client.chain,
    } as never);
    update(id, { stage: "submitted", hash });
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 500 });
    if (receipt.status !== "success") throw new Error("reverted");
    update(id, { stage: "mined" });
    await waitIndexed(indexed);
    update(id, { stage: "indexed" });
    return true;
  } catch (error) {
    update(id, { stage: "failed", error: reasonOf(error, rejected) });
    return false;
  }
}

/** Signs `call` as an ERC-2771 forward request and has the relayer send it (no ETH needed). */
export async function relayCall(
  label: string,
  to: Address,
  abi: Abi,
  functionName: string,
  args: readonly unknown[],
  rejected: string,
  indexed?: () => Promise<boolean>,
  gas = 400_000n,
): Promise<boolean> {
  const id = start(label, true);
  try {
    const client = await walletClient();
    const from = client.account.address;
    const nonce = await client.readContract({
      address: config.contracts.forwarder,
      abi: forwarderAbi,
      functionName: "nonces",
      args: [from],
    });
    const data = encodeFunctionData({ abi, functionName, args } as never) as Hex;
    const message = forwardMessage(from, to, data, nonce, gas, await chainNow());
    const signature = await client.signTypedData({
      account: client.account,
      domain: domain("NestForwarder", config.chainId, config.contracts.forwarder),
      types: forwardTypes,
      primaryType: "ForwardRequest",
      message,
    });
    return await followRelay(id, forwardBody(message, signature, config.chainId), indexed);
  } catch (error) {
    update(id, { stage: "failed", error: reasonOf(error, rejected) });
    return false;
  }
}

/** Posts a signed relay body (vote, delegate) and follows it. */
export async function relaySigned(
  label: string,
  sign: () => Promise<Record<string, unknown>>,
  rejected: string,
  indexed?: () => Promise<boolean>,
): Promise<boolean> {
  const id = start(label, true);
  try {
    return await followRelay(id, await sign(), indexed);
  } catch (error) {
    update(id, { stage: "failed", error: reasonOf(error, rejected) });
    return false;
  }
}

async function followRelay(id: number, body: Record<string, unknown>, indexed?: () => Promise<boolean>): Promise<boolean> {
  const accepted = await endpoints.relay(body);
  update(id, { stage: "submitted", relayJob: accepted.id, relayStatus: accepted.status });
  const until = Date.now() + 60_000;
  for (;;) {
    const job = await endpoints.relayJob(accepted.id);
    const stage = relayStage(job.status);
    update(id, { relayStatus: job.status, hash: job.txHashes.length ? job.txHashes[job.txHashes.length - 1] : undefined });
    if (stage === "failed") throw new Error(job.error || job.status);
    if (stage === "mined") {
      if (job.receipt && !job.receipt.success) throw new Error(job.error || "reverted");
      break;
    }
    if (Date.now() > until) throw new Error("relay timeout");
    await new Promise((r) => setTimeout(r, 500));
  }
  update(id, { stage: "mined" });
  await waitIndexed(indexed);
  update(id, { stage: "indexed" });
  return true;
}
