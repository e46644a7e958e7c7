// The collection's figures above the market's tabs (GET /v1/collections/{contract}/stats): ETH
// floor, volume over 24 hours, 7 days and all time (ETH, plus any other payment token that
// traded), sales over 24 hours, owners, supply, listed and on auction. Laid out before the
// numbers arrive, so what is below barely moves when they do.
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import { endpoints, keys } from "../api/endpoints";
import { ethFloor, windowSales, windowVolumes, type StatsWindow } from "../lib/stats";
import { formatDecimal, formatNumber } from "../lib/format";
import { ErrorNote } from "./common";

/** The collection's stats, shared by the strip and the gallery (payment token symbols). */
export function useCollectionStats(contract: string) {
  return useQuery({
    queryKey: keys.collectionStats(contract),
    queryFn: () => endpoints.collectionStats(contract),
    staleTime: 30_000,
  });
}

const FIGURES = ["floor", "volume24h", "sales24h", "volume7d", "volumeAll", "owners", "supply", "listed", "onAuction"] as const;
type Figure = (typeof FIGURES)[number];

export function CollectionStats({ contract }: { contract: string }) {
  const { t, i18n } = useTranslation();
  const q = useCollectionStats(contract);
  const lang = i18n.language;
  const s = q.data;
  const value = (figure: Figure): string => {
    if (!s) return "…";
    const volume = (w: StatsWindow) =>
      windowVolumes(s, w)
        .map((v) => `${formatDecimal(v.decimal, lang)} ${v.symbol}`)
        .join(" · ");
    const count = (n: number) => formatNumber(n, lang);
    switch (figure) {
      case "floor": {
        const floor = ethFloor(s);
        return floor === undefined ? "—" : `${formatDecimal(floor, lang)} ETH`;
      }
      case "volume24h":
        return volume("last24h");
      case "sales24h":
        return count(windowSales(s, "last24h"));
      case "volume7d":
        return volume("last7d");
      case "volumeAll":
        return volume("allTime");
      case "owners":
        return count(s.owners);
      case "supply":
        return count(s.supply);
      case "listed":
        return count(s.listed);
      case "onAuction":
        return count(s.onAuction);
    }
  };
  return (
    <section className="stats-strip" aria-labelledby="collection-stats-title" aria-busy={q.isPending} data-testid="collection-stats">
      <h2 id="collection-stats-title" className="sr-only">
        {t("stats.title")}
      </h2>
      {q.error ? (
        <ErrorNote error={q.error} />
      ) : (
        <dl className="stats">
          {FIGURES.map((figure) => (
            <div key={figure}>
              <dt>{t(`stats.${figure}`)}</dt>
              <dd data-testid={`stat-${figure}`}>{value(figure)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}
