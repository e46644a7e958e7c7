// Small shared pieces: NFT art, amounts, addresses, states, countdown.
import { useEffect, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { amountProblem, formatAmount, formatCountdown, shortAddress } from "../lib/format";
import { ApiError } from "../api/client";
import { useQuery } from "@tanstack/react-query";
import { artBucket, mediaUrl } from "../lib/metadata";
import { endpoints, keys } from "../api/endpoints";
import type { NftMetadata } from "../api/types";
import { useSentinel } from "../lib/sentinel";

/**
 * A token's resolved metadata: `known` when the caller has the NFT, else read with the NFT's
 * detail (the same cached query its page uses, so a card and its page ask once).
 */
export function useNftMetadata(contract: string, tokenId: string, known?: NftMetadata): NftMetadata | undefined {
  const detail = useQuery({
    queryKey: keys.nft(contract, tokenId),
    queryFn: () => endpoints.nft(contract, tokenId),
    enabled: !known,
    staleTime: 60_000,
  });
  return known ?? detail.data?.metadata;
}

/**
 * The token's image from the api's media endpoint (resized, WebP; content-addressed, so cached
 * for good); placeholder art (colours derived from the token) until metadata is resolved.
 */
export function NftArt({
  contract,
  tokenId,
  size = "card",
  metadata,
}: {
  contract: string;
  tokenId: string;
  size?: "card" | "large";
  metadata?: NftMetadata;
}) {
  const meta = useNftMetadata(contract, tokenId, metadata);
  const width = size === "large" ? 1024 : 384;
  const src = mediaUrl(meta?.image, width);
  if (src) {
    return (
      <img
        className={`art art-${size} art-img`}
        src={src}
        alt={meta?.name ?? ""}
        width={width}
        height={width}
        loading={size === "large" ? "eager" : "lazy"}
        decoding="async"
        data-testid="nft-image"
      />
    );
  }
  const bucket = artBucket(contract, tokenId);
  return (
    <div className={`art art-${size} hue-${bucket}`} aria-hidden="true">
      <span>#{tokenId}</span>
    </div>
  );
}

/** The token's name from its metadata, else "Nest #id". Rendered as text. */
export function NftTitle({ contract, tokenId, metadata }: { contract: string; tokenId: string; metadata?: NftMetadata }) {
  const { t } = useTranslation();
  const meta = useNftMetadata(contract, tokenId, metadata);
  return <>{meta?.name || t("nft.name", { id: tokenId })}</>;
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

/**
 * A labelled amount input ("1.5") that says, in the reader's language, what is wrong with what
 * was typed; the caller parses it with `parseAmount` (null while it is wrong).
 */
export function AmountField({
  label,
  value,
  onChange,
  testId,
  describedBy,
}: {
  label: string;
  value: string;
  onChange: (text: string) => void;
  testId?: string;
  describedBy?: string;
}) {
  const { t } = useTranslation();
  const id = useId();
  const problem = amountProblem(value);
  const described = [problem ? `${id}-error` : "", describedBy ?? ""].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        inputMode="decimal"
        autoComplete="off"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={problem ? true : undefined}
        aria-describedby={described}
        data-testid={testId}
      />
      {problem && (
        <p id={`${id}-error`} role="alert" className="error small" data-testid="amount-error">
          {t(`amount.${problem}`)}
        </p>
      )}
    </div>
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
