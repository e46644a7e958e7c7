// Proposal actions in human words: the api decodes calls to Nest contracts into a signature and
// argument values (`Uint(300, 16)`, `Address(0x…)`, `Bool(true)`); known ones get a sentence.
import { config } from "./config";

/** The value inside a decoded argument: `Uint(300, 16)` → "300", `Address(0xab…)` → "0xab…". */
export function argValue(arg: string): string {
  const m = /^\w+\((.*?)(?:, \d+)?\)$/.exec(arg.trim());
  return m ? m[1] : arg;
}

export interface ActionText {
  key: string;
  params: Record<string, string | number>;
}

export function contractName(address: string): string {
  const hit = Object.entries(config.contracts).find(([, a]) => a.toLowerCase() === address.toLowerCase());
  return hit ? hit[0] : address;
}

export function describeAction(target: string, fn: string | undefined, args: string[] | undefined): ActionText {
  const v = (args ?? []).map(argValue);
  const name = fn?.split("(")[0];
  switch (name) {
    case "setFeeBps":
      return { key: "dao.action.setFee", params: { percent: Number(v[0]) / 100 } };
    case "setTreasury":
      return { key: "dao.action.setTreasury", params: { address: v[0] } };
    case "setPaymentToken":
      return { key: v[1] === "true" ? "dao.action.allowToken" : "dao.action.disallowToken", params: { token: v[0] } };
    case "setAuctionConfig":
      return {
        key: "dao.action.auctionConfig",
        params: { increment: Number(v[0]) / 100, window: Math.round(Number(v[1]) / 60), extension: Math.round(Number(v[2]) / 60) },
      };
    case "pause":
      return { key: "dao.action.pause", params: {} };
    case "unpause":
      return { key: "dao.action.unpause", params: {} };
    case "setDefaultRoyalty":
      return { key: "dao.action.setRoyalty", params: { percent: Number(v[1]) / 100, address: v[0] } };
    case "transfer":
      return { key: "dao.action.transfer", params: { address: v[0], amount: v[1] } };
    default:
      return { key: "dao.action.call", params: { fn: fn ?? "?", target: contractName(target) } };
  }
}
