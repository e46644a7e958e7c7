// Small shared pieces: NFT art, amounts, addresses, states, countdown.
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { formatAmount, formatCountdown, shortAddress } from "../lib/format";
import { ApiError } from "../api/client";

/** Placeholder art until the metadata service serves images: colours derived from the token. */
export function NftArt({ contract, tokenId, size = "card" }: { contract: string; tokenId: string; size?: "card" | "large" }) {
  let h = 0;
  for (const c of contract.toLowerCase() + ":" + tokenId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const hue = h % 360;
  return (
    <div className={`art art-${size} hue-${Math.floor(hue / 30)}`} aria-hidden="true">
      <span>#{tokenId}</span>
    </div>
  );
}

export function Amount({ value, token }: { value: string | bigint; token: string }) {
  const { i18n } = useTranslation();
  return <span className="amount">{formatAmount(value, token, i18n.language)}</span>;
}

export function Addr({ value }: { value: string }) {
  return (
    <span className="mono" title={value}>
      {shortAddress(value)}
    </span>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  const { t } = useTranslation();
  const text = error instanceof ApiError ? error.problem.detail || error.problem.title : t("common.error");
  return (
    <p role="alert" className="error">
      {text}
    </p>
  );
}

export function Loading() {
  const { t } = useTranslation();
  return (
    <p className="muted" aria-busy="true">
      {t("common.loading")}
    </p>
  );
}

export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export function Countdown({ end }: { end: number }) {
  const { t } = useTranslation();
  const now = useNow();
  const left = end - now / 1000;
  if (left <= 0) return <span>{t("auction.ended")}</span>;
  return (
    <span className="countdown" data-testid="countdown">
      <time dateTime={new Date(end * 1000).toISOString()}>{formatCountdown(left)}</time>
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  return <span className={`badge s-${status}`}>{t(`status.${status}`, { defaultValue: status })}</span>;
}
