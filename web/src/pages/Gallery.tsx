// The collection's gallery: every token with its image and name, filtered by traits from the
// sidebar (values of one trait are alternatives, traits must all match), infinite scroll on the
// api's cursors. Trait counts come from GET /v1/collections/{contract}/traits.
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { endpoints, keys } from "../api/endpoints";
import { Link } from "../lib/router";
import { Addr, ErrorNote, Loading, MorePages, NftArt, NftTitle } from "../components/common";
import { config } from "../lib/config";
import { useLive } from "../lib/live";
import { formatNumber } from "../lib/format";
import { toggleTrait, traitKey } from "../lib/traits";

export default function Gallery() {
  const { t, i18n } = useTranslation();
  const contract = config.contracts.nft;
  const [selected, setSelected] = useState<string[]>([]);
  const traits = useQuery({ queryKey: keys.traits(contract), queryFn: () => endpoints.traits(contract) });
  const tokens = useInfiniteQuery({
    queryKey: keys.collectionTokens(contract, { trait: selected }),
    queryFn: ({ pageParam }) => endpoints.collectionTokens(contract, { trait: selected }, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });
  useLive("nfts,nft_metadata", [keys.traits(contract), ["nfts", "collection"]]);
  const items = tokens.data?.pages.flatMap((p) => p.items) ?? [];
  const chosen = (traitType: string) => selected.filter((k) => k.startsWith(`${traitType}:`)).length;
  return (
    <div className="gallery">
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
        {selected.length > 0 && (
          <button type="button" className="btn" onClick={() => setSelected([])}>
            {t("gallery.clear")}
          </button>
        )}
      </form>
      <div>
        {tokens.isPending && <Loading />}
        {tokens.error && <ErrorNote error={tokens.error} />}
        {tokens.isSuccess && items.length === 0 && <p className="muted">{t("gallery.empty")}</p>}
        <ul className="grid plain" data-testid="gallery">
          {items.map((n) => (
            <li key={n.contract + n.tokenId} className="card">
              <Link href={`/nft/${n.contract}/${n.tokenId}`} className="card-link" data-testid="gallery-card">
                <NftArt contract={n.contract} tokenId={n.tokenId} metadata={n.metadata} />
                <div className="card-body">
                  <span className="title">
                    <NftTitle contract={n.contract} tokenId={n.tokenId} metadata={n.metadata} />
                  </span>
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
