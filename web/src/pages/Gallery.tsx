// The collection's gallery: every token with its image and name, filtered by market state
// (listed, on auction, with offers; the sorts valid for it; an ETH price range for listed tokens)
// and by traits from the sidebar (values of one trait are alternatives, traits must all match),
// infinite scroll on the api's cursors. A market-filtered page may be short, even empty, while a
// cursor remains: loading goes on while the end of the list is in view. Trait counts come from
// GET /v1/collections/{contract}/traits, payment token symbols from the collection's stats.
import { useEffect, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { endpoints, keys } from "../api/endpoints";
import type { CollectionStats, TokenMarket } from "../api/types";
import { Link } from "../lib/router";
import { Addr, Countdown, ErrorNote, Loading, MorePages, NftArt, NftTitle } from "../components/common";
import { useCollectionStats } from "../components/CollectionStats";
import { config } from "../lib/config";
import { useLive } from "../lib/live";
import { formatNumber, formatPrice, formatRelative } from "../lib/format";
import { toggleTrait, traitKey } from "../lib/traits";
import { tokenInfo } from "../lib/stats";
import {
  STATUSES,
  hasMarketFilter,
  hasPriceRange,
  normalizeSort,
  pageTokens,
  parsePriceRange,
  sortsFor,
  tokenQuery,
  type GalleryFilter,
  type GallerySort,
  type GalleryStatus,
} from "../lib/gallery-filters";

/** Typing settles this long before a valid price range is asked for. */
const PRICE_DELAY_MS = 400;

export default function Gallery() {
  const { t, i18n } = useTranslation();
  const contract = config.contracts.nft;
  const [selected, setSelected] = useState<string[]>([]);
  const [status, setStatus] = useState<GalleryStatus>("all");
  const [sort, setSort] = useState<GallerySort | undefined>(normalizeSort("all"));
  const [minText, setMinText] = useState("");
  const [maxText, setMaxText] = useState("");
  // The range asked for: the last valid one typed (an invalid one is shown, never sent).
  const [applied, setApplied] = useState<{ min?: string; max?: string }>({});
  const range = parsePriceRange(minText, maxText);
  const minWei = range.min?.toString();
  const maxWei = range.max?.toString();
  useEffect(() => {
    if (!range.valid || (minWei === applied.min && maxWei === applied.max)) return;
    const timer = setTimeout(() => setApplied({ min: minWei, max: maxWei }), PRICE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [range.valid, minWei, maxWei, applied.min, applied.max]);

  const filter: GalleryFilter = {
    traits: selected,
    status,
    sort,
    minPrice: applied.min === undefined ? undefined : BigInt(applied.min),
    maxPrice: applied.max === undefined ? undefined : BigInt(applied.max),
  };
  const query = tokenQuery(filter);
  const market = hasMarketFilter(filter);
  const traits = useQuery({ queryKey: keys.traits(contract), queryFn: () => endpoints.traits(contract) });
  const stats = useCollectionStats(contract);
  const tokens = useInfiniteQuery({
    queryKey: keys.collectionTokens(contract, query),
    queryFn: ({ pageParam }) => endpoints.collectionTokens(contract, query, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });
  useLive("nfts,nft_metadata,listings,auctions,offers,sales", [keys.traits(contract), ["nfts", "collection"], keys.collectionStats(contract)]);
  const items = pageTokens(tokens.data?.pages);
  const chosen = (traitType: string) => selected.filter((k) => k.startsWith(`${traitType}:`)).length;
  const filtered = selected.length > 0 || market || minText !== "" || maxText !== "";
  const clear = () => {
    setSelected([]);
    setStatus("all");
    setSort(normalizeSort("all"));
    setMinText("");
    setMaxText("");
    setApplied({});
  };
  return (
    <div className="gallery">
      <div className="gallery-side">
        <MarketFilters
          status={status}
          sort={normalizeSort(status, sort)}
          onStatus={(next) => {
            setStatus(next);
            setSort(normalizeSort(next, sort));
          }}
          onSort={setSort}
          minText={minText}
          maxText={maxText}
          onMin={setMinText}
          onMax={setMaxText}
          minError={range.minError}
          maxError={range.maxError}
        />
        <form className="trait-filters" aria-label={t("gallery.filters")} onSubmit={(e) => e.preventDefault()}>
          {traits.error && <ErrorNote error={traits.error} />}
          {traits.data?.traits.map((group) => (
            <details key={group.traitType} className="trait-group" data-testid="trait-group">
              <summary>
                {group.traitType}
                {chosen(group.traitType) > 0 && <span className="badge">{formatNumber(chosen(group.traitType), i18n.language)}</span>}
              </summary>
              <fieldset>
                <legend className="sr-only">{group.traitType}</legend>
                {group.values.map((v) => {
                  const key = traitKey(group.traitType, v.value);
                  return (
                    <label key={key} className="inline check">
                      <input
                        type="checkbox"
                        checked={selected.includes(key)}
                        onChange={() => setSelected(toggleTrait(selected, group.traitType, v.value))}
                        data-testid="trait-filter"
                      />
                      {v.value}
                      <span className="muted small">{formatNumber(v.count, i18n.language)}</span>
                    </label>
                  );
                })}
              </fieldset>
            </details>
          ))}
          {filtered && (
            <button type="button" className="btn" onClick={clear} data-testid="gallery-clear">
              {t("gallery.clear")}
            </button>
          )}
        </form>
      </div>
      <div>
        {(tokens.isPending || (items.length === 0 && tokens.hasNextPage)) && <Loading />}
        {tokens.error && <ErrorNote error={tokens.error} />}
        {tokens.isSuccess && items.length === 0 && !tokens.hasNextPage && (
          <p className="muted">{t(market ? "gallery.emptyMarket" : "gallery.empty")}</p>
        )}
        <ul className="grid plain" data-testid="gallery">
          {items.map((n) => (
            <li key={n.contract + n.tokenId} className="card">
              <Link href={`/nft/${n.contract}/${n.tokenId}`} className="card-link" data-testid="gallery-card">
                <NftArt contract={n.contract} tokenId={n.tokenId} metadata={n.metadata} />
                <div className="card-body">
                  <span className="title">
                    <NftTitle contract={n.contract} tokenId={n.tokenId} metadata={n.metadata} />
                  </span>
                  {n.market && <MarketState market={n.market} stats={stats.data} />}
                  <span className="small muted">
                    {t("nft.owner")} <Addr value={n.owner} />
                  </span>
                </div>
              </Link>
            </li>
          ))}
        </ul>
        <MorePages q={tokens} />
      </div>
    </div>
  );
}

/** Status, the sorts valid for it, and for listed tokens the price range in ETH. */
function MarketFilters(props: {
  status: GalleryStatus;
  sort: GallerySort | undefined;
  onStatus: (status: GalleryStatus) => void;
  onSort: (sort: GallerySort) => void;
  minText: string;
  maxText: string;
  onMin: (text: string) => void;
  onMax: (text: string) => void;
  minError?: string;
  maxError?: string;
}) {
  const { t } = useTranslation();
  const id = useId();
  const sorts = sortsFor(props.status);
  const priced = hasPriceRange(props.status);
  const errors = [
    props.minError && { id: `${id}-min-error`, text: t(`gallery.priceError.${props.minError}`) },
    props.maxError && { id: `${id}-max-error`, text: t(`gallery.priceError.${props.maxError}`) },
  ].filter((e): e is { id: string; text: string } => !!e);
  return (
    <form className="filters market-filters" aria-label={t("gallery.marketFilters")} onSubmit={(e) => e.preventDefault()}>
      <label className="grow">
        {t("gallery.status")}
        <select value={props.status} onChange={(e) => props.onStatus(e.target.value as GalleryStatus)} data-testid="gallery-status">
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {t(`gallery.statuses.${s}`)}
            </option>
          ))}
        </select>
      </label>
      {sorts.length > 0 && (
        <label className="grow">
          {t("gallery.sort")}
          <select value={props.sort} onChange={(e) => props.onSort(e.target.value as GallerySort)} data-testid="gallery-sort">
            {sorts.map((s) => (
              <option key={s} value={s}>
                {t(`gallery.sorts.${s}`)}
              </option>
            ))}
          </select>
        </label>
      )}
      {priced && (
        <>
          <label className="bound">
            {t("gallery.minPrice")}
            <input
              inputMode="decimal"
              autoComplete="off"
              value={props.minText}
              onChange={(e) => props.onMin(e.target.value)}
              aria-invalid={props.minError ? true : undefined}
              aria-describedby={props.minError ? `${id}-min-error` : undefined}
              data-testid="gallery-min-price"
            />
          </label>
          <label className="bound">
            {t("gallery.maxPrice")}
            <input
              inputMode="decimal"
              autoComplete="off"
              value={props.maxText}
              onChange={(e) => props.onMax(e.target.value)}
              aria-invalid={props.maxError ? true : undefined}
              aria-describedby={props.maxError ? `${id}-max-error` : undefined}
              data-testid="gallery-max-price"
            />
          </label>
          {errors.map((e) => (
            <p key={e.id} id={e.id} role="alert" className="error small filter-note" data-testid="price-error">
              {e.text}
            </p>
          ))}
        </>
      )}
    </form>
  );
}

/** What the token is doing on the market: price (its payment token's symbol), auction end or sale time. */
function MarketState({ market, stats }: { market: TokenMarket; stats?: CollectionStats }) {
  const { t, i18n } = useTranslation();
  const { symbol, decimals } = tokenInfo(stats, market.paymentToken);
  return (
    <span className="market-state" data-testid="market-state" data-kind={market.kind}>
      <span className="small muted">{t(`gallery.market.${market.kind}`)}</span>
      <span className="amount" data-testid="market-price">
        {formatPrice(market.price, market.priceDecimal, symbol, i18n.language, decimals)}
      </span>
      {market.kind === "auction" && market.endTime !== undefined && <Countdown end={market.endTime} />}
      {market.kind === "sale" && market.timestamp !== undefined && (
        <span className="small muted">{formatRelative(market.timestamp, i18n.language)}</span>
      )}
    </span>
  );
}
