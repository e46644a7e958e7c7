// Live updates from the api's Server-Sent Events stream (`/v1/stream?topics=`): every notice
// invalidates the queries it concerns, so pages refetch what changed.
import { useEffect } from "react";
import { useQueryClient, type QueryKey } from "@tanstack/react-query";

export function useLive(topics: string | null, invalidate: QueryKey[], onNotice?: (kind: string, id: string) => void): void {
  const client = useQueryClient();
  const key = JSON.stringify(invalidate);
  useEffect(() => {
    if (!topics || typeof EventSource === "undefined") return;
    const source = new EventSource(`/v1/stream?topics=${encodeURIComponent(topics)}`);
    const handle = (e: MessageEvent) => {
      let id = "";
      try {
        id = String(JSON.parse(e.data).id ?? "");
      } catch {
        /* a notice without a body still invalidates */
      }
      const refresh = () => {
        for (const k of JSON.parse(key) as QueryKey[]) void client.invalidateQueries({ queryKey: k });
      };
      refresh();
      // Once more shortly after: the notice may reach this page before the api's own cache drops
      // the entry.
      setTimeout(refresh, 1000);
      onNotice?.(e.type, id);
    };
    const kinds = new Set(topics.split(",").map((t) => t.split(":")[0]));
    kinds.forEach((k) => source.addEventListener(k, handle));
    source.addEventListener("message", handle);
    return () => source.close();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [topics, key, client]);
}
