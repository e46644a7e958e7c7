// Watches, on every page while a wallet is connected, the auctions it leads (from its portfolio
// and from any auction the app reads) over the api's stream, and raises the tray's outbid notice
// when another bidder takes the lead. Mounted once in the app shell; part of the first load.
import { useCallback, useEffect, useRef, useState } from "react";
import { useQuery, useQueryClient, type Query } from "@tanstack/react-query";
import { endpoints, keys } from "../api/endpoints";
import type { AuctionDetail, Portfolio } from "../api/types";
import { useLive } from "../lib/live";
import { leadingIds, observe, showOutbid, type Observation, type Seen } from "../lib/outbid";
import { useWallet } from "./Wallet";

export function OutbidWatcher() {
  const { address, connected } = useWallet();
  if (!connected || !address) return null;
  return <Watch key={address.toLowerCase()} me={address.toLowerCase()} />;
}

function Watch({ me }: { me: string }) {
  const client = useQueryClient();
  const known = useRef(new Map<string, Seen>());
  const [led, setLed] = useState("");
  // The portfolio names the auctions led before this page opened (the portfolio page shares it).
  useQuery({ queryKey: keys.portfolio(me), queryFn: () => endpoints.portfolio(me), staleTime: 60_000 });

  useEffect(() => {
    const cache = client.getQueryCache();
    const take = (query: Query) => {
      const [kind, id] = query.queryKey as [string, string];
      const data = query.state.data;
      if (!data || (kind !== "auction" && kind !== "portfolio")) return;
      let seen: Observation[] = [];
      if (kind === "auction" && typeof id === "string") seen = [data as AuctionDetail];
      else if (kind === "portfolio" && id === me) {
        const p = data as Portfolio;
        seen = [...(p.auctions?.leading ?? []), ...(p.auctions?.outbid ?? [])];
      }
      for (const o of seen) {
        const led = known.current.get(o.id)?.bidder?.toLowerCase() === me;
        const notice = observe(known.current, me, o);
        // A lead of the user's own making: the shared portfolio (read before it) is out of date.
        if (kind === "auction" && !led && known.current.get(o.id)?.bidder?.toLowerCase() === me) {
          void client.invalidateQueries({ queryKey: keys.portfolio(me) });
        }
        // The auction's own page says it in its own banner.
        if (notice && location.pathname !== `/auction/${notice.auction}`) showOutbid(notice);
      }
      setLed(leadingIds(known.current, me).slice(0, 50).map((i) => `auctions:${i}`).join(","));
    };
    cache.findAll({ queryKey: ["auction"] }).forEach(take);
    cache.findAll({ queryKey: keys.portfolio(me) }).forEach(take);
    return cache.subscribe((event) => {
      if (event.type === "updated" && event.action.type === "success") take(event.query);
    });
  }, [client, me]);

  // A notice about a led auction: read it now (and once more when the api's cache has dropped
  // the old entry); what it shows goes through `take` above.
  const timers = useRef<number[]>([]);
  const onNotice = useCallback(
    (kind: string, id: string) => {
      if (kind !== "auctions" || !id) return;
      const read = () =>
        void client.fetchQuery({ queryKey: keys.auction(id), queryFn: () => endpoints.auction(id), staleTime: 0 }).catch(() => undefined);
      read();
      timers.current.push(window.setTimeout(read, 1200));
    },
    [client],
  );
  useEffect(() => () => timers.current.forEach((t) => clearTimeout(t)), []);
  useLive(led || null, [keys.portfolio(me)], onNotice);
  return null;
}
