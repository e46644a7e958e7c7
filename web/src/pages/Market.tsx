// Explore: the collection's stats, listings with filters and sorts, live auctions ending soonest,
// the collection's gallery with trait and market filters; infinite scroll on the api's cursors.
import { lazy, Suspense, useState } from "react";
import { useTranslation } from "react-i18next";
import { useInfiniteQuery } from "@tanstack/react-query";
import { endpoints, keys, type ListingFilter } from "../api/endpoints";
import type { Auction, Listing } from "../api/types";
import { Link } from "../lib/router";
import { Amount, Countdown, ErrorNote, Loading, MorePages, NftArt, NftTitle, StatusBadge } from "../components/common";
import { CollectionStats } from "../components/CollectionStats";
import { config, ETH } from "../lib/config";
import { parseAmount } from "../lib/format";

const Gallery = lazy(() => import("./Gallery"));

export default function Market() {
  const { t } = useTranslation();
  const [tab, setTab] = useState<"listings" | "auctions" | "gallery">("listings");
  return (
    <section>
      <h1>{t("market.title")}</h1>
      <CollectionStats contract={config.contracts.nft} />
      <div role="tablist" aria-label={t("market.title")} className="tabs">
        {(["listings", "auctions", "gallery"] as const).map((name) => (
          <button
            key={name}
            role="tab"
            id={`tab-${name}`}
            aria-selected={tab === name}
            aria-controls={`panel-${name}`}
            type="button"
            onClick={() => setTab(name)}
          >
            {t(`market.${name}`)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === "listings" && <Listings />}
        {tab === "auctions" && <Auctions />}
        {tab === "gallery" && (
          <Suspense fallback={<Loading />}>
            <Gallery />
          </Suspense>
        )}
      </div>
    </section>
  );
}

function Listings() {
  const { t } = useTranslation();
  const [filter, setFilter] = useState<ListingFilter>({ status: "active", sort: "recent" });
  const [minPrice, setMin] = useState("");
  const [maxPrice, setMax] = useState("");
  const effective: ListingFilter = {
    ...filter,
    minPrice: parseAmount(minPrice)?.toString(),
    maxPrice: parseAmount(maxPrice)?.toString(),
    limit: 24,
  };
  const q = useInfiniteQuery({
    queryKey: keys.listings(effective),
    queryFn: ({ pageParam }) => endpoints.listings({ ...effective, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });
  const items = q.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t("market.filters")}>
        <label>
          {t("market.status")}
          <select value={filter.status} onChange={(e) => setFilter({ ...filter, status: e.target.value })}>
            {["active", "sold", "cancelled", "expired"].map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("market.sort")}
          <select value={filter.sort} onChange={(e) => setFilter({ ...filter, sort: e.target.value as ListingFilter["sort"] })}>
            <option value="recent">{t("market.sortRecent")}</option>
            <option value="price_asc">{t("market.sortPriceAsc")}</option>
            <option value="price_desc">{t("market.sortPriceDesc")}</option>
          </select>
        </label>
        <label>
          {t("market.collection")}
          <select value={filter.nft ?? ""} onChange={(e) => setFilter({ ...filter, nft: e.target.value || undefined })}>
            <option value="">{t("market.any")}</option>
            <option value={config.contracts.nft}>{t("market.nestCollection")}</option>
          </select>
        </label>
        <label>
          {t("market.currency")}
          <select value={filter.paymentToken ?? ""} onChange={(e) => setFilter({ ...filter, paymentToken: e.target.value || undefined })}>
            <option value="">{t("market.any")}</option>
            <option value={ETH}>ETH</option>
            <option value={config.contracts.token}>NEST</option>
          </select>
        </label>
        <label>
          {t("market.minPrice")}
          <input inputMode="decimal" value={minPrice} onChange={(e) => setMin(e.target.value)} size={6} />
        </label>
        <label>
          {t("market.maxPrice")}
          <input inputMode="decimal" value={maxPrice} onChange={(e) => setMax(e.target.value)} size={6} />
        </label>
      </form>
      {q.isPending && <Loading />}
      {q.error && <ErrorNote error={q.error} />}
      {q.isSuccess && items.length === 0 && <p className="muted">{t("market.empty")}</p>}
      <ul className="grid plain" data-testid="listings">
        {items.map((l) => (
          <ListingCard key={l.id} listing={l} />
        ))}
      </ul>
      <MorePages q={q} />
    </>
  );
}

function ListingCard({ listing }: { listing: Listing }) {
  return (
    <li className="card">
      <Link href={`/nft/${listing.nft}/${listing.tokenId}`} className="card-link" data-testid="listing-card">
        <NftArt contract={listing.nft} tokenId={listing.tokenId} />
        <div className="card-body">
          <span className="title">
            <NftTitle contract={listing.nft} tokenId={listing.tokenId} />
          </span>
          <Amount value={listing.price} token={listing.paymentToken} />
          <StatusBadge status={listing.status} />
        </div>
      </Link>
    </li>
  );
}

function Auctions() {
  const { t } = useTranslation();
  const [soon, setSoon] = useState(false);
  const q = useInfiniteQuery({
    queryKey: [...keys.auctions(), soon],
    queryFn: ({ pageParam }) => endpoints.auctions(pageParam, soon ? 3600 : undefined),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });
  const items = q.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <label className="inline check">
        <input type="checkbox" checked={soon} onChange={(e) => setSoon(e.target.checked)} />
        {t("market.endingSoon")}
      </label>
      {q.isPending && <Loading />}
      {q.error && <ErrorNote error={q.error} />}
      {q.isSuccess && items.length === 0 && <p className="muted">{t("market.noAuctions")}</p>}
      <ul className="grid plain" data-testid="auctions">
        {items.map((a) => (
          <AuctionCard key={a.id} auction={a} />
        ))}
      </ul>
      <MorePages q={q} button={false} />
    </>
  );
}

function AuctionCard({ auction }: { auction: Auction }) {
  const { t } = useTranslation();
  const top = BigInt(auction.highestBid) > 0n ? auction.highestBid : auction.reservePrice;
  return (
    <li className="card">
      <Link href={`/auction/${auction.id}`} className="card-link" data-testid="auction-card">
        <NftArt contract={auction.nft} tokenId={auction.tokenId} />
        <div className="card-body">
          <span className="title">
            <NftTitle contract={auction.nft} tokenId={auction.tokenId} />
          </span>
          <span className="small muted">{BigInt(auction.highestBid) > 0n ? t("auction.highest") : t("auction.reserve")}</span>
          <Amount value={top} token={auction.paymentToken} />
          <Countdown end={auction.endTime} />
        </div>
      </Link>
    </li>
  );
}
