// Whether a wallet can pay for an action before it is asked to sign: a translated refusal that
// names what is needed and what is held, instead of a gas estimate's English error.
import { formatAmount } from "../lib/format";

type Translate = (key: string, params: Record<string, string>) => string;

/** The refusal when `balance` of `token` is below `needed`, else null. */
export function shortOfFunds(balance: bigint, needed: bigint, token: string, lang: string, t: Translate): string | null {
  if (balance >= needed) return null;
  return t("funds.short", {
    needed: formatAmount(needed, token, lang, 6),
    balance: formatAmount(balance, token, lang, 6),
  });
}
