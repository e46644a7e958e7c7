// Numbers, token amounts, dates and relative times in the reader's language, with `Intl`.
import { formatUnits } from "viem";
import { config, ETH } from "./config";

export function tokenSymbol(paymentToken: string): string {
  if (paymentToken.toLowerCase() === ETH) return "ETH";
  if (paymentToken.toLowerCase() === config.contracts.token.toLowerCase()) return "NEST";
  return shortAddress(paymentToken);
}

/** `amount` (smallest unit, decimal string) as "1.5 ETH" in `lang`, 18 decimals. */
export function formatAmount(amount: string | bigint, paymentToken: string, lang: string, digits = 4): string {
  const value = typeof amount === "bigint" ? amount : BigInt(amount || "0");
  return `${formatDecimal(formatUnits(value, 18), lang, digits)} ${tokenSymbol(paymentToken)}`;
}

/**
 * An exact decimal in whole units ("1234.56789", as the api's `…Decimal` fields and viem's
 * formatUnits write it) in `lang`: grouped, at most `digits` decimals (cut, not rounded).
 */
export function formatDecimal(text: string, lang: string, digits = 4): string {
  const [whole, fraction = ""] = text.trim().split(".");
  let out = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 }).format(BigInt(whole || "0"));
  const kept = fraction.slice(0, digits).replace(/0+$/, "");
  if (kept) {
    const decimal = new Intl.NumberFormat(lang).formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";
    out += decimal + kept;
  }
  return out;
}

/**
 * A price as "1.5 NEST": its whole-unit `decimal` when the api gave one, else `raw` (smallest
 * unit) over `decimals` (18 when unknown).
 */
export function formatPrice(raw: string, decimal: string | undefined, symbol: string, lang: string, decimals = 18, digits = 4): string {
  const whole = decimal ?? formatUnits(BigInt(raw || "0"), decimals);
  return `${formatDecimal(whole, lang, digits)} ${symbol}`;
}

/** A plain number (votes, counts) in `lang`, compact for large ones. */
export function formatNumber(value: number | bigint, lang: string, compact = false): string {
  return new Intl.NumberFormat(lang, compact ? { notation: "compact", maximumFractionDigits: 1 } : {}).format(value);
}

export function formatPercent(fraction: number, lang: string): string {
  return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 }).format(fraction);
}

export function formatDate(unixSeconds: number, lang: string): string {
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(unixSeconds * 1000);
}

/** "in 3 hours", "2 minutes ago" in `lang`, relative to `now` (ms). */
export function formatRelative(unixSeconds: number, lang: string, now = Date.now()): string {
  const diff = unixSeconds - Math.round(now / 1000);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  const abs = Math.abs(diff);
  if (abs < 60) return rtf.format(diff, "second");
  if (abs < 3600) return rtf.format(Math.round(diff / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), "hour");
  return rtf.format(Math.round(diff / 86400), "day");
}

/** A countdown "1d 02:03:04" / "02:03:04" (language-neutral digits). */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const pad = (n: number) => String(n).padStart(2, "0");
  const hms = `${pad(Math.floor((s % 86400) / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  return d > 0 ? `${d}d ${hms}` : hms;
}

export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

/** Parses a decimal amount typed by a user ("1.5", "1,5") into the smallest unit. */
export function parseAmount(text: string, decimals = 18): bigint | null {
  const clean = text.trim().replace(",", ".");
  if (!/^\d+(\.\d+)?$/.test(clean)) return null;
  const [whole, fraction = ""] = clean.split(".");
  if (fraction.length > decimals) return null;
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

/**
 * What is wrong with an amount typed by a user, as a catalogue key under `amount.` (null when it
 * is empty, which asks nothing, or a positive amount `parseAmount` takes).
 */
export function amountProblem(text: string, decimals = 18): "invalid" | "precision" | "zero" | null {
  const clean = text.trim().replace(",", ".");
  if (!clean) return null;
  if (!/^\d+(\.\d+)?$/.test(clean)) return "invalid";
  if ((clean.split(".")[1] ?? "").length > decimals) return "precision";
  return parseAmount(clean, decimals) === 0n ? "zero" : null;
}
