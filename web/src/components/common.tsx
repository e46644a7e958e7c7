// Small shared pieces: NFT art, amounts, addresses, states, countdown.
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { formatAmount, formatCountdown, shortAddress } from "../lib/format";
import { ApiError } from "../api/client";
import { artBucket } from "../lib/metadata";
import { useSentinel } from "../lib/sentinel";

/** Placeholder art until the metadata service serves images: colours derived from the token. */
export function NftArt({ contract, tokenId, size = "card" }: { contract: string; tokenId: string; size?: "card" | "large" }) {
  const bucket = artBucket(contract, tokenId);
  return (
    <div className={`art art-${size} hue-${bucket}`} aria-hidden="true">
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

/** Time left until `end` (chain seconds); `offset`: how far the chain's clock runs ahead. */
export function Countdown({ end, offset = 0 }: { end: number; offset?: number }) {
  const { t } = useTranslation();
  const now = useNow();
  const left = end - now / 1000 - offset;
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

interface Pages {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}

/** The end of an infinitely scrolled list: loads the next page on approach, or on a click. */
export function MorePages({ q, button = true }: { q: Pages; button?: boolean }) {
  const { t } = useTranslation();
  const sentinel = useSentinel(() => void q.fetchNextPage(), q.hasNextPage && !q.isFetchingNextPage);
  return (
    <>
      <div ref={sentinel} />
      {button && q.hasNextPage && (
        <button type="button" className="btn" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
          {t("common.more")}
        </button>
      )}
    </>
  );
}
